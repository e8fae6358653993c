"""`include: {"imports": true}` of a v2 query: imported figures as rows the service merges with
the native ones (`V2Stats.run`'s `extra`), as Plausible's Stats API adds its imported_* tables.

They apply to queries without filters whose dimensions are at most one time dimension (by day,
week or month: imported rows are daily) and one dimension imports keep; any other query answers
native data alone, with `meta.imports_included: false` and the reason in
`meta.imports_skip_reason` (Plausible's field names).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from traytic.warehouse.base import Warehouse
from traytic.warehouse.imports.figures import TOTALS
from traytic.warehouse.stats.imported import ImportedFigures, whole_days_between
from traytic.warehouse.stats.v2.catalog import TIME_DIMENSIONS, VISIT_COLUMNS
from traytic.warehouse.stats.v2.query import V2Query

IMPORTED_DIMENSIONS: dict[str, str] = {
    "event:page": "pathname",
    "visit:entry_page": "entry_page",
    "visit:exit_page": "exit_page",
    "visit:source": "referrer_source",
    "visit:referrer": "referrer",
    "visit:channel": "channel",
    "visit:utm_source": "utm_source",
    "visit:utm_medium": "utm_medium",
    "visit:utm_campaign": "utm_campaign",
    "visit:utm_content": "utm_content",
    "visit:utm_term": "utm_term",
    "visit:device": "device",
    "visit:browser": "browser",
    "visit:os": "os",
    "visit:country": "country",
    "visit:screen": "screen",
}
"""v2 dimensions imported rows carry → their `imported_stats` dimension."""


def skip_reason(query: V2Query) -> str | None:
    """Why imported figures cannot be added to this query, or None when they can."""
    if query.echo.get("filters"):
        return "imported data cannot be filtered"
    others = [d for d in query.dimensions if d not in TIME_DIMENSIONS]
    if len(others) > 1 or any(d not in IMPORTED_DIMENSIONS for d in others):
        return f"imported data has no breakdown by {', '.join(others)}"
    if query.time_dimension is not None and query.interval == "hour":
        return "imported data is daily: no hourly buckets"
    return None


def _days(query: V2Query) -> tuple[date, date] | None:
    return whole_days_between(query.start, query.end, query.zone)


def _bucket(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


async def imported_rows(warehouse: Warehouse, query: V2Query) -> list[dict[str, Any]] | None:
    """The imported rows of the query (`d0..` keys, `m_*` sums), or None when they do not apply."""
    if skip_reason(query) is not None:
        return None
    days = _days(query)
    if days is None:
        return []
    others = [d for d in query.dimensions if d not in TIME_DIMENSIONS]
    dimension = IMPORTED_DIMENSIONS[others[0]] if others else TOTALS
    by_day = query.time_dimension is not None
    rows = await ImportedFigures(warehouse).rows(query.site_id, dimension, days, by_day=by_day)
    blank = VISIT_COLUMNS[others[0]].blank if others and others[0] in VISIT_COLUMNS else ""
    found = []
    for row in rows:
        keyed: dict[str, Any] = {}
        for n, name in enumerate(query.dimensions):
            if name in TIME_DIMENSIONS:
                keyed[f"d{n}"] = _bucket(row["day"], query.interval)
            else:
                keyed[f"d{n}"] = row["value"] or blank
        keyed.update(
            m_visitors=row["visitors"], m_visits=row["visits"], m_pageviews=row["pageviews"],
            m_events=row["events"], m_bounces=row["bounces"], m_duration=row["duration"],
        )  # fmt: skip
        found.append(keyed)
    return found
