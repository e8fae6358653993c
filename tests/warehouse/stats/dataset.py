"""A known dataset for the stats tests and, independently of the SQL, the answers it implies.

`make_dataset` draws sessions (visitors, pages, sources, places, devices, custom events with
props, vitals) for one site plus a noise site; the `expected_*` functions compute each stats
answer in plain Python from the same rows.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from traytic.warehouse import EventRow, Warehouse
from traytic.warehouse.stats import FILTER_COLUMNS, VITAL_THRESHOLDS, Filters, StatsQuery, plan

SITE = "st_main"
NOISE = "st_noise"
NOW = datetime(2025, 3, 30, 14, 25, 7, tzinfo=UTC)
"""Just before Europe's spring DST change ends a day of 23 hours in some zones' ranges."""

PAGES = ["/", "/blog", "/blog/hello", "/pricing", "/docs", "/docs/install"]
SOURCES = [
    ("", "", "Direct"),
    ("Google", "https://www.google.com/", "Organic Search"),
    ("Hacker News", "https://news.ycombinator.com/", "Referral"),
    ("Twitter", "https://t.co/", "Organic Social"),
]
PLACES = [
    ("DE", "BE", "Berlin"),
    ("DE", "BY", "Munich"),
    ("US", "CA", "San Francisco"),
    ("FR", "IDF", "Paris"),
    ("", "", ""),
]
DEVICES = [
    ("desktop", "Chrome", "122", "Windows", "11", "desktop"),
    ("mobile", "Safari", "17", "iOS", "17.3", "mobile"),
    ("desktop", "Firefox", "123", "Linux", "", "laptop"),
    ("tablet", "Chrome", "121", "Android", "14", "tablet"),
]
UTMS = [("", "", ""), ("newsletter", "email", "spring"), ("ads", "cpc", "launch")]
EVENT_PROPS = {
    "signup": [("plan", ["free", "pro", "team"])],
    "download": [("file", ["a.pdf", "b.zip"]), ("os", ["mac", "linux"])],
}

_ids = iter(range(1, 10**9))


def event(**fields: Any) -> EventRow:
    """An EventRow with harmless defaults: pass only what a test cares about."""
    values: dict[str, Any] = {
        "site_id": SITE,
        "ts": int(NOW.timestamp()) - 3600,
        "type": "pageview",
        "name": "",
        "event_id": next(_ids),
        "visitor_id": 1,
        "session_id": 1,
        "hostname": "example.com",
        "pathname": "/",
        "referrer": "",
        "referrer_source": "",
        "channel": "Direct",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "utm_term": "",
        "utm_content": "",
        "country": "",
        "region": "",
        "city": "",
        "browser": "",
        "browser_version": "",
        "os": "",
        "os_version": "",
        "device": "",
        "screen": "",
        "language": "en-US",
        "props_key": [],
        "props_value": [],
        "value": 0.0,
    }
    if isinstance(fields.get("ts"), datetime):
        fields["ts"] = int(fields["ts"].timestamp())
    values.update(fields)
    return EventRow(**values)


def make_dataset(seed: int = 5, sessions: int = 160, days: int = 70) -> list[EventRow]:
    rng = random.Random(seed)
    rows: list[EventRow] = []
    end = int(NOW.timestamp())
    for n in range(sessions):
        site = SITE if n % 9 else NOISE
        visitor = rng.randrange(1, sessions // 2)
        session = 10_000 + n
        ts = end - rng.randrange(0, days * 86400)
        source, referrer, channel = rng.choice(SOURCES)
        country, region, city = rng.choice(PLACES)
        device, browser, browser_version, os, os_version, screen = rng.choice(DEVICES)
        utm_source, utm_medium, utm_campaign = rng.choice(UTMS)
        common = {
            "site_id": site,
            "visitor_id": visitor,
            "session_id": session,
            "referrer_source": source,
            "referrer": referrer,
            "channel": channel,
            "utm_source": utm_source,
            "utm_medium": utm_medium,
            "utm_campaign": utm_campaign,
            "utm_term": "t1" if utm_source == "ads" else "",
            "utm_content": "",
            "country": country,
            "region": region,
            "city": city,
            "device": device,
            "browser": browser,
            "browser_version": browser_version,
            "os": os,
            "os_version": os_version,
            "screen": screen,
        }
        for _ in range(rng.choice([1, 1, 2, 3, 5])):
            page = rng.choice(PAGES)
            rows.append(event(ts=ts, pathname=page, **common))
            for metric, (_good, poor) in VITAL_THRESHOLDS.items():
                if rng.random() < 0.6:
                    value = round(rng.uniform(0, poor * 1.5), 3 if metric == "CLS" else 1)
                    rows.append(
                        event(
                            ts=ts, type="vital", name=metric, value=value, pathname=page, **common
                        )
                    )
            if rng.random() < 0.3:
                name = rng.choice(sorted(EVENT_PROPS))
                keys = [key for key, _ in EVENT_PROPS[name]]
                values = [rng.choice(options) for _, options in EVENT_PROPS[name]]
                ts += rng.randrange(1, 30)
                rows.append(
                    event(
                        ts=ts,
                        type="event",
                        name=name,
                        pathname=page,
                        props_key=keys,
                        props_value=values,
                        **common,
                    )
                )
            ts += rng.randrange(5, 400)
        rows.append(event(ts=ts, type="error", name="TypeError", **common))
    return rows


# ---- the answers, computed in Python -------------------------------------------------------


def _matches(row: EventRow, filters: Filters, *, event_filters: bool = True) -> bool:
    for name, value in filters.columns:
        if getattr(row, FILTER_COLUMNS[name]) != value:
            return False
    if not event_filters:
        return True
    if filters.event is not None and (row.type != "event" or row.name != filters.event):
        return False
    pairs = zip(row.props_key, row.props_value, strict=True)
    return filters.prop is None or filters.prop in pairs


def select(
    rows: Iterable[EventRow],
    query: StatsQuery,
    *,
    types: tuple[str, ...] = ("pageview", "event"),
    start: datetime | None = None,
    end: datetime | None = None,
    event_filters: bool = True,
) -> list[EventRow]:
    lo = int((start or query.start).timestamp())
    hi = int((end or query.end).timestamp())
    return [
        row
        for row in rows
        if row.site_id == query.site_id
        and lo <= row.ts < hi
        and row.type in types
        and _matches(row, query.filters, event_filters=event_filters)
    ]


@dataclass
class Figures:
    visitors: int
    visits: int
    pageviews: int
    views_per_visit: float
    bounce_rate: float
    visit_duration: float
    events: int


def figures(traffic: list[EventRow], sessions: dict[int, list[EventRow]]) -> Figures:
    visits = len(sessions)
    pageviews = sum(row.type == "pageview" for row in traffic)
    bounces = sum(sum(r.type == "pageview" for r in rows) == 1 for rows in sessions.values())
    durations = [max(r.ts for r in rows) - min(r.ts for r in rows) for rows in sessions.values()]
    return Figures(
        visitors=len({row.visitor_id for row in traffic}),
        visits=visits,
        pageviews=pageviews,
        views_per_visit=pageviews / visits if visits else 0.0,
        bounce_rate=bounces / visits if visits else 0.0,
        visit_duration=sum(durations) / visits if visits else 0.0,
        events=sum(row.type == "event" for row in traffic),
    )


def _by_session(rows: Iterable[EventRow]) -> dict[int, list[EventRow]]:
    grouped: dict[int, list[EventRow]] = defaultdict(list)
    for row in rows:
        grouped[row.session_id].append(row)
    return grouped


def session_starts(rows: Iterable[EventRow]) -> dict[tuple[str, int], int]:
    """When each visit started (its first event of any type), as the consumer records it."""
    starts: dict[tuple[str, int], int] = {}
    for row in rows:
        key = (row.site_id, row.session_id)
        starts[key] = min(starts.get(key, row.ts), row.ts)
    return starts


async def store(warehouse: Warehouse, rows: list[EventRow]) -> None:
    """Insert rows and write their visits, as the consumer does after each insert."""
    await warehouse.insert_events(rows)
    await warehouse.refresh_sessions(session_starts(rows))


def visits(
    rows: list[EventRow], query: StatsQuery, *, types: tuple[str, ...] = ("pageview", "event")
) -> dict[int, list[EventRow]]:
    """The visits a query counts, each with its rows of `types`.

    As the product defines it (traytic.warehouse.stats.plan): with no filter or only filters on
    a visit's attributes, the visits that *start* in the range, whole, matched on their first
    event; with a page, event or prop filter, the matching events inside the range."""
    if not plan.visits_from_sessions(query):
        return _by_session(select(rows, query, types=types))
    starts = session_starts(rows)
    lo, hi = int(query.start.timestamp()), int(query.end.timestamp())
    site_rows = [r for r in rows if r.site_id == query.site_id and r.type in ("pageview", "event")]
    whole = _by_session(site_rows)
    found = {}
    for session, session_rows in whole.items():
        first = min(session_rows, key=lambda r: r.ts)
        if not lo <= starts[(query.site_id, session)] < hi or not _matches(first, query.filters):
            continue
        kept = [r for r in session_rows if r.type in types]
        if kept:
            found[session] = kept
    return found


def expected_overview(rows: list[EventRow], query: StatsQuery) -> tuple[Figures, Figures]:
    previous = query.previous()
    return (
        figures(select(rows, query), visits(rows, query)),
        figures(select(rows, previous), visits(rows, previous)),
    )


def local_bucket(ts: int, query: StatsQuery) -> datetime:
    """The first instant of the bucket holding `ts`, computed with zoneinfo."""
    zone = ZoneInfo(query.tz)
    local = datetime.fromtimestamp(ts, UTC).astimezone(zone)
    if query.interval == "hour":
        return local.replace(minute=0, second=0)
    return datetime(local.year, local.month, local.day, tzinfo=zone)


def expected_timeseries(rows: list[EventRow], query: StatsQuery) -> dict[datetime, Figures]:
    traffic = select(rows, query)
    by_bucket: dict[datetime, list[EventRow]] = defaultdict(list)
    for row in traffic:
        by_bucket[local_bucket(row.ts, query)].append(row)
    sessions_by_bucket: dict[datetime, dict[int, list[EventRow]]] = defaultdict(dict)
    for session, session_rows in visits(rows, query).items():
        started = min(r.ts for r in session_rows)
        sessions_by_bucket[local_bucket(started, query)][session] = session_rows
    keys = set(by_bucket) | set(sessions_by_bucket)
    return {key: figures(by_bucket.get(key, []), sessions_by_bucket.get(key, {})) for key in keys}


def expected_days(query: StatsQuery) -> list[date]:
    zone = ZoneInfo(query.tz)
    first = query.start.astimezone(zone).date()
    last = (query.end - timedelta(seconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


Key = Callable[[EventRow], tuple[str, str | None]]


def expected_breakdown(
    rows: list[EventRow],
    query: StatsQuery,
    key: Key,
    *,
    skip_empty: bool = False,
    types: tuple[str, ...] = ("pageview", "event"),
) -> list[tuple[str, str | None, int, int, int]]:
    """(value, parent, visitors, visits, pageviews), ranked, the page the query asks for."""
    groups: dict[tuple[str, str | None], list[EventRow]] = defaultdict(list)
    for row in select(rows, query, types=types):
        value, parent = key(row)
        if skip_empty and not value:
            continue
        groups[(value, parent)].append(row)
    ranked = sorted(
        (
            (
                value,
                parent,
                len({r.visitor_id for r in g}),
                len({r.session_id for r in g}),
                sum(r.type == "pageview" for r in g),
            )
            for (value, parent), g in groups.items()
        ),
        key=lambda t: (-t[2], -t[4], t[0], t[1] or ""),
    )
    return ranked[query.offset : query.offset + query.limit]


def expected_session_pages(
    rows: list[EventRow], query: StatsQuery, *, exit: bool
) -> list[tuple[str, int, int]]:
    pages: dict[str, list[EventRow]] = defaultdict(list)
    for session_rows in visits(rows, query, types=("pageview",)).values():
        pick = max if exit else min
        chosen = pick(session_rows, key=lambda r: r.ts)
        pages[chosen.pathname].append(chosen)
    ranked = sorted(
        ((page, len({r.visitor_id for r in g}), len(g)) for page, g in pages.items()),
        key=lambda t: (-t[2], -t[1], t[0]),
    )
    return ranked[query.offset : query.offset + query.limit]


def quantile(values: list[float], level: float) -> float:
    """Linear interpolation between closest ranks (ClickHouse `quantiles` below 8192 samples)."""
    ordered = sorted(values)
    position = level * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class ExpectedVital:
    p75: float
    p95: float
    samples: int
    good: float
    needs_improvement: float
    poor: float


def expected_vitals(
    rows: list[EventRow], query: StatsQuery, *, per_route: bool
) -> dict[tuple[str, str | None], ExpectedVital]:
    groups: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for row in select(rows, query, types=("vital",), event_filters=False):
        if row.name in VITAL_THRESHOLDS:
            groups[(row.name, row.pathname if per_route else None)].append(row.value)
    answers = {}
    for (metric, route), values in groups.items():
        good, poor = VITAL_THRESHOLDS[metric]
        n = len(values)
        answers[(metric, route)] = ExpectedVital(
            p75=quantile(values, 0.75),
            p95=quantile(values, 0.95),
            samples=n,
            good=sum(v <= good for v in values) / n,
            needs_improvement=sum(good < v <= poor for v in values) / n,
            poor=sum(v > poor for v in values) / n,
        )
    return answers
