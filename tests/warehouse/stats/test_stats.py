"""Every stats answer on both engines against the same answer computed in Python from the rows
(see dataset.py), plus time zones, empty buckets, filters, the previous period and vitals."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.warehouse.stats.dataset import (
    NOW,
    SITE,
    Figures,
    event,
    expected_breakdown,
    expected_days,
    expected_overview,
    expected_session_pages,
    expected_timeseries,
    expected_vitals,
    make_dataset,
    select,
    store,
)
from traytic.warehouse import EventRow, Warehouse
from traytic.warehouse.stats import Filters, Stats, StatsQuery
from traytic.warehouse.stats.results import Bucket, Metric, Overview, Row

ROWS = make_dataset()


def q(**kwargs: object) -> StatsQuery:
    kwargs.setdefault("now", NOW)
    return StatsQuery.build(SITE, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def stats(warehouse: Warehouse) -> Stats:
    await store(warehouse, ROWS)
    return Stats(warehouse)


def assert_figures(actual: Overview | Bucket, expected: Figures, attr: str = "value") -> None:
    for name in ("visitors", "visits", "pageviews", "events"):
        got = getattr(actual, name)
        got = getattr(got, attr) if isinstance(got, Metric) else got
        assert got == getattr(expected, name), name
    for name in ("views_per_visit", "bounce_rate", "visit_duration"):
        got = getattr(actual, name)
        got = getattr(got, attr) if isinstance(got, Metric) else got
        assert got == pytest.approx(getattr(expected, name)), name


def as_tuples(rows: list[Row]) -> list[tuple[str, str | None, int, int, int]]:
    return [(r.value, r.parent, r.visitors, r.visits, r.pageviews) for r in rows]


@pytest.mark.parametrize("period", ["24h", "7d", "30d"])
async def test_overview_and_previous_period(stats: Stats, period: str) -> None:
    query = q(period=period, tz="Europe/Berlin")
    answer = await stats.overview(query)
    now, before = expected_overview(ROWS, query)
    assert now.visits > 0 and before.visits > 0, "the dataset must cover both periods"
    assert_figures(answer, now)
    assert_figures(answer, before, "previous")
    assert answer.previous_range.end == answer.range.start


async def test_overview_with_filters_combined(stats: Stats) -> None:
    filters = Filters.of(country="DE", device="desktop", source="Google")
    query = q(period="30d", filters=filters)
    now, _ = expected_overview(ROWS, query)
    only_country, _ = expected_overview(ROWS, q(period="30d", filters=Filters.of(country="DE")))
    assert 0 < now.pageviews < only_country.pageviews
    assert_figures(await stats.overview(query), now)


@pytest.mark.parametrize(
    ("period", "tz", "interval"),
    [
        ("24h", "UTC", None),
        ("7d", "America/New_York", None),
        ("30d", "Asia/Kolkata", None),
        ("7d", "Europe/Berlin", "hour"),
    ],
)
async def test_timeseries_every_bucket_in_the_time_zone(
    stats: Stats, period: str, tz: str, interval: str | None
) -> None:
    query = q(period=period, tz=tz, interval=interval)
    answer = await stats.timeseries(query)
    expected = expected_timeseries(ROWS, query)
    starts = [bucket.start for bucket in answer.buckets]
    zone = ZoneInfo(tz)
    if query.interval == "day":
        assert [s.date() for s in starts] == expected_days(query)
        assert all(s.astimezone(zone).hour == 0 for s in starts)
    else:
        assert len(starts) == (query.end - query.start) / timedelta(hours=1)
        utc = [s.astimezone(UTC) for s in starts]  # same-zone subtraction is wall-clock time
        assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(utc))
    assert set(expected) <= set(starts)
    assert any(b.pageviews == 0 for b in answer.buckets), "expected some empty buckets"
    for bucket in answer.buckets:
        empty = Figures(0, 0, 0, 0.0, 0.0, 0.0, 0)
        assert_figures(bucket, expected.get(bucket.start, empty))
    total, _ = expected_overview(ROWS, query)
    assert sum(b.pageviews for b in answer.buckets) == total.pageviews
    assert sum(b.visits for b in answer.buckets) == total.visits


async def test_day_buckets_follow_the_site_time_zone(warehouse: Warehouse) -> None:
    # 03:30 UTC is still the previous evening in New York: one pageview per local day.
    day = datetime(2025, 3, 20, tzinfo=UTC)
    await store(
        warehouse,
        [
            event(ts=day + timedelta(hours=3, minutes=30), session_id=1),
            event(ts=day + timedelta(hours=5), session_id=2),
        ],
    )
    stats = Stats(warehouse)
    now = datetime(2025, 3, 21, 12, tzinfo=UTC)
    utc = await stats.timeseries(StatsQuery.build(SITE, period="7d", now=now))
    ny = await stats.timeseries(StatsQuery.build(SITE, period="7d", tz="America/New_York", now=now))
    by_day = {b.start.date().isoformat(): b.pageviews for b in utc.buckets if b.pageviews}
    assert by_day == {"2025-03-20": 2}
    by_day = {b.start.date().isoformat(): b.pageviews for b in ny.buckets if b.pageviews}
    assert by_day == {"2025-03-19": 1, "2025-03-20": 1}
    assert len(ny.buckets) == 7


async def test_empty_site_has_every_bucket_at_zero(warehouse: Warehouse) -> None:
    answer = await Stats(warehouse).timeseries(q(period="24h", tz="Asia/Kolkata"))
    assert len(answer.buckets) == 24
    assert all(b.visitors == b.pageviews == b.visits == 0 for b in answer.buckets)
    assert all(b.start.minute == 0 for b in answer.buckets)


@pytest.mark.parametrize("page", [1, 2])
async def test_pages_with_entry_and_exit(stats: Stats, page: int) -> None:
    query = q(period="90d", limit=3, page=page)
    answer = await stats.pages(query)
    pages = expected_breakdown(ROWS, query, lambda r: (r.pathname, None), types=("pageview",))
    assert as_tuples(answer.pages) == pages
    for got, is_exit in ((answer.entry_pages, False), (answer.exit_pages, True)):
        assert [(p.value, p.visitors, p.visits) for p in got] == expected_session_pages(
            ROWS, query, exit=is_exit
        )


async def test_sources(stats: Stats) -> None:
    query = q(period="90d", limit=20)
    answer = await stats.sources(query)
    assert as_tuples(answer.sources) == expected_breakdown(
        ROWS, query, lambda r: (r.referrer_source, None)
    )
    assert as_tuples(answer.referrers) == expected_breakdown(
        ROWS, query, lambda r: (r.referrer, None), skip_empty=True
    )
    assert as_tuples(answer.channels) == expected_breakdown(
        ROWS, query, lambda r: (r.channel, None)
    )
    assert as_tuples(answer.utm_campaigns) == expected_breakdown(
        ROWS, query, lambda r: (r.utm_campaign, None), skip_empty=True
    )
    assert as_tuples(answer.utm_terms) == expected_breakdown(
        ROWS, query, lambda r: (r.utm_term, None), skip_empty=True
    )
    assert answer.utm_contents == []


async def test_countries_and_devices(stats: Stats) -> None:
    query = q(period="30d", tz="Europe/Berlin", filters=Filters.of(channel="Organic Search"))
    places = await stats.countries(query)
    assert as_tuples(places.countries) == expected_breakdown(
        ROWS, query, lambda r: (r.country, None)
    )
    assert as_tuples(places.cities) == expected_breakdown(
        ROWS, query, lambda r: (r.city, r.country), skip_empty=True
    )
    devices = await stats.devices(query)
    assert as_tuples(devices.browser_versions) == expected_breakdown(
        ROWS, query, lambda r: (r.browser_version, r.browser), skip_empty=True
    )
    assert as_tuples(devices.operating_systems) == expected_breakdown(
        ROWS, query, lambda r: (r.os, None)
    )
    assert as_tuples(devices.screens) == expected_breakdown(ROWS, query, lambda r: (r.screen, None))


@pytest.mark.parametrize("filters", [Filters(), Filters.of(device="mobile")])
async def test_vitals_quantiles_and_ratings(stats: Stats, filters: Filters) -> None:
    query = q(period="90d", limit=100, filters=filters)
    answer = await stats.vitals(query)
    for got, per_route in ((answer.overall, False), (answer.routes, True)):
        expected = expected_vitals(ROWS, query, per_route=per_route)
        assert {(v.metric, v.route) for v in got} == set(expected)
        for vital in got:
            want = expected[(vital.metric, vital.route)]
            assert vital.samples == want.samples
            assert vital.p75 == pytest.approx(want.p75)
            assert vital.p95 == pytest.approx(want.p95)
            assert vital.good == pytest.approx(want.good)
            assert vital.needs_improvement == pytest.approx(want.needs_improvement)
            assert vital.poor == pytest.approx(want.poor)


async def test_vital_ratings_at_the_thresholds(warehouse: Warehouse) -> None:
    # web.dev: a value equal to the "good" bound is good, one equal to the "poor" bound is not poor.
    await store(
        warehouse,
        [event(type="vital", name="LCP", value=v) for v in (2500.0, 2500.1, 4000.0, 4000.1)],
    )
    (lcp,) = (await Stats(warehouse).vitals(q(period="24h"))).overall
    assert (lcp.good, lcp.needs_improvement, lcp.poor) == (0.25, 0.5, 0.25)


async def test_custom_events_and_props(stats: Stats) -> None:
    query = q(period="90d", limit=10)
    answer = await stats.events(query)
    events = select(ROWS, query, types=("event",))
    names = sorted({r.name for r in events}, key=lambda n: (-sum(r.name == n for r in events), n))
    assert [e.name for e in answer.events] == names
    for item in answer.events:
        mine = [r for r in events if r.name == item.name]
        assert item.events == len(mine)
        assert item.visitors == len({r.visitor_id for r in mine})
        pairs = {(k, v) for r in mine for k, v in zip(r.props_key, r.props_value, strict=True)}
        assert {(p.key, p.value) for p in item.props} == pairs
        for prop in item.props:
            having = [
                r
                for r in mine
                if (prop.key, prop.value) in zip(r.props_key, r.props_value, strict=False)
            ]
            assert (prop.events, prop.visitors) == (
                len(having),
                len({r.visitor_id for r in having}),
            )


async def test_event_and_prop_filters(stats: Stats) -> None:
    query = q(period="90d", filters=Filters.of(event="download", prop="os:mac"))
    now, _ = expected_overview(ROWS, query)
    assert now.events > 0 and now.pageviews == 0
    assert_figures(await stats.overview(query), now)
    answer = await stats.events(query)
    assert [(e.name, e.events) for e in answer.events] == [("download", now.events)]


async def test_live(warehouse: Warehouse) -> None:
    rows: list[EventRow] = [
        event(ts=NOW - timedelta(seconds=s), visitor_id=v, pathname=f"/{s}")
        for s, v in ((10, 1), (100, 2), (299, 3), (301, 4), (4000, 5))
    ]
    rows.append(event(ts=NOW - timedelta(seconds=20), visitor_id=6, site_id="st_other"))
    await store(warehouse, rows)
    answer = await Stats(warehouse).live(q(period="24h", limit=2), now=NOW)
    assert answer.visitors == 3
    assert [e.pathname for e in answer.events] == ["/10", "/100"]
    assert answer.events[0].ts == NOW - timedelta(seconds=10)


async def test_other_sites_never_count(stats: Stats) -> None:
    alone = await stats.overview(StatsQuery.build("st_nobody", period="90d", now=NOW))
    assert alone.visitors.value == alone.pageviews.value == 0
