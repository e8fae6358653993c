"""Consumer benchmark: events/s from a pre-filled JetStream stream to rows in each warehouse engine.

`traytic consumer` in its own process, pinned to CPU 0 (NATS, the ClickHouse server and this
driver on CPU 1). Prints events/s end to end beside its target, the split per step (decode,
enrich = identify + rows, of which sessions and rows, insert, visits), peak RSS (and the part of
it that is anonymous memory, not pages of the chDB library), and the ratio to the bare insert
speed of the same rows into the same engine, measured in the same run.

    uv run python bench/consumer.py [--events 200000] [--clickhouse-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import peak_rss_mb, start, stop  # noqa: E402
from tests.fixtures.clickhouse import ClickHouseServer, find_binary  # noqa: E402

from traytic.consumer.enricher import Enricher  # noqa: E402
from traytic.consumer.identify import Identified  # noqa: E402
from traytic.consumer.rows import build_rows  # noqa: E402
from traytic.consumer.settings import ConsumerSettings  # noqa: E402
from traytic.core import bus  # noqa: E402
from traytic.core.embedded_nats import EmbeddedNats  # noqa: E402
from traytic.core.events import (  # noqa: E402
    CustomEvent,
    IngestBatch,
    Pageview,
    ReceivedBeacon,
    Vital,
    encode_batch,
)
from traytic.warehouse import Warehouse, WarehouseSettings, open_warehouse  # noqa: E402

GEOIP = REPO / "tests" / "data" / "maxmind" / "GeoIP2-City-Test.mmdb"
BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel {v}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v}.1 Safari/605.1.15",
]
REFERRERS = [
    "",
    "",
    "https://www.google.com/",
    "https://news.ycombinator.com/",
    "https://t.co/abc",
    "https://github.com/x",
]


def make_batches(events: int, seed: int = 11) -> list[IngestBatch]:
    """~478 distinct user agents, 10k IPs, 20 events per visitor on average, 10 beacons/message."""
    rnd = random.Random(seed)
    agents = [template.format(v=v) for template in BROWSERS for v in range(40, 136)][:478]
    ips = [
        f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
        for _ in range(10_000)
    ]
    now = time.time()
    batches, made, n = [], 0, 0
    while made < events:
        beacons = []
        for _ in range(10):
            page = f"https://example.com/{rnd.choice(['', 'pricing', 'blog/hello', 'docs/start', 'about'])}"
            kinds = [Pageview(url=page, referrer=rnd.choice(REFERRERS))]
            if rnd.random() < 0.3:
                kinds.append(Vital(name="LCP", value=rnd.uniform(500, 4000), url=page))
            if rnd.random() < 0.2:
                kinds.append(
                    CustomEvent(
                        name="signup", url=page, props={"plan": rnd.choice(["free", "pro"])}
                    )
                )
            visitor = rnd.randrange(events // 20 or 1)
            beacons.append(
                ReceivedBeacon(
                    f"st_{visitor % 5}",
                    now,
                    ips[visitor % len(ips)],
                    agents[visitor % len(agents)],
                    "en-US,en;q=0.9",
                    1280,
                    kinds,
                )
            )
            made += len(kinds)
        batches.append(IngestBatch(f"bench-{n}", beacons))
        n += 1
    return batches


async def prefill(nc, settings: bus.BusSettings, batches: list[IngestBatch]) -> int:  # type: ignore[no-untyped-def]
    js = nc.jetstream()
    await bus.ensure_stream(js, settings)
    subject = bus.names(settings.namespace).events_subject
    for first in range(0, len(batches), 200):
        await asyncio.gather(
            *(
                bus.publish_with_id(js, subject, encode_batch(b), b.batch_id)
                for b in batches[first : first + 200]
            )
        )
    return sum(len(b.events) for batch in batches for b in batch.beacons)


async def bare_insert(
    warehouse: Warehouse, batches: list[IngestBatch], server_pid: int | None = None
) -> tuple[float, float]:
    """Insert the same rows the consumer produced, without the pipeline: the baseline, as
    rows/s and CPU seconds per row (this process, where chDB runs, or the server), in inserts
    as large as the consumer's batches."""
    identified = [
        Identified(batch.batch_id + "x", index, beacon, 1, 1, int(beacon.received_at))
        for batch in batches
        for index, beacon in enumerate(batch.beacons)
    ]
    rows = build_rows(identified, Enricher(str(GEOIP))).rows
    await warehouse.execute("TRUNCATE TABLE events")
    cpu = cpu_seconds(server_pid) if server_pid else time.process_time()
    started = time.perf_counter()
    size = ConsumerSettings().batch_max_events  # inserts as large as the consumer's batches
    for offset in range(0, len(rows), size):
        await warehouse.insert_events(rows[offset : offset + size])
    elapsed = time.perf_counter() - started
    cpu = (cpu_seconds(server_pid) if server_pid else time.process_time()) - cpu
    return len(rows) / elapsed, cpu / len(rows)


async def run_engine(
    name: str,
    nats_url: str,
    warehouse_settings: WarehouseSettings,
    batches: list[IngestBatch],
    work: Path,
    cpu: str | None,
    server_pid: int | None = None,
    profile: Path | None = None,
) -> dict[str, float]:
    """`traytic consumer` as deployed (its own process, pinned), draining a pre-filled stream."""
    settings = bus.BusSettings(nats_url=nats_url, namespace=f"bench{name}")
    nc = await bus.connect(settings, name="bench")
    total = await prefill(nc, settings, batches)
    warehouse = open_warehouse(warehouse_settings)
    await warehouse.drop_database()
    await warehouse.migrate()
    if warehouse_settings.clickhouse_url is None:
        await warehouse.close()  # chDB: one process per data directory, the consumer's now
    env = {
        "TRAYTIC_NATS_URL": nats_url,
        "TRAYTIC_NAMESPACE": settings.namespace,
        "TRAYTIC_CLICKHOUSE_URL": warehouse_settings.clickhouse_url or "",
        "TRAYTIC_CLICKHOUSE_DATABASE": warehouse_settings.clickhouse_database,
        "TRAYTIC_CHDB_PATH": warehouse_settings.chdb_path,
        "TRAYTIC_GEOIP_PATH": str(GEOIP),
        "TRAYTIC_LOG_FORMAT": "json",
    }
    if not warehouse_settings.clickhouse_url:
        del env["TRAYTIC_CLICKHOUSE_URL"]
    log = work / f"consumer-{name}.log"
    js = nc.jetstream()
    stream = bus.names(settings.namespace).stream
    command = [sys.executable, "-m", "traytic.cli.main", "consumer"]
    if profile is not None:  # cProfile slows the consumer: its figures are for the split only
        command[1:1] = ["-m", "cProfile", "-o", str(profile / f"consumer-{name}.prof")]
    process = start(command, env, cpu, log)
    initial = (await js.stream_info(stream)).state.messages
    started, remaining_events = 0.0, total
    anon = consumer_cpu_at_start = server_cpu_at_start = 0.0
    while True:
        await asyncio.sleep(0.01)
        assert process.poll() is None, log.read_text()
        anon = max(anon, anon_rss_mb(process.pid))
        messages = (await js.stream_info(stream)).state.messages
        if not started and messages < initial:
            # Start the clock at the first acked batch: process start-up (imports, chDB, the
            # UA regexes) is not throughput. Events still in the stream then are what we time.
            started = time.perf_counter()
            remaining_events = total * messages // initial
            consumer_cpu_at_start = cpu_seconds(process.pid)
            server_cpu_at_start = cpu_seconds(server_pid) if server_pid else 0.0
        if messages == 0:  # work queue: a message is gone once acked, after its insert
            break
    elapsed = time.perf_counter() - started
    rss = peak_rss_mb(process.pid)
    consumer_cpu = cpu_seconds(process.pid) - consumer_cpu_at_start
    stop(process)
    seconds: dict[str, float] = {}
    visits: dict[str, int] = {}
    inserts = 0
    for line in log.read_text().splitlines():
        if '"consumer_stopped"' in line:
            stopped = json.loads(line)
            seconds, visits = stopped["seconds"], stopped.get("visits", {})
            inserts = stopped.get("inserts", 0)
    server_cpu = cpu_seconds(server_pid) - server_cpu_at_start if server_pid else 0.0
    if warehouse_settings.clickhouse_url is None:
        warehouse = open_warehouse(warehouse_settings)
    [row] = await warehouse.query("SELECT count() AS n FROM events")
    assert int(row["n"]) == total, (row, total)
    baseline, baseline_cpu = await bare_insert(warehouse, batches, server_pid)
    await warehouse.drop_database()
    await warehouse.close()
    await nc.close()
    return {
        "events": total,
        "eps": remaining_events / elapsed,
        "timed_events": remaining_events,
        "baseline": baseline,
        "baseline_cpu": baseline_cpu,
        "elapsed": elapsed,
        "rss": rss,
        "anon": anon,
        "cpu": consumer_cpu,
        "server_cpu": server_cpu,
        "visits_memory": visits.get("memory", 0),
        "visits_recomputed": visits.get("recomputed", 0),
        "inserts": inserts,
        **seconds,
    }


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (all its threads)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def anon_rss_mb(pid: int) -> float:
    """The process's anonymous resident memory now (not file pages such as chDB's library)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--clickhouse-url")
    parser.add_argument(
        "--profile", type=Path, help="write each consumer's cProfile stats into this folder"
    )
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    pinned = len(os.sched_getaffinity(0)) >= 2
    work = Path(tempfile.mkdtemp(prefix="traytic-bench-consumer-"))
    nats = EmbeddedNats(work / "nats")
    nats.start()
    server = None
    url = args.clickhouse_url
    if url is None and find_binary():
        server = ClickHouseServer(find_binary(), work / "clickhouse")  # type: ignore[arg-type]
        server.start()
        url = server.url
    if pinned:  # the consumer alone on CPU 0; NATS, ClickHouse and this driver on CPU 1
        os.system(f"taskset -pc 1 {nats._process.pid} >/dev/null")  # type: ignore[union-attr]
        if server is not None and server._process is not None:
            os.system(f"taskset -apc 1 {server._process.pid} >/dev/null")
        os.sched_setaffinity(0, {1})
    cpu = "0" if pinned else None
    batches = make_batches(args.events)
    results = {}
    try:
        results["chDB (embedded)"] = asyncio.run(
            run_engine(
                "chdb",
                nats.url,
                WarehouseSettings(chdb_path=str(work / "chdb"), clickhouse_database="bench"),
                batches,
                work,
                cpu,
                profile=args.profile,
            )
        )
        if url:
            results["ClickHouse server"] = asyncio.run(
                run_engine(
                    "server",
                    nats.url,
                    WarehouseSettings(clickhouse_url=url, clickhouse_database="bench"),
                    batches,
                    work,
                    cpu,
                    server._process.pid if server is not None and server._process else None,
                    profile=args.profile,
                )
            )
    finally:
        if server is not None:
            server.stop()
        nats.stop()
    targets = {"chDB (embedded)": 50_000, "ClickHouse server": 30_000}
    print(
        f"\n== consumer: pre-filled stream -> rows, one consumer on CPU 0, {args.events} events,"
        f" batches of up to {ConsumerSettings().batch_max_events:,} (the consumer's settings) =="
    )
    print(
        f"{'engine':20} {'events/s':>9} {'target':>7} {'bare insert/s':>13} {'ratio':>6} {'total s':>7}"
        f" {'peak RSS':>8} {'(anon)':>7} {'target':>6}"
    )
    for name, r in results.items():
        print(
            f"{name:20} {r['eps']:9.0f} {targets[name]:>7,} {r['baseline']:13.0f}"
            f" {r['eps'] / r['baseline']:6.2f} {r['elapsed']:7.2f} {r['rss']:6.0f}MB {r['anon']:5.0f}MB"
            f" {'300MB' if name.startswith('chDB') else '':>6}"
        )
    print("\nCPU per event (robust on a shared machine: what each event costs, whoever else runs):")
    for name, r in results.items():
        server = (
            f", ClickHouse server {r['server_cpu'] / r['timed_events'] * 1e6:.0f} us"
            if r["server_cpu"]
            else " (chDB's insert included)"
        )
        print(
            f"  {name:20} consumer {r['cpu'] / r['timed_events'] * 1e6:.0f} us{server};"
            f" one core at that cost: {r['timed_events'] / r['cpu']:,.0f} events/s;"
            f" bare insert {r['baseline_cpu'] * 1e6:.0f} us a row"
        )
    print("\nseconds per step (wall time inside the consumer):")
    for name, r in results.items():
        steps = ", ".join(
            f"{label} {r.get(key, 0):.2f}"
            for label, key in (
                ("decode", "decode"),
                ("enrich", "enrich"),
                ("of which sessions", "sessions"),
                ("rows", "rows"),
                ("insert", "insert"),
                ("visits", "sessions_refresh"),
            )
        )
        print(
            f"  {name:20} {steps}; {r['inserts']:.0f} inserts of {r['events'] / max(r['inserts'], 1):,.0f}"
            f" events on average; visits written from memory {r['visits_memory']},"
            f" recomputed {r['visits_recomputed']}"
        )
    print(
        "(the consumer is `traytic consumer` in its own process; enrich = identify (bots, salts,"
        " sessions) + rows;"
    )
    print(" insert and visits run beside the next batch's enrich; bare insert = the same rows,")
    print(" no pipeline, into the same engine in the same run; anon = RSS less file pages)")
    print("targets: >= 50k events/s into chDB, >= 30k into the server, RSS <= 300 MB")


if __name__ == "__main__":
    main()
