"""Engagement reports (issue 18) on both engines against answers computed in Python from the
rows sent: time on page and scroll depth per page (in the pages report too), engaged time per
visit in the overview, outbound links, downloads and 404s by URL, and errors by message and page.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

import pytest

from tests.warehouse.stats.dataset import NOW, SITE, event, expected_overview, select, store
from traytic.warehouse import EventRow, Warehouse
from traytic.warehouse.rows import ENGAGEMENT
from traytic.warehouse.stats import Filters, Stats, StatsQuery
from traytic.warehouse.stats.engagement import LINK_EVENTS

PAGES = ["/", "/blog/a", "/blog/b", "/docs"]
LINKS = {
    "Outbound Link: Click": ["https://github.com/x", "https://news.ycombinator.com/item"],
    "File Download": ["https://example.com/a.pdf", "https://example.com/b.zip"],
    "404": ["https://example.com/old", "https://example.com/gone"],
}
MESSAGES = ["TypeError: x is undefined", "ReferenceError: y is not defined"]


def make_rows(seed: int = 18) -> list[EventRow]:
    rng = random.Random(seed)
    rows: list[EventRow] = []
    end = int(NOW.timestamp())
    for n in range(120):
        site = SITE if n % 7 else "st_other"
        common = {
            "site_id": site,
            "visitor_id": rng.randrange(1, 60),
            "session_id": 50_000 + n,
            "country": rng.choice(["DE", "FR"]),
        }
        # Some visits before the 7-day range, and some in the previous period.
        ts = end - rng.randrange(0, 16 * 86400)
        for _ in range(rng.choice([1, 2, 3])):
            path = rng.choice(PAGES)
            rows.append(event(ts=ts, pathname=path, **common))
            # A view reports engagement 0 to 3 times (each hide), depths that only grow.
            depth = 0
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                depth = min(100, depth + rng.randrange(0, 60))
                ts += rng.randrange(1, 20)
                rows.append(
                    event(
                        ts=ts,
                        type="vital",
                        name=ENGAGEMENT,
                        pathname=path,
                        engaged_ms=rng.randrange(0, 90_000),
                        scroll_depth=depth,
                        **common,
                    )
                )
            if rng.random() < 0.4:
                name = rng.choice(sorted(LINKS))
                rows.append(
                    event(
                        ts=ts,
                        type="event",
                        name=name,
                        pathname=path,
                        props_key=["url"],
                        props_value=[rng.choice(LINKS[name])],
                        **common,
                    )
                )
            if rng.random() < 0.3:
                source = rng.choice(["", "https://example.com/app.js:1:2"])
                rows.append(
                    event(
                        ts=ts,
                        type="error",
                        name=rng.choice(MESSAGES),
                        pathname=path,
                        error_source=source,
                        **common,
                    )
                )
            ts += rng.randrange(5, 300)
    return rows


ROWS = make_rows()


def rounded(value: float | None) -> float:
    assert value is not None
    return round(value, 6)


def q(**kwargs: object) -> StatsQuery:
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("period", "7d")
    kwargs.setdefault("limit", 50)
    return StatsQuery.build(SITE, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def stats(warehouse: Warehouse) -> Stats:
    await store(warehouse, ROWS)
    return Stats(warehouse)


def expected_pages(query: StatsQuery) -> dict[str, tuple[int, float, float]]:
    views: dict[tuple[int, str], list[EventRow]] = defaultdict(list)
    for row in select(ROWS, query, types=("vital",), event_filters=False):
        if row.name == ENGAGEMENT:
            views[(row.session_id, row.pathname)].append(row)
    per_page: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for (_, path), rows in views.items():
        per_page[path].append((sum(r.engaged_ms for r in rows), max(r.scroll_depth for r in rows)))
    return {
        path: (
            len(found),
            sum(ms for ms, _ in found) / len(found) / 1000,
            sum(depth for _, depth in found) / len(found),
        )
        for path, found in per_page.items()
    }


@pytest.mark.parametrize("filters", [Filters(), Filters.of(country="DE")], ids=["all", "DE"])
async def test_time_on_page_and_scroll_depth(stats: Stats, filters: Filters) -> None:
    query = q(filters=filters)
    expected = expected_pages(query)
    assert len(expected) == len(PAGES) and all(views > 1 for views, _, _ in expected.values())
    answer = await stats.engagement(query)
    got = {
        p.value: (p.views, rounded(p.time_on_page), rounded(p.scroll_depth)) for p in answer.pages
    }
    assert got == {
        path: (n, rounded(ms), rounded(depth)) for path, (n, ms, depth) in expected.items()
    }
    assert [p.views for p in answer.pages] == sorted(
        (v for v, _, _ in expected.values()), reverse=True
    )
    # The pages report carries the same figures beside each page's visitors.
    pages = await stats.pages(query)
    assert {
        row.value: (rounded(row.time_on_page), rounded(row.scroll_depth)) for row in pages.pages
    } == {path: (rounded(ms), rounded(depth)) for path, (_, ms, depth) in expected.items()}


async def test_engaged_time_per_visit_in_the_overview(stats: Stats) -> None:
    query = q()
    answer = await stats.overview(query)
    now, before = expected_overview(ROWS, query)
    previous = query.previous()

    def engaged(start: object, end: object) -> float:
        rows = select(ROWS, query, types=("vital",), start=start, end=end)  # type: ignore[arg-type]
        return sum(r.engaged_ms for r in rows if r.name == ENGAGEMENT) / 1000

    assert now.visits and before.visits
    assert answer.engaged_time.value == pytest.approx(engaged(query.start, query.end) / now.visits)
    assert answer.engaged_time.previous == pytest.approx(
        engaged(previous.start, previous.end) / before.visits
    )


async def test_outbound_links_downloads_and_not_found_pages(stats: Stats) -> None:
    query = q(period="30d")
    answer = await stats.engagement(query)
    for kind, name in LINK_EVENTS.items():
        rows = [r for r in select(ROWS, query, types=("event",)) if r.name == name]
        counts: dict[str, int] = defaultdict(int)
        visitors: dict[str, set[int]] = defaultdict(set)
        for row in rows:
            counts[row.props_value[0]] += 1
            visitors[row.props_value[0]].add(row.visitor_id)
        got = getattr(answer, kind)
        assert {r.value: (r.events, r.visitors) for r in got} == {
            url: (n, len(visitors[url])) for url, n in counts.items()
        }, kind
        assert [r.events for r in got] == sorted(counts.values(), reverse=True)
        assert counts, f"the dataset must hold {kind}"


async def test_errors_by_message_and_page(stats: Stats) -> None:
    query = q(period="30d")
    groups: dict[tuple[str, str], list[EventRow]] = defaultdict(list)
    for row in select(ROWS, query, types=("error",)):
        groups[(row.name, row.pathname)].append(row)
    answer = await stats.errors(q(period="30d", limit=100))
    got = {
        (e.message, e.page): (
            e.errors,
            e.visitors,
            e.source,
            int(e.first_seen.timestamp()),
            int(e.last_seen.timestamp()),
        )
        for e in answer.errors
    }
    assert got == {
        key: (
            len(rows),
            len({r.visitor_id for r in rows}),
            max(r.error_source for r in rows),
            min(r.ts for r in rows),
            max(r.ts for r in rows),
        )
        for key, rows in groups.items()
    }
    assert [e.errors for e in answer.errors] == sorted(
        (len(r) for r in groups.values()), reverse=True
    )
    # A range with nothing in it answers empty lists, not an error.
    long_ago = (NOW - timedelta(days=400)).date()
    empty = await stats.engagement(StatsQuery.build(SITE, date_from=long_ago, date_to=long_ago))
    assert (empty.pages, empty.outbound_links, empty.downloads, empty.not_found) == ([], [], [], [])


async def test_the_error_filter_selects_the_visits_that_met_it(stats: Stats) -> None:
    message = MESSAGES[0]
    query = q(period="30d", filters=Filters.of(error=message))
    met = {r.session_id for r in select(ROWS, query, types=("error",)) if r.name == message}
    traffic = [r for r in select(ROWS, query) if r.session_id in met]
    assert met and traffic
    answer = await stats.overview(query)
    assert answer.visits.value == len(met & {r.session_id for r in traffic})
    assert answer.visitors.value == len({r.visitor_id for r in traffic})
    assert answer.pageviews.value == sum(r.type == "pageview" for r in traffic)
    # The errors report under it: the errors of those visits only.
    errors = await stats.errors(q(period="30d", limit=100, filters=Filters.of(error=message)))
    expected = [r for r in select(ROWS, query, types=("error",)) if r.session_id in met]
    assert sum(e.errors for e in errors.errors) == len(expected)
