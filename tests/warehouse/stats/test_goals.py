"""Goal conversions and revenue on both engines against the same figures computed in Python
from the rows sent (goal_dataset.py), in Asia/Kathmandu (UTC+05:45: its days start inside UTC
days, and inside UTC hours)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.warehouse.stats.dataset import (
    SITE,
    expected_breakdown,
    expected_overview,
    local_bucket,
    select,
    store,
)
from tests.warehouse.stats.goal_dataset import (
    CONVERSION,
    GOALS,
    Expected,
    by_value,
    by_viewed_page,
    conversion_rows,
    figures,
    make_visits,
    q,
    visit_attributes,
)
from traytic.warehouse import Warehouse
from traytic.warehouse.stats import Filters, Stats
from traytic.warehouse.stats.conversions import GoalStats
from traytic.warehouse.stats.goals import Target
from traytic.warehouse.stats.grouping import GEO_DIMENSIONS, SOURCE_DIMENSIONS
from traytic.warehouse.stats.results import Conversions, Metric

ROWS = make_visits()
TARGETS = {goal.id: Target((goal,)) for goal in GOALS} | {"all": Target(tuple(GOALS), all=True)}


@pytest.fixture
async def goal_stats(warehouse: Warehouse) -> GoalStats:
    await store(warehouse, ROWS)
    return GoalStats(Stats(warehouse), CONVERSION)


def check(
    actual: Conversions | None, expected: Expected | None, visitors: int, money: bool
) -> None:
    expected = expected or Expected(0, 0, 0.0, 0, set())
    assert actual is not None
    assert (actual.unique_conversions, actual.total_conversions) == (
        expected.unique,
        expected.total,
    )
    assert actual.conversion_rate == pytest.approx(expected.unique / visitors if visitors else 0.0)
    if money:
        assert actual.revenue == pytest.approx(expected.revenue)
        average = expected.revenue / expected.revenue_events if expected.revenue_events else 0.0
        assert actual.average_revenue == pytest.approx(average)
    else:
        assert actual.revenue is None and actual.average_revenue is None


def check_metric(metric: Metric | None, now: float, before: float) -> None:
    assert metric is not None
    assert metric.value == pytest.approx(now)
    assert metric.previous == pytest.approx(before)


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize(
    "filters", [Filters(), Filters.of(country="DE"), Filters.of(source="Google")]
)
async def test_overview_conversions_against_the_previous_period(
    goal_stats: GoalStats, target: str, filters: Filters
) -> None:
    query = q(period="30d", filters=filters)
    chosen = TARGETS[target]
    answer = await goal_stats.overview(query, chosen)

    plain_now, plain_before = expected_overview(ROWS, query)
    everything = conversion_rows(ROWS, query, chosen, start=int(query.previous().start.timestamp()))
    cut = int(query.start.timestamp())
    now = figures([r for r in everything if r.ts >= cut], chosen)
    before = figures([r for r in everything if r.ts < cut], chosen)
    assert now.total > 0 or filters.any
    found = answer.conversions
    check_metric(found.unique_conversions, now.unique, before.unique)
    check_metric(found.total_conversions, now.total, before.total)
    check_metric(
        found.conversion_rate,
        now.unique / plain_now.visitors if plain_now.visitors else 0.0,
        before.unique / plain_before.visitors if plain_before.visitors else 0.0,
    )
    if chosen.counts_revenue:
        check_metric(found.revenue, now.revenue, before.revenue)
        assert set(answer.money.unconverted) == now.unconverted | before.unconverted
    else:
        assert found.revenue is None
    assert answer.money.currency == "EUR"
    assert answer.visitors.value == plain_now.visitors


async def test_goals_report_lists_every_goal(goal_stats: GoalStats) -> None:
    query = q(period="30d")
    answer = await goal_stats.goals(query, GOALS)
    plain_now, _ = expected_overview(ROWS, query)
    assert [goal.id for goal in answer.goals] == [goal.id for goal in GOALS]
    for goal, found in zip(GOALS, answer.goals, strict=True):
        expected = figures(conversion_rows(ROWS, query, Target((goal,))), Target((goal,)))
        assert found.unique_conversions.value == expected.unique, goal.name
        assert found.total_conversions.value == expected.total, goal.name
        assert found.conversion_rate.value == pytest.approx(expected.unique / plain_now.visitors)
        if goal.counts_revenue:
            assert found.revenue is not None
            assert found.revenue.value == pytest.approx(expected.revenue)
        else:
            assert found.revenue is None
    assert "XOF" in answer.money.unconverted


async def test_goals_report_without_goals(goal_stats: GoalStats) -> None:
    answer = await goal_stats.goals(q(period="7d"), [])
    assert answer.goals == []


@pytest.mark.parametrize("target", ["g-signup", "g-purchase", "all"])
async def test_breakdowns_by_visit_source_and_by_place(goal_stats: GoalStats, target: str) -> None:
    query = q(period="30d", limit=20)
    chosen = TARGETS[target]
    converted = conversion_rows(ROWS, query, chosen)
    sources = await goal_stats.sources(query, chosen, "visitors")
    countries = await goal_stats.countries(query, chosen, "visitors")
    for report, dimensions in ((sources, SOURCE_DIMENSIONS), (countries, GEO_DIMENSIONS)):
        for name, dimension in dimensions.items():
            rows = getattr(report, name)
            plain = expected_breakdown(
                ROWS,
                query,
                lambda r, d=dimension: (
                    getattr(r, d.column),
                    getattr(r, d.parent) if d.parent else None,
                ),
                skip_empty=dimension.skip_empty,
            )
            assert [(r.value, r.visitors) for r in rows] == [(p[0], p[2]) for p in plain], name
            if dimension.parent:
                continue
            expected = by_value(ROWS, converted, dimension.column, chosen)
            for row in rows:
                check(row.conversions, expected.get(row.value), row.visitors, chosen.counts_revenue)
    # The visit's landing source, not the converting event's (always empty) one.
    google = next(row for row in sources.sources if row.value == "Google")
    assert google.conversions is not None and google.conversions.total_conversions > 0


@pytest.mark.parametrize(
    "sort", ["uniqueConversions", "totalConversions", "revenue", "conversionRate"]
)
async def test_breakdowns_sorted_by_conversions(goal_stats: GoalStats, sort: str) -> None:
    query = q(period="30d", limit=2, page=1)
    chosen = TARGETS["g-purchase"]
    converted = conversion_rows(ROWS, query, chosen)
    countries = await goal_stats.countries(query, chosen, sort)
    expected = by_value(ROWS, converted, "country", chosen)
    visitors: dict[str, set[int]] = defaultdict(set)
    for row in select(ROWS, query):
        visitors[row.country].add(row.visitor_id)
    metric = {
        "uniqueConversions": lambda v: expected[v].unique,
        "totalConversions": lambda v: expected[v].total,
        "revenue": lambda v: expected[v].revenue,
        "conversionRate": lambda v: expected[v].unique / len(visitors[v]),
    }[sort]
    ranked = sorted(
        expected,
        key=lambda v: (
            (-metric(v), v) if sort != "conversionRate" else (-metric(v), -len(visitors[v]), v)
        ),
    )
    assert [row.value for row in countries.countries] == ranked[:2]
    for row in countries.countries:
        assert row.visitors == len(visitors[row.value])
        check(row.conversions, expected[row.value], row.visitors, True)


@pytest.mark.parametrize("sort", ["visitors", "uniqueConversions"])
async def test_pages_by_the_visits_that_viewed_them(goal_stats: GoalStats, sort: str) -> None:
    query = q(period="30d", limit=50)
    chosen = TARGETS["g-signup"]
    converted = conversion_rows(ROWS, query, chosen)
    answer = await goal_stats.pages(query, chosen, sort)
    expected = by_viewed_page(ROWS, converted, query, chosen)
    assert {
        row.value for row in answer.pages if row.conversions and row.conversions.unique_conversions
    } == set(expected)
    for row in answer.pages:
        check(row.conversions, expected.get(row.value), row.visitors, False)
    first = visit_attributes(ROWS)
    entries: dict[str, list] = defaultdict(list)
    for row in converted:
        entries[first[row.session_id].pathname].append(row)
    for row in answer.entry_pages:
        assert row.conversions is not None
        assert row.conversions.total_conversions == len(entries.get(row.value, []))


async def test_timeseries_conversions_per_local_day(goal_stats: GoalStats) -> None:
    query = q(period="30d")
    chosen = TARGETS["g-purchase"]
    answer = await goal_stats.timeseries(query, chosen)
    per_day: dict[object, list] = defaultdict(list)
    for row in conversion_rows(ROWS, query, chosen):
        per_day[local_bucket(row.ts, query)].append(row)
    assert sum(len(v) for v in per_day.values()) > 0
    for bucket in answer.buckets:
        expected = figures(per_day.get(bucket.start, []), chosen)
        check(bucket.conversions, expected, bucket.visitors, True)


async def test_goal_filter_selects_converting_visits(goal_stats: GoalStats) -> None:
    goal = GOALS[2]
    query = q(period="30d", filters=Filters.of(goal=goal))
    answer = await goal_stats.stats.overview(query)
    converting = {r.session_id for r in conversion_rows(ROWS, q(period="30d"), Target((goal,)))}
    lo, hi = int(query.start.timestamp()), int(query.end.timestamp())
    kept = [
        r
        for r in ROWS
        if r.site_id == SITE
        and r.session_id in converting
        and lo <= r.ts < hi
        and r.type in ("pageview", "event")
    ]
    assert answer.visitors.value == len({r.visitor_id for r in kept})
    assert answer.pageviews.value == sum(r.type == "pageview" for r in kept)
    assert answer.visits.value == len(converting)
    sources = await goal_stats.stats.sources(query)
    assert sum(row.visits for row in sources.channels) >= len(converting)
