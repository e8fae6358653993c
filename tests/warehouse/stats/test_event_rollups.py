"""Custom events and Web Vitals from `event_stats` (migration 0004), on both engines: events and
props equal the raw answers exactly (zones off UTC, props cut short by the two-phase list); vital
ratings and samples exactly, quantiles (t-digests) within a few percent of the truth; the
migration's backfill fills what the view fills."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.warehouse.stats.dataset import (
    NOW,
    SITE,
    event,
    expected_vitals,
    make_dataset,
    store,
)
from tests.warehouse.stats.test_rollups import ZONES, both_ways
from traytic.warehouse import Warehouse
from traytic.warehouse.migrate import backfills, load_migrations
from traytic.warehouse.stats import Stats, StatsQuery, plan
from traytic.warehouse.stats.service import VITAL_THRESHOLDS

ROWS = make_dataset(seed=23, sessions=300)
DIGEST_TOLERANCE = 0.06
"""How far a t-digest quantile may be from the exact one, relative to the metric's poor bound
(a scale every metric shares; the raw `quantiles` past 8192 samples is an estimate too)."""


def q(**kwargs: Any) -> StatsQuery:
    return StatsQuery.build(SITE, now=NOW, **kwargs)


@pytest.fixture
async def stats(warehouse: Warehouse) -> Stats:
    await store(warehouse, ROWS)
    return Stats(warehouse)


@pytest.mark.parametrize(
    ("tz", "period", "limit"), [*((tz, "30d", 10) for tz in ZONES), ("Asia/Kathmandu", "90d", 1)]
)
async def test_events_and_props_equal_the_raw_answers(
    stats: Stats, monkeypatch: pytest.MonkeyPatch, tz: str, period: str, limit: int
) -> None:
    """In every zone; with `limit` 1 the props are cut short by the two-phase list."""
    query = q(period=period, tz=tz, limit=limit)
    assert plan.rollup_days(query) is not None
    fast, raw = await both_ways(monkeypatch, lambda: stats.events(query))
    assert fast == raw
    assert fast.events and any(item.props for item in fast.events)


async def test_few_vitals_stay_exact_from_the_events(
    stats: Stats, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to `VITALS_EXACT_UP_TO` samples the rollup only counts them: the answer is the raw."""
    query = q(period="90d", tz="Europe/Berlin", limit=100)
    fast, raw = await both_ways(monkeypatch, lambda: stats.vitals(query))
    assert fast == raw


@pytest.mark.parametrize("tz", ["UTC", "America/St_Johns"])
async def test_many_vitals_come_from_the_digests(
    stats: Stats, monkeypatch: pytest.MonkeyPatch, tz: str
) -> None:
    monkeypatch.setattr(plan, "VITALS_EXACT_UP_TO", 0)
    query = q(period="90d", tz=tz, limit=3)
    answer = await stats.vitals(query)
    for got, per_route in ((answer.overall, False), (answer.routes, True)):
        expected = expected_vitals(ROWS, query, per_route=per_route)
        if per_route:
            # The top three routes of each metric by samples (then by route).
            ranked = sorted(expected, key=lambda k: (k[0], -expected[k].samples, k[1] or ""))
            wanted = [
                k for k in ranked if [r[0] for r in ranked[: ranked.index(k)]].count(k[0]) < 3
            ]
            assert [(v.metric, v.route) for v in got] == wanted
        else:
            assert {(v.metric, v.route) for v in got} == set(expected)
        for vital in got:
            want = expected[(vital.metric, vital.route)]
            scale = VITAL_THRESHOLDS[vital.metric][1]
            assert vital.samples == want.samples
            assert (vital.good, vital.needs_improvement, vital.poor) == pytest.approx(
                (want.good, want.needs_improvement, want.poor)
            )
            if want.samples >= 20:
                assert abs(vital.p75 - want.p75) <= DIGEST_TOLERANCE * scale, vital
                assert abs(vital.p95 - want.p95) <= DIGEST_TOLERANCE * scale, vital


async def test_the_view_rates_vitals_with_the_service_thresholds(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At and just past each bound, on a whole day the view rated: its ratings are the
    service's."""
    monkeypatch.setattr(plan, "VITALS_EXACT_UP_TO", 0)
    rows = [
        event(type="vital", name=metric, value=value, ts=NOW - timedelta(days=3))
        for metric, (good, poor) in VITAL_THRESHOLDS.items()
        for value in (good, good * 1.001, poor, poor * 1.001)
    ]
    await store(warehouse, rows)
    query = q(period="7d")
    assert plan.rollup_days(query) is not None
    vitals = (await Stats(warehouse).vitals(query)).overall
    assert {v.metric for v in vitals} == set(VITAL_THRESHOLDS)
    for vital in vitals:
        assert (vital.good, vital.needs_improvement, vital.poor) == (0.25, 0.5, 0.25)


async def test_the_migration_backfill_fills_what_the_view_fills(warehouse: Warehouse) -> None:
    await store(warehouse, ROWS)
    stats = Stats(warehouse)
    query = q(period="90d", tz="Asia/Kathmandu", limit=4)
    before = await stats.events(query)
    assert before.events
    await warehouse.execute("TRUNCATE TABLE event_stats")
    assert await stats.events(query) != before
    migration = next(m for m in load_migrations() if m.name.startswith("0004"))
    for backfill in backfills(migration):
        await warehouse.execute(backfill.sql, backfill.params)
    assert await stats.events(query) == before
