"""What a v2 query must answer, computed in plain Python from the rows a test stored (no SQL):
the filters select event rows, event metrics count them, visit metrics count each visit's
selected rows, time buckets by each event's time (events) or the visit's start (visits)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pycountry

from traytic.warehouse import EventRow
from traytic.warehouse.stats.v2.query import V2Query
from traytic.warehouse.stats.v2.tree import Behaviour, Leaf, Logic, Negation, Node

BLANKS = {"visit:source": "Direct / None", "visit:referrer": "Direct / None"}
COLUMNS = {
    "event:page": "pathname", "event:hostname": "hostname", "visit:source": "referrer_source",
    "visit:referrer": "referrer", "visit:channel": "channel", "visit:utm_source": "utm_source",
    "visit:utm_medium": "utm_medium", "visit:utm_campaign": "utm_campaign",
    "visit:utm_content": "utm_content", "visit:utm_term": "utm_term", "visit:device": "device",
    "visit:browser": "browser", "visit:browser_version": "browser_version", "visit:os": "os",
    "visit:os_version": "os_version", "visit:screen": "screen", "visit:country": "country",
    "visit:city": "city", "visit:city_name": "city",
}  # fmt: skip


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return (getattr(country, "common_name", None) or country.name) if country else ""


def _region_name(row: EventRow) -> str:
    if not row.region:
        return ""
    found = pycountry.subdivisions.get(code=f"{row.country}-{row.region}")
    return found.name if found else f"{row.country}-{row.region}"


def value(row: EventRow, dimension: str, pages: dict[int, tuple[str, str]]) -> str:
    if dimension == "event:name":
        return "pageview" if row.type == "pageview" else row.name
    if dimension.startswith("event:props:"):
        props = dict(zip(row.props_key, row.props_value, strict=True))
        return props.get(dimension.removeprefix("event:props:"), "(none)")
    if dimension == "visit:country_name":
        return _country_name(row.country)
    if dimension == "visit:region_name":
        return _region_name(row)
    if dimension == "visit:region":
        return f"{row.country}-{row.region}" if row.region else ""
    if dimension in ("visit:entry_page", "visit:exit_page"):
        entry, exit_ = pages.get(row.session_id, ("", ""))
        return entry if dimension == "visit:entry_page" else exit_
    found: str = getattr(row, COLUMNS[dimension])
    if (
        not found
        and dimension.startswith("visit:")
        and dimension not in ("visit:country", "visit:city", "visit:city_name")
    ):
        return BLANKS.get(dimension, "(not set)")
    return found


def _leaf(leaf: Leaf, text: str) -> bool:
    def fold(s: str) -> str:
        return s if leaf.case_sensitive else s.lower()

    operator = leaf.operator.removesuffix("_not")
    clauses = [
        BLANKS.get(leaf.dimension, "") if c == "" and operator == "is" else c for c in leaf.clauses
    ]
    if operator == "is":
        hit = any(fold(text) == fold(c) for c in clauses)
    elif operator == "contains":
        hit = any(fold(c) in fold(text) for c in clauses)
    else:
        flags = 0 if leaf.case_sensitive else re.IGNORECASE
        hit = any(re.search(c, text, flags) for c in clauses)
    return not hit if leaf.operator.endswith("_not") else hit


def matches(row: EventRow, node: Node, context: dict[str, Any]) -> bool:
    if isinstance(node, Logic):
        test = all if node.operator == "and" else any
        return test(matches(row, child, context) for child in node.children)
    if isinstance(node, Negation):
        return not matches(row, node.child, context)
    if isinstance(node, Behaviour):
        sessions = {r.session_id for r in context["rows"] if matches(r, node.child, context)}
        return (row.session_id in sessions) == node.done
    if node.dimension in ("visit:entry_page", "visit:exit_page"):
        pages = context["range_pages"]
        if row.session_id not in pages:
            return False
        return _leaf(node, value(row, node.dimension, pages))
    return _leaf(node, value(row, node.dimension, context["range_pages"]))


def _pages(rows: Iterable[EventRow]) -> dict[int, tuple[str, str]]:
    by_session: dict[int, list[EventRow]] = defaultdict(list)
    for row in rows:
        if row.type == "pageview":
            by_session[row.session_id].append(row)
    return {
        s: (min(g, key=lambda r: r.ts).pathname, max(g, key=lambda r: r.ts).pathname)
        for s, g in by_session.items()
    }


def bucket(ts: int, query: V2Query) -> str:
    zone = ZoneInfo(query.tz)
    local = datetime.fromtimestamp(ts, UTC).astimezone(zone)
    first = query.start.astimezone(zone).date()
    if query.interval == "hour":
        return local.strftime("%Y-%m-%d %H:00:00")
    day = local.date()
    if query.interval == "week":
        day = max(day - timedelta(days=day.weekday()), first)
    elif query.interval == "month":
        day = max(date(day.year, day.month, 1), first)
    return day.isoformat()


def answer(rows: list[EventRow], query: V2Query) -> dict[tuple[str, ...], dict[str, float]]:
    """Dimension values → metric → value, for every group (not sorted, not paged)."""
    lo, hi = query.start.timestamp(), query.end.timestamp()
    in_range = [
        r for r in rows
        if r.site_id == query.site_id and lo <= r.ts < hi and r.type in ("pageview", "event")
    ]  # fmt: skip
    context = {"rows": in_range, "range_pages": _pages(in_range)}
    selected = [r for r in in_range if matches(r, query.filters, context)]
    time = query.time_dimension

    def key(
        row: EventRow, pages: dict[int, tuple[str, str]], started: int | None = None
    ) -> tuple[str, ...]:
        return tuple(
            bucket(started if started is not None else row.ts, query)
            if d == time
            else value(row, d, pages)
            for d in query.dimensions
        )

    groups: dict[tuple[str, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    visitors: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for row in selected:
        k = key(row, {})
        visitors[k].add(row.visitor_id)
        groups[k]["pageviews"] += row.type == "pageview"
        groups[k]["events"] += 1
    row_dims = [d for d in query.dimensions if d != time and not d.endswith("_page")]
    visits: dict[tuple[Any, ...], list[EventRow]] = defaultdict(list)
    for row in selected:
        visits[(*(value(row, d, {}) for d in row_dims), row.session_id)].append(row)
    session_groups: dict[tuple[str, ...], dict[str, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    visit_visitors: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for visit_rows in visits.values():
        pages = _pages(visit_rows)
        pageviews = sum(r.type == "pageview" for r in visit_rows)
        if any(d.endswith("_page") for d in query.dimensions) and not pageviews:
            continue
        first = min(visit_rows, key=lambda r: r.ts)
        k = key(first, pages, started=first.ts)
        figures = session_groups[k]
        visit_visitors[k].add(first.visitor_id)
        figures["visits"] += 1
        figures["bounces"] += pageviews == 1
        figures["duration"] += max(r.ts for r in visit_rows) - first.ts
        figures["pageviews"] += pageviews
        figures["events"] += len(visit_rows)
    has_pages = any(d.endswith("_page") for d in query.dimensions)
    found: dict[tuple[str, ...], dict[str, float]] = {}
    for k in set(session_groups) if has_pages else set(groups) | set(session_groups):
        event_side = session_groups[k] if has_pages else groups[k]
        people = visit_visitors[k] if has_pages else visitors[k]
        visit_side = session_groups[k]
        n = visit_side["visits"]
        found[k] = {
            "visitors": len(people),
            "pageviews": event_side["pageviews"],
            "events": event_side["events"],
            "visits": n,
            "bounce_rate": round(100 * visit_side["bounces"] / n, 2) if n else 0.0,
            "views_per_visit": round(visit_side["pageviews"] / n, 2) if n else 0.0,
            "visit_duration": round(visit_side["duration"] / n) if n else 0,
        }
    total = len({r.visitor_id for r in selected})
    for figures in found.values():
        figures["percentage"] = round(100 * figures["visitors"] / total, 2) if total else 0.0
    return found
