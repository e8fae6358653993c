"""The numbers in reports and alerts, read through the same `Stats` service (and the same
`StatsQuery` validation) as `GET /api/events/...`, so a report equals what the API answers for
the same site, days and time zone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from traytic.alerts.schedule import Period
from traytic.warehouse.stats import Stats, StatsQuery
from traytic.warehouse.stats import goals as goal_statements
from traytic.warehouse.stats.conversions import GoalStats
from traytic.warehouse.stats.goals import Target
from traytic.warehouse.stats.matching import Goal
from traytic.warehouse.stats.params import local_midnight
from traytic.warehouse.stats.results import Goals, Overview, Row, Timeseries
from traytic.warehouse.stats.revenue import Conversion

TOP = 5
"""Rows of each top list in a report."""


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """What a report shows: `GET .../overview`, `timeseries`, and the first rows of `pages`,
    `sources` and `countries`, each with `from`, `to`, `tz` (and `limit=5` for the lists)."""

    period: Period
    tz: str
    overview: Overview
    timeseries: Timeseries
    pages: list[Row]
    sources: list[Row]
    countries: list[Row]
    goals: Goals | None = None
    """`GET .../goals` for the same days, when the site has goals."""


async def report_figures(
    stats: Stats,
    site_id: str,
    period: Period,
    tz: str,
    *,
    goals: Sequence[Goal] = (),
    conversion: Conversion | None = None,
) -> ReportFigures:
    """The report's numbers; with `goals`, their conversions too (revenue through
    `conversion`, the site's reporting currency)."""
    query = StatsQuery.build(site_id, date_from=period.first, date_to=period.last, tz=tz, limit=TOP)
    overview, timeseries, pages, sources, countries = await asyncio.gather(
        stats.overview(query),
        stats.timeseries(query),
        stats.pages(query),
        stats.sources(query),
        stats.countries(query),
    )
    converted = None
    if goals:
        converted = await GoalStats(stats, conversion or Conversion()).goals(query, goals)
    return ReportFigures(
        period=period,
        tz=tz,
        overview=overview,
        timeseries=timeseries,
        pages=pages.pages,
        sources=sources.sources,
        countries=countries.countries,
        goals=converted,
    )


async def goal_conversions(
    stats: Stats, site_id: str, goal: Goal, *, tz: str, now: datetime, window_s: int
) -> int:
    """A goal's conversions (matching events, as `totalConversions` counts them) in the
    `window_s` seconds before `now`."""
    query = StatsQuery(site_id=site_id, start=now - timedelta(seconds=window_s), end=now, tz=tz)
    statement = goal_statements.overview(query, Target((goal,)), Conversion())
    rows = await stats.warehouse.query(statement.sql, statement.params)
    return sum(int(row["conversions"]) for row in rows if int(row["is_current"]) == 1)


async def current_visitors(stats: Stats, site_id: str, tz: str, now: datetime) -> int:
    """Visitors of the last five minutes: the live view's count (`GET .../live`)."""
    query = StatsQuery.build(site_id, period="24h", tz=tz, now=now)
    return (await stats.live(query, now=now)).visitors


@dataclass(frozen=True, slots=True)
class DayToDate:
    """Visitors from local midnight to the start of the current hour, today and on the same
    weekday of each of the previous weeks (the same hours, so a morning is not compared with a
    whole day)."""

    hours: int
    today: int
    previous: list[int]

    @property
    def usual(self) -> float:
        return sum(self.previous) / len(self.previous) if self.previous else 0.0


async def day_to_date(stats: Stats, site_id: str, tz: str, now: datetime, weeks: int) -> DayToDate:
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    hours = local.hour

    def window(days_back: int) -> StatsQuery:
        day = local.date() - timedelta(days=days_back)
        start = local_midnight(day, zone)
        end = datetime(day.year, day.month, day.day, hours, tzinfo=zone).astimezone(UTC)
        return StatsQuery(site_id=site_id, start=start, end=max(end, start), tz=tz)

    if hours == 0:
        return DayToDate(hours=0, today=0, previous=[])
    answers = await asyncio.gather(*(stats.overview(window(7 * week)) for week in range(weeks + 1)))
    counts = [int(answer.visitors.value) for answer in answers]
    return DayToDate(hours=hours, today=counts[0], previous=counts[1:])
