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

import psutil
from common import cpu_seconds, peak_rss_mb, start, stop, wait_http

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


def profile(
    pid: int, out: Path, url: str, body: str, args: argparse.Namespace, load_cpu: str | None
) -> None:
    """Sample the gateway's worker under one more wrk run: the thread holding the GIL (the
    event loop's, or Granian's when it builds requests), with native frames."""
    worker = max(psutil.Process(pid).children(recursive=True), key=lambda p: p.cpu_times().user)
    record = ["py-spy", "record", "--gil", "--native", "-r", "250", "-f", "raw"]
    spy = subprocess.Popen(
        [*record, "-o", str(out), "-d", str(args.seconds), "-p", str(worker.pid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    wrk(url, body, args.seconds, args.connections, load_cpu or "0")
    spy.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--profile",
        type=Path,
        help="after the measured runs, one more 1-event run under py-spy (must be on PATH),"
        " its collapsed stacks written to this file",
    )
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
        cpu_before = cpu_seconds(bare.pid)
        results["bare granian 204"] = wrk(
            f"http://127.0.0.1:{port}/",
            beacon_body(site_id, 1),
            args.seconds,
            args.connections,
            load_cpu or "0",
        )
        results["bare granian 204"]["cpu_s"] = cpu_seconds(bare.pid) - cpu_before
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
            cpu_before = cpu_seconds(gateway.pid)
            result = wrk(
                url, beacon_body(site_id, events), args.seconds, args.connections, load_cpu or "0"
            )
            result["cpu_s"] = cpu_seconds(gateway.pid) - cpu_before
            messages = asyncio.run(stream_messages(settings))
            result["beacons_per_msg"] = result["requests"] / max(messages, 1)
            result["rss_mb"] = peak_rss_mb(gateway.pid)
            results[f"gateway {events}-event beacons"] = result
        if args.profile:
            profile(gateway.pid, args.profile, url, beacon_body(site_id, 1), args, load_cpu)
        stop(gateway)
    finally:
        nats.stop()
        shutil.rmtree(work, ignore_errors=True)

    base = results["bare granian 204"]["rps"]
    print(
        f"\n== gateway: POST /collect, 1 Granian worker on CPU {server_cpu}, wrk -c{args.connections} + NATS on CPU {load_cpu}, {args.seconds}s each =="
    )
    print(
        f"{'scenario':28} {'req/s':>9} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} {'CPU busy':>8} {'beacons/msg':>11} {'peak RSS':>9} {'errors':>6}"
    )
    for name, r in results.items():
        per_msg = f"{r['beacons_per_msg']:.1f}" if "beacons_per_msg" in r else "-"
        # The server's own CPU (user + system, every process of its tree) per request, and the
        # share of its one core it used: below ~95% the server was waiting (on its peers or on
        # a machine busy with other work), not short of CPU.
        cpu_us = r["cpu_s"] / r["requests"] * 1e6
        busy = r["cpu_s"] / (r["requests"] / r["rps"])
        print(
            f"{name:28} {r['rps']:9.0f} {r['rps'] / base:6.2f} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f} {cpu_us:10.1f} {busy:7.0%} {per_msg:>11} {r['rss_mb']:7.0f}MB {int(r['errors']):6d}"
        )
    bare_cpu = results["bare granian 204"]["cpu_s"] / results["bare granian 204"]["requests"]
    gateway_cpu = (
        results["gateway 1-event beacons"]["cpu_s"] / results["gateway 1-event beacons"]["requests"]
    )
    # Below ~95% busy a server waited (for wrk and NATS on the other core, or for the other
    # work of a shared machine), and its CPU per request also holds the cost of being woken up.
    print(
        f"CPU per 1-event beacon: gateway {gateway_cpu * 1e6:.1f} us, bare {bare_cpu * 1e6:.1f} us"
        f" ({(gateway_cpu - bare_cpu) * 1e6:+.1f} us); bare/gateway = {bare_cpu / gateway_cpu:.2f},"
        " the req/s ratio if both were CPU-bound"
    )
    print(
        "checks on: page hostname, datacenter ranges, rate limits per address and per site "
        "(shared over NATS), body decoding"
    )
    print("targets: ratio >= 0.75 for 1-event beacons, p99 <= 10 ms, RSS <= 120 MB")


if __name__ == "__main__":
    main()
