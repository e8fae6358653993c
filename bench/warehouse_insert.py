"""Insert speed of each warehouse engine and input format, in events/s, and peak RSS.

    uv run python bench/warehouse_insert.py [--events 200000] [--clickhouse-url URL]

Without --clickhouse-url it starts the installed clickhouse-server (Debian 18.16) on free ports,
as the tests do. Each engine/format pair inserts into its own fresh database, batches of 5,000.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.clickhouse import ClickHouseServer, find_binary  # noqa: E402

from traytic.warehouse import EventRow, WarehouseSettings  # noqa: E402
from traytic.warehouse.chdb_backend import ChdbWarehouse  # noqa: E402
from traytic.warehouse.formats import CHDB_FORMATS, SERVER_FORMATS  # noqa: E402
from traytic.warehouse.migrate import load_migrations  # noqa: E402
from traytic.warehouse.server import ServerWarehouse  # noqa: E402

BATCH = 5_000
REPEATS = 2
BROWSERS = ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet", "Opera"]
OSES = [("Windows", "10"), ("macOS", "14.5"), ("iOS", "17.5"), ("Android", "14"), ("Linux", "")]
DEVICES = ["desktop", "mobile", "tablet"]
PATHS = ["/", "/pricing", "/blog/hello-world", "/docs/getting-started", "/about", "/signup"]
SOURCES = [("", "", "Direct"), ("https://www.google.com/", "Google", "Organic Search")]
SOURCES += [("https://news.ycombinator.com/", "Hacker News", "Referral")]
COUNTRIES = [("NG", "LA", "Lagos"), ("US", "CA", "San Francisco"), ("DE", "BE", "Berlin")]


def synthetic_rows(count: int, seed: int = 7) -> list[EventRow]:
    rnd = random.Random(seed)
    # ~500 distinct user agents' worth of (browser, version, os, os version, device)
    agents = [
        (rnd.choice(BROWSERS), str(rnd.randint(100, 130)), *rnd.choice(OSES), rnd.choice(DEVICES))
        for _ in range(500)
    ]
    sites = [f"st_{i:04d}" for i in range(5)]
    start = 1_767_225_600
    rows = []
    for n in range(count):
        browser, version, os_name, os_version, device = rnd.choice(agents)
        referrer, source, channel = rnd.choice(SOURCES)
        country, region, city = rnd.choice(COUNTRIES)
        kind = rnd.choices(["pageview", "event", "vital", "error"], [80, 10, 8, 2])[0]
        with_props = rnd.random() < 0.1
        rows.append(
            EventRow(
                site_id=rnd.choice(sites),
                ts=start + n // 50,
                type=kind,
                name={"pageview": "", "event": "signup", "vital": "LCP", "error": "TypeError"}[
                    kind
                ],
                event_id=rnd.getrandbits(64),
                visitor_id=rnd.getrandbits(64),
                session_id=rnd.getrandbits(64),
                hostname="example.com",
                pathname=rnd.choice(PATHS),
                referrer=referrer,
                referrer_source=source,
                channel=channel,
                utm_source="newsletter" if with_props else "",
                utm_medium="",
                utm_campaign="",
                utm_term="",
                utm_content="",
                country=country,
                region=region,
                city=city,
                browser=browser,
                browser_version=version,
                os=os_name,
                os_version=os_version,
                device=device,
                screen=rnd.choice(["mobile", "laptop", "desktop"]),
                language="en-US",
                props_key=["plan", "source"] if with_props else [],
                props_value=["pro", "footer"] if with_props else [],
                value=rnd.uniform(100, 4000) if kind == "vital" else 0.0,
            )
        )
    return rows


async def measure(store: ServerWarehouse | ChdbWarehouse, rows: list[EventRow], fmt: str) -> None:
    await store.migrate()
    encoders = SERVER_FORMATS if isinstance(store, ServerWarehouse) else CHDB_FORMATS
    started = time.perf_counter()
    encode_seconds = 0.0
    for offset in range(0, len(rows), BATCH):
        batch = rows[offset : offset + BATCH]
        t0 = time.perf_counter()
        encoders[fmt](batch)  # timed alone to split Python encoding from the engine's work
        encode_seconds += time.perf_counter() - t0
        await store.insert_events(batch, fmt=fmt)
    # the encode-only pass above ran in addition to the insert's own, so subtract it
    elapsed = time.perf_counter() - started - encode_seconds
    stored = (await store.query("SELECT count() AS n FROM events"))[0]["n"]
    assert stored == len(rows), (stored, len(rows))
    engine = "server" if isinstance(store, ServerWarehouse) else "chdb"
    print(
        f"{engine:7s} {fmt:19s} {len(rows) / elapsed:>10,.0f} events/s"
        f"   (encode alone {len(rows) / encode_seconds:>10,.0f} rows/s)"
    )
    await store.drop_database()


async def insert_seconds(store: ServerWarehouse | ChdbWarehouse, rows: list[EventRow]) -> float:
    """chDB: CPU seconds of this process (the engine runs in it), robust on a shared machine;
    the server: wall seconds (its CPU is another process's)."""
    clock = time.process_time if isinstance(store, ChdbWarehouse) else time.perf_counter
    started = clock()
    for offset in range(0, len(rows), BATCH):
        await store.insert_events(rows[offset : offset + BATCH])
    return clock() - started


async def view_costs(
    make: Callable[[], ServerWarehouse | ChdbWarehouse], rows: list[EventRow]
) -> None:
    """What the materialized views on `events` cost an insert: the same rows into a fresh
    database with every view, without the one of migration 0004 (custom events and vitals,
    issue 16), and with none (the bare table)."""
    views = [
        statement.split()[6]
        for migration in load_migrations()
        for statement in migration.statements
        if statement.upper().startswith("CREATE MATERIALIZED VIEW")
    ]
    cases = {"every view": [], "without event_stats_mv": ["event_stats_mv"], "no view": views}
    per = 100_000 / len(rows)
    found: dict[str, float] = {}
    for _ in range(REPEATS):  # the best of each: other work on the machine only adds
        for label, dropped in cases.items():
            store = make()
            try:
                await store.migrate()
                for view in dropped:
                    await store.execute(f"DROP TABLE IF EXISTS {view}")
                seconds = await insert_seconds(store, rows) * per
                found[label] = min(seconds, found.get(label, seconds))
                await store.drop_database()
            finally:
                await store.close()
    engine = "server" if isinstance(store, ServerWarehouse) else "chdb"
    bare = found["no view"]
    print(
        f"{engine:7s} insert {'CPU ' if engine == 'chdb' else ''}s per 100k events: "
        + ", ".join(f"{label} {seconds:.2f}" for label, seconds in found.items())
        + f"  (views add {found['every view'] - bare:.2f} s; event_stats_mv"
        f" {found['every view'] - found['without event_stats_mv']:.2f} s)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--clickhouse-url")
    parser.add_argument("--views-only", action="store_true", help="only what the views cost")
    args = parser.parse_args()
    rows = synthetic_rows(args.events)
    print(f"{len(rows):,} events, batches of {BATCH:,}")
    with tempfile.TemporaryDirectory() as root:
        server = None
        url = args.clickhouse_url
        if url is None and (binary := find_binary()):
            server = ClickHouseServer(binary, Path(root) / "clickhouse")
            server.start()
            url = server.url
        try:
            if url:
                for fmt in () if args.views_only else SERVER_FORMATS:
                    settings = WarehouseSettings(clickhouse_url=url, clickhouse_database="bench")
                    store = ServerWarehouse(settings)
                    try:
                        await measure(store, rows, fmt)
                    finally:
                        await store.close()
                server_url = url
                await view_costs(
                    lambda: ServerWarehouse(
                        WarehouseSettings(clickhouse_url=server_url, clickhouse_database="bench")
                    ),
                    rows,
                )
            else:
                print("server  skipped: no clickhouse-server and no --clickhouse-url")
            for fmt in () if args.views_only else CHDB_FORMATS:
                settings = WarehouseSettings(chdb_path=f"{root}/chdb", clickhouse_database="bench")
                chdb_store = ChdbWarehouse(settings)
                try:
                    await measure(chdb_store, rows, fmt)
                finally:
                    await chdb_store.close()
            chdb_path = f"{root}/chdb"
            await view_costs(
                lambda: ChdbWarehouse(
                    WarehouseSettings(chdb_path=chdb_path, clickhouse_database="bench")
                ),
                rows,
            )
        finally:
            if server is not None:
                server.stop()
    peak = psutil.Process().memory_info()
    peak_mb = getattr(peak, "peak_wset", 0) or _peak_rss_mb()
    print(f"peak RSS of this process: {peak_mb:,.0f} MiB (the server's is not included)")


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    asyncio.run(main())
