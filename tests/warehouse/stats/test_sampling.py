"""Sampling past the configured number of events, on both engines: a filtered report over more
events reads a sample of the visitors and scales its counts to within a tolerance of the truth
computed in Python, says which share it read, and is exact when not asked to sample; an
unfiltered one samples its visit figures only (read from `sessions`), the rest exact."""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from typing import Any

import msgspec
import pytest

from tests.warehouse.stats.dataset import (
    NOW,
    SITE,
    expected_breakdown,
    expected_overview,
    expected_session_pages,
    expected_timeseries,
    make_dataset,
    select,
    store,
)
from traytic.warehouse import EventRow, Warehouse
from traytic.warehouse.stats import Filters, Stats, StatsQuery, sampling

SIGMAS = 4
"""A scaled count may be this many standard deviations from the truth. Sampling n visitors at
share r keeps each with chance r: the count's relative deviation is sqrt((1 - r) / (r n)) (a
visitor's pageviews come with them, so n is the visitors behind the figure). The sample is
fixed by the visitor ids (hashes), so each run reads the same one: no flakiness."""


def hashed_visitors(rows: list[EventRow]) -> list[EventRow]:
    """The dataset with visitor ids spread over UInt64 as the consumer's keyed hashes are (the
    sampling key): small ids would all fall in any sample."""

    def spread(visitor: int) -> int:
        digest = hashlib.blake2b(visitor.to_bytes(8, "little"), digest_size=8).digest()
        return int.from_bytes(digest, "little")

    return [msgspec.structs.replace(row, visitor_id=spread(row.visitor_id)) for row in rows]


ROWS = hashed_visitors(make_dataset(seed=11, sessions=1600, days=40))
FILTER = Filters.of(device="desktop")


def q(**kwargs: Any) -> StatsQuery:
    return StatsQuery.build(SITE, now=NOW, period="30d", filters=FILTER, **kwargs)


@pytest.fixture
async def stats(warehouse: Warehouse) -> Stats:
    await store(warehouse, ROWS)
    return Stats(warehouse)


def close(got: float, want: float, visitors: int, share: float) -> bool:
    return abs(got - want) <= SIGMAS * math.sqrt((1 - share) / (share * visitors)) * want


def test_the_share_read_is_rounded_down_to_two_digits() -> None:
    assert sampling.rate(900, 1000) is None
    assert sampling.rate(1000, 1000) is None
    assert sampling.rate(4000, 1000) == 0.25
    assert sampling.rate(3000, 1000) == 0.33
    assert sampling.rate(10**11, 10**6) == sampling.MIN_RATE


async def test_a_filtered_report_past_the_limit_reads_half_and_scales(stats: Stats) -> None:
    traffic = len(select(ROWS, q(), types=("pageview", "event")))
    assert traffic > 500
    # The estimate counts the site's traffic of the range, unfiltered: about twice this.
    half = replace(q(), sample_above=len(select(ROWS, StatsQuery.build(SITE, now=NOW))) // 2)
    now, _ = expected_overview(ROWS, q())
    overview = await stats.overview(half)
    share = overview.sampled
    assert share is not None and 0.3 <= share <= 0.6
    for name in ("visitors", "pageviews"):
        got = getattr(overview, name).value
        assert close(got, getattr(now, name), now.visitors, share), (name, got)
        assert got != getattr(now, name), "a sample's scaled count is rarely the exact one"
    assert overview.bounce_rate.value == pytest.approx(now.bounce_rate, abs=0.1)
    countries = await stats.countries(half)
    assert countries.sampled == share
    want = expected_breakdown(ROWS, q(), lambda r: (r.country, None))
    got = {row.value: row for row in countries.countries}
    for value, _, visitors, _, pageviews in want[:3]:
        assert close(got[value].visitors, visitors, visitors, share), value
        assert close(got[value].pageviews, pageviews, visitors, share), value
    pages = await stats.pages(half)
    vitals = await stats.vitals(half)
    events = await stats.events(half)
    assert pages.sampled == vitals.sampled == events.sampled == overview.sampled


async def test_exact_reports_never_sample(stats: Stats) -> None:
    exact, _ = expected_overview(ROWS, q())
    answer = await stats.overview(q())  # sample_above None: `?sampling=exact`
    assert answer.sampled is None and answer.visitors.value == exact.visitors
    unfiltered = StatsQuery.build(SITE, now=NOW, period="30d")
    whole, _ = expected_overview(ROWS, unfiltered)
    answer = await stats.overview(unfiltered)
    assert answer.sampled is None and answer.visits.value == whole.visits


async def test_an_unfiltered_report_past_the_limit_samples_its_visits_only(stats: Stats) -> None:
    """Visitors, pageviews and breakdowns come from the rollups, exact; visit figures from a
    sample of `sessions`, scaled."""
    unfiltered = StatsQuery.build(SITE, now=NOW, period="30d")
    half = replace(unfiltered, sample_above=len(select(ROWS, unfiltered)) // 2)
    whole, _ = expected_overview(ROWS, unfiltered)
    overview = await stats.overview(half)
    share = overview.sampled
    assert share is not None and 0.3 <= share <= 0.6
    assert overview.visitors.value == whole.visitors
    assert overview.pageviews.value == whole.pageviews
    assert overview.events.value == whole.events
    visits = overview.visits.value
    assert close(visits, whole.visits, whole.visitors, share), visits
    assert visits != whole.visits, "a sample's scaled count is rarely the exact one"
    assert overview.bounce_rate.value == pytest.approx(whole.bounce_rate, abs=0.1)
    series = await stats.timeseries(half)
    assert series.sampled == share
    assert sum(bucket.visitors for bucket in series.buckets) == sum(
        f.visitors for f in expected_timeseries(ROWS, unfiltered).values()
    )
    assert close(sum(b.visits for b in series.buckets), whole.visits, whole.visitors, share)
    pages = await stats.pages(half)
    assert pages.sampled == share
    want = expected_breakdown(ROWS, unfiltered, lambda r: (r.pathname, None), types=("pageview",))
    assert [(r.value, r.visitors, r.pageviews) for r in pages.pages] == [
        (value, visitors, pageviews) for value, _, visitors, _, pageviews in want
    ]
    for exit, listed in ((False, pages.entry_pages), (True, pages.exit_pages)):
        got = {row.value: row for row in listed}
        for value, visitors, visits_of in expected_session_pages(ROWS, unfiltered, exit=exit)[:3]:
            assert close(got[value].visits, visits_of, visitors, share), (exit, value)
            assert close(got[value].visitors, visitors, visitors, share), (exit, value)
    countries = await stats.countries(half)  # the rollups alone: nothing to sample
    assert countries.sampled is None


async def test_a_dashboards_reports_share_one_estimate(stats: Stats) -> None:
    """Overview, timeseries and pages of one range ask for the events it holds once."""
    warehouse = stats.warehouse
    estimate = sampling.estimate(q()).sql
    asked: list[str] = []
    query = warehouse.query

    async def counted(sql: str, params: Any = None) -> list[dict[str, Any]]:
        asked.append(sql)
        return await query(sql, params)

    warehouse.query = counted  # type: ignore[method-assign]
    try:
        wanted = StatsQuery.build(SITE, now=NOW, period="30d", sample_above=10**9)
        for report in (stats.overview, stats.timeseries, stats.pages):
            assert (await report(wanted)).sampled is None
        other = StatsQuery.build(SITE, now=NOW, period="7d", sample_above=10**9)
        await stats.overview(other)
    finally:
        del warehouse.query
    assert asked.count(estimate) == 2, "one per range"


def test_an_estimate_stands_for_a_while() -> None:
    now = [0.0]
    estimates = sampling.Estimates(clock=lambda: now[0])
    query = q()
    assert estimates.get(query) is None
    estimates.put(query, 1234)
    now[0] += sampling.ESTIMATE_TTL_S - 1
    assert estimates.get(query) == 1234
    assert estimates.get(replace(query, site_id="st_other")) is None
    now[0] += 2
    assert estimates.get(query) is None
