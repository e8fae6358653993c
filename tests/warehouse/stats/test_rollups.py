"""The rollups and the sessions table answer exactly as the raw events do (both engines): the
planner's fast forms, in zones whose days do not align with UTC (partial days at both ends), for
pages of a list, and with the two-phase top list cut short."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.warehouse.stats.dataset import (
    NOW,
    PAGES,
    SITE,
    expected_breakdown,
    expected_overview,
    make_dataset,
    store,
)
from traytic.warehouse import Warehouse
from traytic.warehouse.migrate import backfills, load_migrations
from traytic.warehouse.stats import Filters, Stats, StatsQuery, plan

ROWS = make_dataset(seed=17, sessions=400)
ZONES = ["UTC", "Europe/Berlin", "Asia/Kathmandu", "America/St_Johns"]
"""UTC, +01:00 (+02:00 in summer, a DST change inside the ranges), +05:45 and -03:30 (-02:30):
local days start on whole UTC hours in the first two, at odd quarter hours in the others."""


@pytest.fixture
async def stats(warehouse: Warehouse) -> Stats:
    await store(warehouse, ROWS)
    return Stats(warehouse)


def raw_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan, "traffic_grain", lambda query: None)
    monkeypatch.setattr(plan, "rollup_days", lambda query: None)


async def both_ways(
    monkeypatch: pytest.MonkeyPatch, call: Callable[[], Awaitable[Any]]
) -> tuple[Any, Any]:
    fast = await call()
    with monkeypatch.context() as patched:
        raw_only(patched)
        raw = await call()
    return fast, raw


def q(**kwargs: Any) -> StatsQuery:
    return StatsQuery.build(SITE, now=NOW, **kwargs)


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("period", ["24h", "7d", "30d", "90d"])
async def test_overview_and_timeseries_equal_the_raw_answers(
    stats: Stats, monkeypatch: pytest.MonkeyPatch, tz: str, period: str
) -> None:
    query = q(period=period, tz=tz)
    assert plan.traffic_grain(query) == (
        "quarter" if tz.startswith(("Asia", "America")) else "hour"
    )
    fast, raw = await both_ways(monkeypatch, lambda: stats.overview(query))
    assert fast == raw
    assert fast.visitors.value > 0 or period == "24h"
    fast_series, raw_series = await both_ways(monkeypatch, lambda: stats.timeseries(query))
    assert fast_series == raw_series


@pytest.mark.parametrize("tz", ZONES)
async def test_breakdowns_equal_the_raw_answers(
    stats: Stats, monkeypatch: pytest.MonkeyPatch, tz: str
) -> None:
    query = q(period="30d", tz=tz, limit=4)
    days = plan.rollup_days(query)
    assert days is not None
    if tz != "UTC":
        assert query.start.timestamp() % 86400 != 0, "the range must begin inside a UTC day"
    for method in (stats.pages, stats.sources, stats.countries, stats.devices):
        fast, raw = await both_ways(monkeypatch, lambda m=method: m(query))  # type: ignore[misc]
        assert fast == raw, method.__name__
    pages = (await stats.pages(query)).pages
    assert [(r.value, r.visitors, r.visits, r.pageviews) for r in pages] == [
        (value, visitors, visits, views)
        for value, _, visitors, visits, views in expected_breakdown(
            ROWS, query, lambda r: (r.pathname, None), types=("pageview",)
        )
    ]


@pytest.mark.parametrize("ends_in_the_past", [False, True])
async def test_the_last_utc_day_comes_whole_from_the_rollup_only_when_nothing_follows_the_end(
    stats: Stats, monkeypatch: pytest.MonkeyPatch, ends_in_the_past: bool
) -> None:
    """Europe/Berlin's last local day ends at 23:00 UTC: with rows of that UTC day after it (a
    range ending weeks ago) the day is read from the events, else whole from the rollups."""
    if ends_in_the_past:
        query = q(date_from="2025-02-01", date_to="2025-02-28", tz="Europe/Berlin", limit=4)
    else:
        query = q(period="30d", tz="Europe/Berlin", limit=4)
    last = plan.end_day(query)
    assert last is not None
    after = [r for r in ROWS if r.site_id == SITE and r.ts >= query.end.timestamp()]
    assert any(r.ts < (query.end.timestamp() // 86400 + 1) * 86400 for r in after) == (
        ends_in_the_past
    )
    read: list[str] = []
    saved = stats.warehouse.query

    async def recording(sql: str, params: Any = None) -> Any:
        read.append(sql)
        return await saved(sql, params)

    monkeypatch.setattr(stats.warehouse, "query", recording)
    for method in (stats.pages, stats.sources, stats.events):
        fast, raw = await both_ways(monkeypatch, lambda m=method: m(query))  # type: ignore[misc]
        assert fast == raw, method.__name__
    edges = [sql for sql in read if "edge1_start" in sql]
    assert bool(edges) == ends_in_the_past


async def test_the_two_phase_top_list_cut_short(
    stats: Stats, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fewer candidates than values: phase two merges the candidates only, and the top is still
    the raw one (the dataset's top pages by visitors are top by views too)."""
    monkeypatch.setattr(plan, "CANDIDATES", 1)
    query = q(period="90d", tz="Asia/Kathmandu", limit=1)
    assert plan.candidates(query) < len(PAGES)
    fast, raw = await both_ways(monkeypatch, lambda: stats.pages(query))
    assert fast == raw
    assert len(fast.pages) == len(fast.entry_pages) == 1


async def test_visit_filters_use_the_sessions_table_and_others_the_events(
    stats: Stats,
) -> None:
    on_visits = q(period="30d", filters=Filters.of(country="DE", source="Google"))
    on_events = q(period="30d", filters=Filters.of(path="/docs"))
    assert plan.visits_from_sessions(on_visits)
    assert not plan.visits_from_sessions(on_events)
    for query in (on_visits, on_events):
        now, _ = expected_overview(ROWS, query)
        answer = await stats.overview(query)
        assert (answer.visits.value, answer.bounce_rate.value) == (
            now.visits,
            pytest.approx(now.bounce_rate),
        )
        assert answer.visits.value > 0


async def test_the_migration_backfill_fills_what_the_views_fill(warehouse: Warehouse) -> None:
    """An install upgrading to the rollups gets them from its stored events, sliced."""
    await store(warehouse, ROWS)
    stats = Stats(warehouse)
    query = q(period="90d", tz="Asia/Kathmandu", limit=4)

    async def answers() -> tuple[Any, ...]:
        return (await stats.overview(query), await stats.pages(query), await stats.devices(query))

    before = await answers()
    migration = next(m for m in load_migrations() if m.name.startswith("0002"))
    derived = ("traffic_hours", "traffic_quarters", "daily_stats", "sessions", "session_events")
    for table in derived:
        await warehouse.execute(f"TRUNCATE TABLE {table}")
    assert (await stats.overview(query)).visits.value == 0
    for backfill in backfills(migration):
        await warehouse.execute(backfill.sql, backfill.params)
    assert await answers() == before
