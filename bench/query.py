"""Query service speed at scale, on both ClickHouse engines, and live latency.

    uv run python bench/query.py [--events 2000000] [--engines chdb,server] [--clients 50]
                                 [--stats-only]

1. Stats: `--events` generated inside the engine (bench/dataset.py: session-shaped, 90% on the
   benchmarked site over 30 days, the rest on noise sites), merged as background merges would
   (OPTIMIZE FINAL), then the p50 of each report for 30 days in UTC and in Europe/Berlin
   (whose days start inside UTC days), beside its target and two baselines of the same run:
   `SELECT count()` of the site and the same report answered from the raw events alone (the
   rollups switched off). Then the reports with visit figures with the sampling limit at a
   tenth of the site's events (those figures read from a sample of `sessions`), and filtered
   reports (a country, a page), exact and sampled at the same limit. `make bench` runs 2M events (minutes);
   `make bench-large` 10M on both engines and 100M on the server (see the README).
2. Through the HTTP app (chDB, in-process ASGI, API key).
3. SSE fan-out: a LiveBatch published on NATS → N streams, beside N bare NATS subscribers.
4. Beacon → SSE: `traytic dev` as a process; beacons POSTed to /collect one at a time, each
   timed until it arrives on /api/stream, beside the POST's own round trip.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.dataset import generate  # noqa: E402
from tests.fixtures.clickhouse import ClickHouseServer, find_binary  # noqa: E402
from tests.query.conftest import fast_settings  # noqa: E402
from tests.query.test_stream import serving  # noqa: E402

from traytic.core import bus  # noqa: E402
from traytic.core.embedded_nats import EmbeddedNats, free_port  # noqa: E402
from traytic.core.events import JSON_ENCODER, LiveBatch, LiveEvent  # noqa: E402
from traytic.db import DbSettings  # noqa: E402
from traytic.query.app import create_app  # noqa: E402
from traytic.warehouse import Warehouse, WarehouseSettings  # noqa: E402
from traytic.warehouse.chdb_backend import ChdbWarehouse  # noqa: E402
from traytic.warehouse.errors import WarehouseError, WarehouseUnavailable  # noqa: E402
from traytic.warehouse.server import ServerWarehouse  # noqa: E402
from traytic.warehouse.stats import Filters, Stats, StatsQuery, plan  # noqa: E402

ENDPOINTS = (
    "overview", "timeseries", "pages", "sources", "countries", "devices", "vitals", "live",
    "events",
)  # fmt: skip
RUNS = 9
RAW_RUNS = 3
RAW_ONCE_ABOVE = 20_000_000
"""Past this many events the raw baseline (seconds to minutes a report) is timed once, cold."""
HTTP_RUNS = 3
FANOUT_MESSAGES = 40
BEACONS = 40
ZONES = ("UTC", "Europe/Berlin")
TABLES = ("events", "traffic_hours", "traffic_quarters", "daily_stats", "sessions", "event_stats")
REPORTS = tuple(name for name in ENDPOINTS if name != "live")
CHDB_TARGET_MS = 100.0
FILTERED_TARGET_MS = 300.0
SERVER_TARGET_TIMES_COUNT = 3.0
FILTERS = {"country=DE": Filters.of(country="DE"), "page=/p/1": Filters.of(path="/p/1")}
FILTERED_REPORTS = ("overview", "pages", "countries")
VISIT_REPORTS = ("overview", "timeseries", "pages")
"""The reports with visit figures: read from `sessions`, sampled past the limit unfiltered too."""


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def line(label: str, samples_ms: list[float], baseline_p50: float | None = None) -> str:
    p50, p95 = percentiles(samples_ms)
    ratio = f"   {p50 / baseline_p50:6.1f}x baseline" if baseline_p50 else ""
    return f"  {label:28s} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms{ratio}"


async def timed(
    call: Callable[[], Awaitable[Any]], runs: int, *, warm_up: bool = True
) -> list[float]:
    if warm_up:
        await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def live_event(marker: str) -> LiveEvent:
    return LiveEvent(
        ts=int(time.time() * 1000), type="pageview", name="", hostname="example.com",
        pathname=marker, referrer_source="", channel="Direct", country="DE", city="Berlin",
        browser="Firefox", os="Linux", device="desktop", visitor_id="v",
    )  # fmt: skip


class Arrivals:
    """When each published marker reached each receiver."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.waiting: dict[str, int] = {}
        self.done = asyncio.Event()

    def publish(self, marker: str, receivers: int) -> None:
        self.sent[marker] = time.perf_counter()
        self.waiting[marker] = receivers
        self.done.clear()

    def seen(self, chunk: str) -> None:
        now = time.perf_counter()
        for marker, sent in self.sent.items():
            if marker in chunk:
                self.latencies.append((now - sent) * 1000)
                self.waiting[marker] -= 1
                if self.waiting[marker] == 0:
                    self.done.set()


async def sse_client(app: Any, path: str, headers: dict[str, str], arrivals: Arrivals) -> Any:
    """An SSE response driven straight through ASGI (no sockets), reporting each body chunk."""
    stop = asyncio.Event()
    started = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await stop.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message
        elif message["type"] == "http.response.body":
            body = message.get("body", b"").decode()
            if "retry:" in body:
                started.set()
            arrivals.seen(body)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "client": ("127.0.0.1", 50000), "server": ("bench", 80),
        "headers": [(b"host", b"bench")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip
    task = asyncio.create_task(app(scope, receive, send))
    await asyncio.wait_for(started.wait(), 10)
    return stop, task


async def fan_out(
    nc: Any, subject: str, site_id: str, receivers: int, arrivals: Arrivals
) -> list[float]:
    for i in range(FANOUT_MESSAGES):
        marker = f"/m/{i}/{time.perf_counter_ns()}"
        batch = JSON_ENCODER.encode(LiveBatch(site_id=site_id, events=[live_event(marker)]))
        arrivals.publish(marker, receivers)
        await nc.publish(subject, batch)
        await asyncio.wait_for(arrivals.done.wait(), 10)
        await asyncio.sleep(0.01)
    return arrivals.latencies


@contextlib.contextmanager
def raw_events_only() -> Iterator[None]:
    """The plan with every rollup off: each report answered from `events` (the baseline)."""
    saved = plan.traffic_grain, plan.rollup_days
    plan.traffic_grain = lambda query: None  # type: ignore[assignment]
    plan.rollup_days = lambda query: None  # type: ignore[assignment]
    try:
        yield
    finally:
        plan.traffic_grain, plan.rollup_days = saved


async def p50_or_failure(
    call: Callable[[], Awaitable[Any]], runs: int, *, warm_up: bool = True
) -> str:
    """A baseline's p50, or why the engine refused it (at 100M events a raw report can pass
    the test server's memory limit); the bench goes on either way."""
    try:
        return f"{percentiles(await timed(call, runs, warm_up=warm_up))[0]:8.1f}"
    except (WarehouseError, WarehouseUnavailable) as failure:
        return f"failed ({str(failure).splitlines()[0][:60]})"


def verdict(p50: float, target: float) -> str:
    return f"target <= {target:6.0f} ms  {'ok' if p50 <= target else 'MISSED'}"


async def stats_bench(store: Warehouse, engine: str, events: int, site_id: str) -> None:
    t0 = time.perf_counter()
    on_site = await generate(store, site_id=site_id, events=events, end_ts=int(time.time()))
    t1 = time.perf_counter()
    for table in TABLES:
        await store.execute(f"OPTIMIZE TABLE {table} FINAL")
    t2 = time.perf_counter()
    print(
        f"{engine}: {on_site:,} events on the site (+ noise) over 30 days,"
        f" generated in {t1 - t0:.0f} s, merged in {t2 - t1:.0f} s"
    )
    stats = Stats(store)
    count_sql = "SELECT count() AS n FROM events WHERE site_id = {site:String}"
    baseline = await timed(lambda: store.query(count_sql, {"site": site_id}), RUNS)
    base_p50 = percentiles(baseline)[0]
    server = not isinstance(store, ChdbWarehouse)
    target = SERVER_TARGET_TIMES_COUNT * base_p50 if server else CHDB_TARGET_MS
    once = events > RAW_ONCE_ABOVE
    print(f"  stats, 30 days, Stats called directly (p50 of {RUNS} runs; raw: the same report")
    print("  from the raw events alone, measured in this run):")
    print(line("baseline SELECT count()", baseline))
    for tz in ZONES:
        query = StatsQuery.build(site_id, period="30d", tz=tz)
        for name in REPORTS:
            method = getattr(stats, name)
            fast = percentiles(await timed(lambda m=method, q=query: m(q), RUNS))[0]
            with raw_events_only():
                raw = await p50_or_failure(
                    lambda m=method, q=query: m(q), 1 if once else RAW_RUNS, warm_up=not once
                )
            print(
                f"  {name + ' (' + tz + ')':28s} p50 {fast:8.1f} ms   raw {raw} ms"
                f"   {verdict(fast, target)}"
            )
    limit = on_site // 10
    print(
        f"  unfiltered, 30 days: the visit figures read from a sample of `sessions` past"
        f" {limit:,} events (p50 of {RUNS}):"
    )
    for tz in ZONES:
        sampled = StatsQuery.build(site_id, period="30d", tz=tz, sample_above=limit)
        for name in VISIT_REPORTS:
            method = getattr(stats, name)
            part = percentiles(await timed(lambda m=method, q=sampled: m(q), RUNS))[0]
            share = (await method(sampled)).sampled
            print(
                f"  {name + ' (' + tz + ')':28s} p50 {part:8.1f} ms   sampled ({share})"
                f"   {verdict(part, target)}"
            )
    print(
        f"  filtered, 30 days, UTC: exact, and sampled past {limit:,} events (p50 of {RUNS};"
        f" exact once, cold, past {RAW_ONCE_ABOVE:,} events):"
    )
    for label, filters in FILTERS.items():
        exact = StatsQuery.build(site_id, period="30d", filters=filters)
        sampled = StatsQuery.build(site_id, period="30d", filters=filters, sample_above=limit)
        for name in FILTERED_REPORTS:
            method = getattr(stats, name)
            whole = await p50_or_failure(
                lambda m=method, q=exact: m(q), 1 if once else RUNS, warm_up=not once
            )
            part = percentiles(await timed(lambda m=method, q=sampled: m(q), RUNS))[0]
            share = (await method(sampled)).sampled
            print(
                f"  {name + ' ' + label:28s} p50 {whole} ms   sampled ({share}) {part:8.1f} ms"
                f"   {verdict(part, FILTERED_TARGET_MS)}"
            )


async def beacon_to_sse(beacons: int) -> None:
    """`traytic dev` as a newcomer runs it: POST /collect → the event on /api/stream."""
    with tempfile.TemporaryDirectory() as root:
        data = Path(root) / "data"
        port = free_port()
        env = {**os.environ, "TRAYTIC_DATA_DIR": str(data), "TRAYTIC_PORT": str(port)}
        env.pop("TRAYTIC_CLICKHOUSE_URL", None)
        log = Path(root) / "dev.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "traytic.cli.main", "dev"],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 90
            while not (data / "dev.json").exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("traytic dev did not start:\n" + log.read_text())
                await asyncio.sleep(0.2)
            info = json.loads((data / "dev.json").read_text())
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {info['api_key']}"}
            arrived: dict[str, float] = {}
            got = asyncio.Event()

            async with httpx.AsyncClient(timeout=30) as client:

                async def listen() -> None:
                    url = f"{base}/api/stream/{info['site_id']}"
                    async with client.stream("GET", url, headers=headers) as response:
                        async for chunk in response.aiter_text():
                            for marker in list(sent):
                                if marker in chunk and marker not in arrived:
                                    arrived[marker] = time.perf_counter()
                                    got.set()

                sent: dict[str, float] = {}
                listener = asyncio.create_task(listen())
                await asyncio.sleep(1.0)
                posts, latencies = [], []
                for n in range(beacons):
                    marker = f"/bench/{n}/{time.monotonic_ns()}"
                    body = {"siteId": info["site_id"], "events": [
                        {"type": "pageview", "url": f"http://localhost{marker}"}]}  # fmt: skip
                    got.clear()
                    sent[marker] = time.perf_counter()
                    response = await client.post(
                        f"{base}/collect", content=json.dumps(body),
                        headers={"content-type": "text/plain", "user-agent": "Mozilla/5.0 bench"},
                    )  # fmt: skip
                    posts.append((time.perf_counter() - sent[marker]) * 1000)
                    assert response.status_code == 204, response.text
                    await asyncio.wait_for(got.wait(), 10)
                    latencies.append((arrived[marker] - sent[marker]) * 1000)
                    await asyncio.sleep(0.05 + (n % 5) * 0.09)  # arrivals spread over a batch
                listener.cancel()
            print(f"beacon → SSE through `traytic dev` ({beacons} beacons, one at a time):")
            print(line("baseline: POST /collect → 204", posts))
            print(line("POST /collect → event on SSE", latencies, percentiles(posts)[0]))
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument(
        "--stats-only", action="store_true", help="only the stats part (make bench-large)"
    )
    parser.add_argument("--engines", default="chdb,server")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--beacons", type=int, default=BEACONS)
    args = parser.parse_args()
    engines = args.engines.split(",")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        if "server" in engines:
            binary = find_binary()
            if binary is None:
                print("server: skipped, no clickhouse-server installed")
            else:
                server = ClickHouseServer(binary, Path(root) / "clickhouse")
                server.start()
                remote = ServerWarehouse(
                    WarehouseSettings(
                        clickhouse_url=server.url,
                        clickhouse_database="bench",
                        clickhouse_timeout=900.0,  # generating millions of rows in one INSERT
                    )
                )
                try:
                    await remote.migrate()
                    await stats_bench(remote, "ClickHouse 18.16 server", args.events, "st_bench")
                finally:
                    await remote.close()
                    server.stop()
        if args.stats_only:
            if "chdb" in engines:
                alone = ChdbWarehouse(
                    WarehouseSettings(chdb_path=f"{root}/chdb", clickhouse_database="bench")
                )
                try:
                    await alone.migrate()
                    await stats_bench(alone, "chDB", args.events, "st_bench")
                finally:
                    await alone.close()
            print(f"whole bench: {time.perf_counter() - began:.0f} s")
            return
        nats = EmbeddedNats(Path(root) / "nats")
        nats.start()
        store = ChdbWarehouse(
            WarehouseSettings(chdb_path=f"{root}/chdb", clickhouse_database="bench")
        )
        try:
            await store.migrate()
            bus_settings = bus.BusSettings(nats_url=nats.url, namespace="bench")
            db_settings = DbSettings(database_url=f"sqlite+aiosqlite:///{root}/traytic.db")
            app = create_app(
                fast_settings(migrate_on_start=True, stream_max_per_caller=args.clients),
                db_settings,
                bus_settings,
            )
            app.state.warehouse = store
            async with serving(app) as api:
                owner = await api.signup()
                site_id = (await api.create_site(owner))["id"]
                key = (await api.create_key(owner))["key"]
                if "chdb" in engines:
                    await stats_bench(store, "chDB", args.events, site_id)
                else:
                    await generate(store, site_id=site_id, events=100_000, end_ts=int(time.time()))
                base_p50 = percentiles(
                    await timed(
                        lambda: store.query(
                            "SELECT count() AS n FROM events WHERE site_id = {s:String}",
                            {"s": site_id},
                        ),
                        RUNS,
                    )
                )[0]

                print(f"through the HTTP app (in-process ASGI, API key; {HTTP_RUNS} runs each):")
                headers = {"Authorization": f"Bearer {key}"}
                for name in ENDPOINTS:
                    url = f"/api/events/{site_id}/{name}?period=30d&tz=UTC"

                    async def get(url: str = url) -> httpx.Response:
                        response = await api.client.get(url, headers=headers)
                        assert response.status_code == 200, response.text
                        return response

                    print(line(name, await timed(get, HTTP_RUNS), base_p50))

                subject = bus.live_subject(bus_settings.namespace, site_id)
                publisher = await bus.connect(bus_settings, name="bench-publisher")
                listener = await bus.connect(bus_settings, name="bench-bare")
                try:
                    bare = Arrivals()

                    async def on_msg(msg: Any) -> None:
                        bare.seen(msg.data.decode())

                    for _ in range(args.clients):
                        await listener.subscribe(subject, cb=on_msg)
                    await listener.flush()
                    bare_ms = await fan_out(publisher, subject, site_id, args.clients, bare)
                    await listener.close()

                    streamed = Arrivals()
                    clients = [
                        await sse_client(app, f"/api/stream/{site_id}", headers, streamed)
                        for _ in range(args.clients)
                    ]
                    sse_ms = await fan_out(publisher, subject, site_id, args.clients, streamed)
                    for stop, task in clients:
                        stop.set()
                        await task
                finally:
                    await publisher.close()
                print(f"live fan-out: {FANOUT_MESSAGES} batches published → {args.clients} each:")
                print(line(f"baseline: {args.clients} bare NATS subs", bare_ms))
                print(line(f"{args.clients} SSE streams", sse_ms, percentiles(bare_ms)[0]))
        finally:
            await store.close()
            nats.stop()
    await beacon_to_sse(args.beacons)
    print(f"whole bench: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
