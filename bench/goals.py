"""Goal conversions and funnels at scale (issue 17), chDB by default.

    uv run python bench/goals.py [--events 10000000] [--engines chdb,server]

`--events` generated inside the engine (bench/dataset.py: session-shaped, one site over 30
days plus noise sites), merged as background merges would, then p50/p95 over 30 days in UTC of:
each breakdown report plain (the baseline, measured in the same run) and with a goal's
conversions, and a 4-step funnel (within 30 minutes, and within one visit). Targets (the
issue's): a goal breakdown within 1.5x its plain breakdown, a 4-step funnel within 300 ms.
Figures are printed, never asserted; the machine is shared, so read ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.dataset import generate  # noqa: E402
from bench.query import RUNS, TABLES, line, percentiles, timed  # noqa: E402
from tests.fixtures.clickhouse import ClickHouseServer, find_binary  # noqa: E402

from traytic.warehouse import Warehouse, WarehouseSettings  # noqa: E402
from traytic.warehouse.chdb_backend import ChdbWarehouse  # noqa: E402
from traytic.warehouse.server import ServerWarehouse  # noqa: E402
from traytic.warehouse.stats import Stats, StatsQuery  # noqa: E402
from traytic.warehouse.stats.conversions import FunnelStats, GoalStats  # noqa: E402
from traytic.warehouse.stats.goals import Target  # noqa: E402
from traytic.warehouse.stats.matching import Goal  # noqa: E402
from traytic.warehouse.stats.revenue import Conversion  # noqa: E402

SITE = "st_bench"
REPORTS = ("sources", "countries", "devices", "pages")
GOALS = {
    "event goal (signup)": Goal("signup", "Signup", "event", "signup"),
    "page goal (/p/1*)": Goal("p1", "P1", "pageview", "/p/1*"),
}
FUNNEL = [
    Goal("land", "Land", "pageview", "/p/*"),
    Goal("click", "Click", "event", "click"),
    Goal("download", "Download", "event", "download"),
    Goal("signup", "Signup", "event", "signup"),
]
BREAKDOWN_TARGET = 1.5
FUNNEL_TARGET_MS = 300.0


async def bench(store: Warehouse, engine: str, events: int) -> None:
    began = time.perf_counter()
    on_site = await generate(store, site_id=SITE, events=events, end_ts=int(time.time()))
    for table in TABLES:
        await store.execute(f"OPTIMIZE TABLE {table} FINAL")
    print(f"{engine}: {on_site:,} events on the site, ready in {time.perf_counter() - began:.0f} s")
    stats = Stats(store)
    goal_stats = GoalStats(stats, Conversion.of("USD", {"USD": 1.0}))
    query = StatsQuery.build(SITE, period="30d", tz="UTC")
    for report in REPORTS:
        plain = await timed(lambda r=report: getattr(stats, r)(query), RUNS)
        base = percentiles(plain)[0]
        print(line(f"{report}, plain (baseline)", plain))
        for label, goal in GOALS.items():
            target = Target((goal,))
            samples = await timed(
                lambda r=report, t=target: getattr(goal_stats, r)(query, t, "visitors"), RUNS
            )
            ratio = percentiles(samples)[0] / base
            verdict = "ok" if ratio <= BREAKDOWN_TARGET else "OVER"
            print(
                f"{line(f'{report}, {label}', samples, base)}  target {BREAKDOWN_TARGET}x {verdict}"
            )
    funnels = FunnelStats(stats)
    count = await timed(
        lambda: store.query(
            "SELECT count() AS n FROM events WHERE site_id = {s:String}", {"s": SITE}
        ),
        RUNS,
    )
    print(line("baseline SELECT count()", count))
    for label, window in (("4-step funnel, 30 minutes", 30), ("4-step funnel, one visit", None)):
        samples = await timed(lambda w=window: funnels.funnel(query, FUNNEL, w), RUNS)
        p50 = percentiles(samples)[0]
        verdict = "ok" if p50 <= FUNNEL_TARGET_MS else "OVER"
        print(
            f"{line(label, samples, percentiles(count)[0])}  target {FUNNEL_TARGET_MS:.0f} ms"
            f" {verdict}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--engines", default="chdb")
    args = parser.parse_args()
    engines = args.engines.split(",")
    with tempfile.TemporaryDirectory() as root:
        if "chdb" in engines:
            store = ChdbWarehouse(
                WarehouseSettings(chdb_path=f"{root}/chdb", clickhouse_database="bench")
            )
            try:
                await store.migrate()
                await bench(store, "chDB", args.events)
            finally:
                await store.close()
        if "server" in engines:
            binary = find_binary()
            if binary is None:
                print("server: skipped, no clickhouse-server installed")
                return
            server = ClickHouseServer(binary, Path(root) / "clickhouse")
            server.start()
            remote = ServerWarehouse(
                WarehouseSettings(
                    clickhouse_url=server.url,
                    clickhouse_database="bench",
                    clickhouse_timeout=900.0,
                )
            )
            try:
                await remote.migrate()
                await bench(remote, "ClickHouse 18.16 server", args.events)
            finally:
                await remote.close()
                server.stop()


if __name__ == "__main__":
    asyncio.run(main())
