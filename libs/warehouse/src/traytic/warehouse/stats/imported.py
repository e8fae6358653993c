"""Imported figures added to the stats answers (`imported=true`), as Plausible adds its
imported_* tables: visitors, visits, pageviews, bounces and visit seconds of each imported day
and value are summed onto the native ones (a visitor counted by the old tool cannot be matched
to one counted here, so distinct counts add).

Imported rows are daily, so they count in ranges of whole local days only: a day's figures are
added when the whole day lies inside the range (the last 24 hours and hourly buckets get none).
Filters cannot apply to daily totals, so a filtered query answers native data alone and says
so (`importsIncluded: false`). Only the newest finished run of each import is read
(`ImportStore.visible_runs`).
"""

# ruff: noqa: S608 - the f-strings splice fixed column lists; every value is bound

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from traytic.warehouse.base import Warehouse
from traytic.warehouse.imports.figures import DIMENSIONS
from traytic.warehouse.imports.store import ImportStore
from traytic.warehouse.stats.params import StatsQuery, local_midnight

FIGURES = ("visitors", "visits", "pageviews", "bounces", "duration", "events")
Figures = dict[str, int]


def whole_days(query: StatsQuery) -> tuple[date, date] | None:
    """The first and last local day lying wholly inside the query's range, if any."""
    return whole_days_between(query.start, query.end, query.zone)


def whole_days_between(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[date, date] | None:
    """The first and last day in `zone` lying wholly inside [start, end), if any (the stats
    API's and the v2 query's ranges alike)."""
    first = start.astimezone(zone).date()
    if local_midnight(first, zone) < start:
        first += timedelta(days=1)
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    if local_midnight(last + timedelta(days=1), zone) > end:
        last -= timedelta(days=1)
    return (first, last) if first <= last else None


def applies(query: StatsQuery) -> bool:
    """Whether imported figures are added to this query's answer."""
    return query.imported and not query.filters.any


class ImportedFigures:
    """Reads imported figures for the stats answers."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.store = ImportStore(warehouse)

    async def rows(
        self, site_id: str, dimension: str, days: tuple[date, date], *, by_day: bool
    ) -> list[dict[str, Any]]:
        """One dimension's figures per value (and per day when `by_day`) over `days`."""
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown import dimension {dimension!r}")
        runs = await self.store.visible_runs(site_id)
        if not runs:
            return []
        day = "day, " if by_day else ""
        return await self.warehouse.query(
            f"SELECT dimension, {day}value, parent, sum(visitors) AS visitors,"
            " sum(visits) AS visits, sum(pageviews) AS pageviews, sum(bounces) AS bounces,"
            " sum(visit_duration) AS duration, sum(events) AS events"
            " FROM imported_stats WHERE site_id = {site_id:String} AND run IN {runs}"
            " AND dimension = {dimension:String} AND day >= {first} AND day <= {last}"
            f" GROUP BY dimension, {day}value, parent",
            {"site_id": site_id, "runs": runs, "dimension": dimension, "first": days[0],
             "last": days[1]},
        )  # fmt: skip

    async def daily_totals(self, query: StatsQuery, *periods: StatsQuery) -> dict[date, Figures]:
        """The site's imported totals per local day, over the whole days of `periods`."""
        spans = [span for period in periods if (span := whole_days(period)) is not None]
        if not spans:
            return {}
        first, last = min(s[0] for s in spans), max(s[1] for s in spans)
        rows = await self.rows(query.site_id, "visitors", (first, last), by_day=True)
        return {row["day"]: {name: int(row[name]) for name in FIGURES} for row in rows}

    async def values(self, query: StatsQuery, dimension: str) -> list[dict[str, Any]]:
        """One dimension's imported figures per (value, parent) over the query's whole days."""
        days = whole_days(query)
        if days is None:
            return []
        return await self.rows(query.site_id, dimension, days, by_day=False)


def period_sum(daily: dict[date, Figures], query: StatsQuery) -> Figures:
    """The summed figures of the days of `daily` lying wholly inside the query's range."""
    days = whole_days(query)
    found: Figures = defaultdict(int)
    if days is None:
        return found
    for day, figures in daily.items():
        if days[0] <= day <= days[1]:
            for name, value in figures.items():
                found[name] += value
    return found


def added(
    traffic: dict[str, Any], visits: dict[str, Any], extra: Figures
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A period's native traffic and visit rows with imported figures added."""
    traffic = dict(traffic)
    visits = dict(visits)
    for name in ("visitors", "pageviews", "events"):
        traffic[name] = int(traffic.get(name, 0)) + extra.get(name, 0)
    for name in ("visits", "bounces", "duration"):
        visits[name] = int(visits.get(name, 0)) + extra.get(name, 0)
    return traffic, visits
