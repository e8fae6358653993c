"""Query service speed on chDB: p50/p95 of each stats query for a 30-day period, the same through
the HTTP app, and SSE fan-out latency (a LiveBatch published on NATS → N streams), each beside
a baseline measured in the same run. Figures are printed, never asserted.

    uv run python bench/query.py [--events 1000000] [--clients 50]

Rows come from bench/warehouse_insert.py's generator, moved into the last 30 days, 90% of them
on the benchmarked site (the rest is noise on four other sites), ~150k visitors.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.warehouse_insert import synthetic_rows  # noqa: E402
from tests.query.conftest import fast_settings  # noqa: E402
from tests.query.test_stream import serving  # noqa: E402

from traytic.core import bus  # noqa: E402
from traytic.core.embedded_nats import EmbeddedNats  # noqa: E402
from traytic.core.events import JSON_ENCODER, LiveBatch, LiveEvent  # noqa: E402
from traytic.db import DbSettings  # noqa: E402
from traytic.query.app import create_app  # noqa: E402
from traytic.warehouse import EventRow, WarehouseSettings  # noqa: E402
from traytic.warehouse.chdb_backend import ChdbWarehouse  # noqa: E402
from traytic.warehouse.stats import Stats, StatsQuery  # noqa: E402

ENDPOINTS = (
    "overview", "timeseries", "pages", "sources", "countries", "devices", "vitals", "live",
    "events",
)  # fmt: skip
RUNS = 9
HTTP_RUNS = 3
INSERT_BATCH = 50_000
FANOUT_MESSAGES = 40


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def line(label: str, samples_ms: list[float], baseline_p50: float | None = None) -> str:
    p50, p95 = percentiles(samples_ms)
    ratio = f"   {p50 / baseline_p50:6.1f}x baseline" if baseline_p50 else ""
    return f"  {label:28s} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms{ratio}"


async def timed(call: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    await call()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def bench_rows(count: int, site_id: str) -> list[EventRow]:
    rnd = random.Random(11)
    now = int(time.time())
    noise = [f"st_noise{i}" for i in range(4)]
    rows = []
    for row in synthetic_rows(count):
        visitor = rnd.randrange(150_000)
        rows.append(
            msgspec.structs.replace(
                row,
                site_id=site_id if rnd.random() < 0.9 else rnd.choice(noise),
                ts=now - rnd.randrange(30 * 86400),
                visitor_id=visitor,
                session_id=visitor * 31 + rnd.randrange(3),
            )
        )
    return rows


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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
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

                t0 = time.perf_counter()
                rows = bench_rows(args.events, site_id)
                t1 = time.perf_counter()
                for offset in range(0, len(rows), INSERT_BATCH):
                    await store.insert_events(rows[offset : offset + INSERT_BATCH])
                t2 = time.perf_counter()
                on_site = sum(1 for row in rows if row.site_id == site_id)
                del rows
                print(
                    f"{args.events:,} events ({on_site:,} on the site) over 30 days, chDB:"
                    f" generated in {t1 - t0:.1f} s, inserted in {t2 - t1:.1f} s"
                )

                stats = Stats(store)
                query = StatsQuery.build(site_id, period="30d", tz="UTC")
                count_sql = "SELECT count() AS n FROM events WHERE site_id = {site:String}"
                baseline = await timed(lambda: store.query(count_sql, {"site": site_id}), RUNS)
                base_p50 = percentiles(baseline)[0]
                print(f"stats queries, 30d, Stats called directly ({RUNS} runs each):")
                print(line("baseline SELECT count()", baseline))
                for name in ENDPOINTS:
                    method = getattr(stats, name)
                    print(line(name, await timed(lambda m=method: m(query), RUNS), base_p50))

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
    print(f"whole bench: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
