"""The v2 query on both engines: every answer equals the truth computed in Python from the rows
(tests/warehouse/stats/v2_truth.py), in the documented shape and order, and equals our own
reports (overview, timeseries, sources, pages, events) for the same questions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.warehouse.stats import v2_truth
from tests.warehouse.stats.dataset import NOW, SITE, make_dataset, store
from traytic.warehouse import Warehouse
from traytic.warehouse.stats import Filters, Stats, StatsQuery
from traytic.warehouse.stats.v2 import V2Stats, parse_query

TZ = "Europe/Berlin"
RANGE = ["2025-02-15", "2025-03-29"]
ROWS = make_dataset()

QUERIES: list[dict[str, Any]] = [
    {"metrics": ["visitors", "events"]},
    {"metrics": ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration", "events"]},
    {"metrics": ["visitors", "pageviews", "bounce_rate"], "dimensions": ["visit:country_name", "visit:city_name"],
     "filters": [["is_not", "visit:country_name", [""]]]},
    {"metrics": ["visitors", "events", "pageviews"], "dimensions": ["visit:utm_medium", "visit:utm_source"]},
    {"metrics": ["visitors"], "filters": [["contains", "event:page", ["/docs", "/pricing"]], ["is", "visit:country_name", ["Germany", "United States"]]]},
    {"metrics": ["visitors", "visits"], "filters": [["contains", "event:page", ["/BLOG"], {"case_sensitive": False}]]},
    {"metrics": ["visitors", "events"], "dimensions": ["time:day"], "filters": [["is", "visit:os", ["Linux", "iOS"]]]},
    {"metrics": ["visitors", "visits", "bounce_rate", "visit_duration"], "dimensions": ["time:week"]},
    {"metrics": ["visits", "views_per_visit"], "dimensions": ["time:month", "visit:device"]},
    {"metrics": ["visitors"], "dimensions": ["time:day", "event:props:plan"],
     "order_by": [["time:day", "asc"], ["event:props:plan", "desc"]]},
    {"metrics": ["visitors", "visits", "percentage"], "dimensions": ["visit:entry_page"]},
    {"metrics": ["visitors", "bounce_rate"], "dimensions": ["visit:exit_page", "visit:source"]},
    {"metrics": ["visitors", "visit_duration"], "dimensions": ["event:page"],
     "filters": [["matches", "event:page", ["^/BLOG"], {"case_sensitive": False}]]},
    {"metrics": ["events", "visitors"], "dimensions": ["event:name"],
     "filters": [["or", [["is", "event:name", ["signup"]], ["matches_not", "event:props:file", ["\\.pdf$"]]]]]},
    {"metrics": ["visitors", "pageviews"], "filters": [["has_done", ["is", "event:name", ["download"]]]]},
    {"metrics": ["visitors", "pageviews"], "filters": [["has_not_done", ["is", "event:name", ["download", "signup"]]], ["not", ["is", "visit:entry_page", ["/"]]]]},
    {"metrics": ["visitors", "bounce_rate"], "dimensions": ["visit:region_name", "visit:region"]},
    {"metrics": ["visitors"], "dimensions": ["visit:browser", "visit:browser_version"], "filters": [["contains_not", "visit:browser", ["fire"], {"case_sensitive": False}]]},
]  # fmt: skip


def _query(body: dict[str, Any]) -> Any:
    full = {"site_id": SITE, "date_range": RANGE, **body}
    return parse_query(full, site_id=SITE, tz=TZ, now=NOW)


def _sort_key(query: Any, row: dict[str, Any]) -> list[Any]:
    key: list[Any] = []
    for name, direction in query.order_by:
        if name in query.dimensions:
            value: Any = row["dimensions"][query.dimensions.index(name)]
            key.append(value if direction == "asc" else [-ord(c) for c in value])
        else:
            number = row["metrics"][query.metrics.index(name)]
            key.append(number if direction == "asc" else -number)
    return key


@pytest.fixture
async def stored(warehouse: Warehouse) -> Warehouse:
    await store(warehouse, ROWS)
    return warehouse


async def test_answers_equal_the_truth(stored: Warehouse) -> None:
    for body in QUERIES:
        await _check_against_truth(stored, body)


async def _check_against_truth(stored: Warehouse, body: dict[str, Any]) -> None:
    query = _query(body)
    answer = await V2Stats(stored).run(query)
    truth = v2_truth.answer(ROWS, query)
    got = {tuple(row["dimensions"]): row["metrics"] for row in answer["results"]}
    expected = {key: [figures[m] for m in query.metrics] for key, figures in truth.items()}
    if not query.dimensions and not expected:
        expected = {(): [0 for _ in query.metrics]}
    assert got == expected, body
    assert len(got) > 0 and any(any(v for v in metrics) for metrics in got.values())
    keys = [_sort_key(query, row) for row in answer["results"]]
    assert keys == sorted(keys), "rows are in the order the query asks for"
    assert answer["query"]["metrics"] == list(query.metrics)
    assert answer["query"]["date_range"] == [
        "2025-02-15T00:00:00+01:00",
        "2025-03-29T23:59:59+01:00",
    ]


async def test_pagination_total_rows_and_time_labels(stored: Warehouse) -> None:
    body = {
        "metrics": ["visitors", "events", "pageviews"],
        "dimensions": ["visit:utm_medium", "visit:utm_source"],
    }
    everything = (await V2Stats(stored).run(_query(body)))["results"]
    paged = await V2Stats(stored).run(
        _query({**body, "include": {"total_rows": True}, "pagination": {"offset": 1, "limit": 2}})
    )
    assert paged["results"] == everything[1:3]
    assert paged["meta"] == {"total_rows": len(everything)}
    hourly = _query({"metrics": ["visitors"], "dimensions": ["time:hour"], "date_range": ["2025-03-29", "2025-03-29"],
                     "include": {"time_labels": True}})  # fmt: skip
    answer = await V2Stats(stored).run(hourly)
    labels = answer["meta"]["time_labels"]
    assert (
        len(labels) == 24
        and labels[0] == "2025-03-29 00:00:00"
        and labels[-1] == "2025-03-29 23:00:00"
    )
    assert {row["dimensions"][0] for row in answer["results"]} <= set(labels)
    truth = v2_truth.answer(ROWS, hourly)
    assert {tuple(r["dimensions"]): r["metrics"][0] for r in answer["results"]} == {
        k: v["visitors"] for k, v in truth.items()
    }


async def test_equals_our_own_reports(stored: Warehouse) -> None:
    """The same questions through the stats API's service give the same numbers."""
    stats, v2 = Stats(stored), V2Stats(stored)
    report_query = StatsQuery.build(SITE, date_from=RANGE[0], date_to=RANGE[1], tz=TZ, limit=100)
    overview = await stats.overview(report_query)
    total = (await v2.run(_query({"metrics": ["visitors", "pageviews", "events"]})))["results"][0][
        "metrics"
    ]
    assert total == [
        overview.visitors.value,
        overview.pageviews.value,
        overview.pageviews.value + overview.events.value,
    ]

    on_blog = StatsQuery.build(
        SITE, date_from=RANGE[0], date_to=RANGE[1], tz=TZ, filters=Filters.of(path="/blog")
    )
    blog = await stats.overview(on_blog)
    metrics = [
        "visitors",
        "visits",
        "pageviews",
        "bounce_rate",
        "visit_duration",
        "views_per_visit",
    ]
    got = (
        await v2.run(_query({"metrics": metrics, "filters": [["is", "event:page", ["/blog"]]]}))
    )["results"][0]["metrics"]
    assert got == [
        blog.visitors.value, blog.visits.value, blog.pageviews.value, round(100 * blog.bounce_rate.value, 2),
        round(blog.visit_duration.value), round(blog.views_per_visit.value, 2),
    ]  # fmt: skip

    series = await stats.timeseries(on_blog)
    days = await v2.run(_query({"metrics": ["visitors", "visits", "pageviews"], "dimensions": ["time:day"],
                                "filters": [["is", "event:page", ["/blog"]]]}))  # fmt: skip
    by_day = {row["dimensions"][0]: row["metrics"] for row in days["results"]}
    for b in series.buckets:
        expected = [b.visitors, b.visits, b.pageviews]
        assert by_day.get(b.start.date().isoformat(), [0, 0, 0]) == expected

    sources = await stats.sources(report_query)
    by_source = await v2.run(
        _query({"metrics": ["visitors", "visits", "pageviews"], "dimensions": ["visit:source"]})
    )
    got_sources = {row["dimensions"][0]: row["metrics"] for row in by_source["results"]}
    assert got_sources == {
        (row.value or "Direct / None"): [row.visitors, row.visits, row.pageviews]
        for row in sources.sources
    }

    pages = await stats.pages(report_query)
    by_page = await v2.run(_query({"metrics": ["visitors", "visits", "pageviews"], "dimensions": ["event:page"],
                                   "filters": [["is", "event:name", ["pageview"]]]}))  # fmt: skip
    assert {r["dimensions"][0]: r["metrics"] for r in by_page["results"]} == {
        row.value: [row.visitors, row.visits, row.pageviews] for row in pages.pages
    }

    events = await stats.events(report_query)
    signup = next(e for e in events.events if e.name == "signup")
    plans = await v2.run(_query({"metrics": ["events", "visitors"], "dimensions": ["event:props:plan"],
                                 "filters": [["is", "event:name", ["signup"]]]}))  # fmt: skip
    assert {r["dimensions"][0]: r["metrics"] for r in plans["results"]} == {
        p.value: [p.events, p.visitors] for p in signup.props if p.key == "plan"
    }
