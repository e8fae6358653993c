"""Gateway benchmark: req/s and latency of `POST /collect` (acked publishes) against a bare
Granian ASGI app answering 204, measured in the same run on the same machine.

Granian (one worker) is pinned to CPU 0; wrk and nats-server share CPU 1 (64 connections, loopback).
Prints req/s, p50/p99, the ratio to the baseline, beacons per JetStream message and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import peak_rss_mb, start, stop, wait_http

from traytic.core import bus
from traytic.core.embedded_nats import EmbeddedNats, free_port
from traytic.core.sites import create_site

ROOT = Path(__file__).resolve().parent
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"


def beacon_body(site_id: str, events: int) -> str:
    kinds = [
        {
            "type": "pageview",
            "url": "https://example.com/blog/hello",
            "referrer": "https://google.com/",
        },
        {
            "type": "event",
            "name": "signup",
            "url": "https://example.com/pricing",
            "props": {"plan": "pro"},
        },
        {"type": "vital", "name": "LCP", "value": 1830.5, "url": "https://example.com/blog/hello"},
    ]
    return json.dumps(
        {"siteId": site_id, "screen": 1440, "events": [kinds[i % 3] for i in range(events)]}
    )


def wrk(url: str, body: str | None, seconds: int, connections: int, cpu: str) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write('wrk.method = "POST"\n')
        script.write('wrk.headers["Content-Type"] = "text/plain"\n')
        script.write(f'wrk.headers["User-Agent"] = {json.dumps(UA)}\n')
        if body is not None:
            script.write(f"wrk.body = {json.dumps(body)}\n")
        script.write(
            "done = function(summary, latency, requests)\n"
            '  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,'
            " latency:percentile(50), latency:percentile(99), summary.errors.status + summary.errors.connect"
            " + summary.errors.read + summary.errors.write + summary.errors.timeout))\nend\n"
        )
    out = subprocess.run(
        [
            "taskset",
            "-c",
            cpu,
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            script.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    requests, duration_us, p50, p99, errors = (
        int(x) for x in re.search(r"RESULT (.*)", out).group(1).split()
    )  # type: ignore[union-attr]
    return {
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "requests": requests,
        "errors": errors,
    }


async def setup_site(settings: bus.BusSettings) -> str:
    nc = await bus.connect(settings, name="bench")
    kv = await bus.ensure_sites_bucket(nc.jetstream(), settings)
    site = await create_site(kv, "example.com")  # the beacons' pages are on it
    await nc.close()
    return site.site_id


async def stream_messages(settings: bus.BusSettings) -> int:
    nc = await bus.connect(settings, name="bench")
    js = nc.jetstream()
    info = await js.stream_info(bus.names(settings.namespace).stream)
    await js.purge_stream(bus.names(settings.namespace).stream)
    await nc.close()
    return int(info.state.messages)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/gateway.py needs wrk: apt-get install wrk")
    cpus = os.sched_getaffinity(0)
    server_cpu, load_cpu = ("0", "1") if len(cpus) >= 2 else (None, None)

    work = Path(tempfile.mkdtemp(prefix="traytic-bench-"))
    nats = EmbeddedNats(work / "nats")
    nats.start()
    if load_cpu:
        subprocess.run(
            ["taskset", "-pc", load_cpu, str(nats._process.pid)], capture_output=True, check=False
        )  # type: ignore[union-attr]
    settings = bus.BusSettings(nats_url=nats.url, namespace="bench")
    site_id = asyncio.run(setup_site(settings))
    results: dict[str, dict[str, float]] = {}
    try:
        port = free_port()
        bare = start(
            [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--port",
                str(port),
                "--workers",
                "1",
                "--no-ws",
                "bare_app:app",
            ],
            {"PYTHONPATH": str(ROOT)},
            server_cpu,
            work / "bare.log",
        )
        wait_http(f"http://127.0.0.1:{port}/", bare, work / "bare.log")
        wrk(f"http://127.0.0.1:{port}/", "{}", 2, args.connections, load_cpu or "0")  # warm-up
        results["bare granian 204"] = wrk(
            f"http://127.0.0.1:{port}/",
            beacon_body(site_id, 1),
            args.seconds,
            args.connections,
            load_cpu or "0",
        )
        results["bare granian 204"]["rss_mb"] = peak_rss_mb(bare.pid)
        stop(bare)

        port = free_port()
        env = {
            "TRAYTIC_NATS_URL": nats.url,
            "TRAYTIC_NAMESPACE": "bench",
            "TRAYTIC_PORT": str(port),
            "TRAYTIC_METRICS_PORT": "0",
            "TRAYTIC_LOG_FORMAT": "json",
            # Every check runs on every beacon: wrk's one address is limited like any client
            # (not exempt as loopback), with limits it never reaches.
            "TRAYTIC_RATE_LIMIT_EXEMPT": "",
            "TRAYTIC_RATE_LIMIT_IP_PER_S": "1000000",
            "TRAYTIC_RATE_LIMIT_IP_BURST": "1000000",
            "TRAYTIC_RATE_LIMIT_SITE_PER_S": "1000000",
            "TRAYTIC_RATE_LIMIT_SITE_BURST": "1000000",
        }
        gateway = start(
            [sys.executable, "-m", "traytic.cli.main", "gateway"],
            env,
            server_cpu,
            work / "gateway.log",
        )
        wait_http(f"http://127.0.0.1:{port}/readyz", gateway, work / "gateway.log", timeout=180)
        url = f"http://127.0.0.1:{port}/collect"
        wrk(url, beacon_body(site_id, 1), 2, args.connections, load_cpu or "0")
        asyncio.run(stream_messages(settings))
        for events in (1, 20):
            result = wrk(
                url, beacon_body(site_id, events), args.seconds, args.connections, load_cpu or "0"
            )
            messages = asyncio.run(stream_messages(settings))
            result["beacons_per_msg"] = result["requests"] / max(messages, 1)
            result["rss_mb"] = peak_rss_mb(gateway.pid)
            results[f"gateway {events}-event beacons"] = result
        stop(gateway)
    finally:
        nats.stop()
        shutil.rmtree(work, ignore_errors=True)

    base = results["bare granian 204"]["rps"]
    print(
        f"\n== gateway: POST /collect, 1 Granian worker on CPU {server_cpu}, wrk -c{args.connections} + NATS on CPU {load_cpu}, {args.seconds}s each =="
    )
    print(
        f"{'scenario':28} {'req/s':>9} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} {'beacons/msg':>11} {'peak RSS':>9} {'errors':>6}"
    )
    for name, r in results.items():
        per_msg = f"{r['beacons_per_msg']:.1f}" if "beacons_per_msg" in r else "-"
        print(
            f"{name:28} {r['rps']:9.0f} {r['rps'] / base:6.2f} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f} {per_msg:>11} {r['rss_mb']:7.0f}MB {int(r['errors']):6d}"
        )
    print(
        "checks on: page hostname, datacenter ranges, rate limits per address and per site "
        "(shared over NATS), body decoding"
    )
    print("targets: ratio >= 0.75 for 1-event beacons, p99 <= 10 ms, RSS <= 120 MB")


if __name__ == "__main__":
    main()
