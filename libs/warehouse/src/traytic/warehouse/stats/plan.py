"""Which tables can answer a query: the rollups and `sessions` when they hold what it asks for,
`events` otherwise. Every rule here keeps the answer equal to the raw one.

- Traffic totals (visitors, pageviews, events; overview and timeseries) come from
  `traffic_hours` (or `traffic_quarters` in zones with offsets of :30 and :45) when nothing is
  filtered: every bucket then starts and ends on a whole slot.
- Visit figures (visits, bounces, duration, entry and exit pages) come from `sessions` when the
  filters are all on a visit's own attributes (source, place, device...): a visit counts in the
  period it starts in, whole, with the attributes of its first event. A page, event or prop
  filter needs the events: then a visit counts with its events inside the range.
- Breakdowns come from `daily_stats` for the whole UTC days of an unfiltered range, with the
  partial days at either end (time zones) read from `events`; the last UTC day comes whole from
  the rollup when nothing happened on it after the range's end (east of UTC the last local
  day ends before the UTC day does, and its later hours are usually still to come).
- Custom events with their props, and Web Vitals, come from `event_stats` likewise (whole UTC
  days of an unfiltered range, partial days from `events`); vitals only past
  `VITALS_EXACT_UP_TO` samples of a metric, where quantiles turn into estimates anyway.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from traytic.warehouse.sessions import SESSION_FILTER_COLUMNS
from traytic.warehouse.stats.params import FILTER_COLUMNS, StatsQuery, local_midnight

QUARTER_S = 900
CANDIDATES = 20
"""Phase one of a two-phase top list keeps at least this many values (two pages' worth when
more is asked): the ranking by distinct visitors runs on these only. Merging a dense distinct
state costs ~0.1 ms (measured, chDB), so each candidate costs ~6 ms over a month of days."""
VITALS_EXACT_UP_TO = 8192
"""Vitals come from the t-digests of `event_stats` only when a metric has more samples than
this: up to it the raw `quantiles` are exact (a reservoir of 8192 values), past it they are an
estimate as well, and the digest's (within a few percent) reads thousands of rows, not millions."""


def _boundaries(query: StatsQuery) -> list[datetime]:
    """Every instant where a bucket of the query or its previous period starts or ends."""
    previous = query.previous()
    found = [previous.start, query.start, query.end]
    if query.interval == "day":
        zone = query.zone
        day = previous.start.astimezone(zone).date()
        last = query.end.astimezone(zone).date()
        while day <= last:
            found.append(local_midnight(day, zone))
            day += timedelta(days=1)
    return found


def traffic_grain(query: StatsQuery) -> str | None:
    """The traffic rollup that holds whole buckets of an unfiltered query: `hour` when every
    bucket starts on a whole UTC hour (most zones), else `quarter` (+05:45, -03:30...)."""
    if query.filters.any:
        return None
    seconds = [int(instant.timestamp()) for instant in _boundaries(query)]
    if all(second % 3600 == 0 for second in seconds):
        return "hour"
    if all(second % QUARTER_S == 0 for second in seconds):
        return "quarter"
    return None


def visits_from_sessions(query: StatsQuery) -> bool:
    filters = query.filters
    return (
        filters.event is None
        and filters.prop is None
        and filters.goal is None
        and filters.segment is None
        and filters.error is None
        and all(FILTER_COLUMNS[name] in SESSION_FILTER_COLUMNS for name, _ in filters.columns)
    )


def rollup_days(query: StatsQuery) -> tuple[date, date] | None:
    """[first, end) of the whole UTC days inside an unfiltered query's range, if any."""
    if query.filters.any:
        return None
    start = query.start.astimezone(UTC)
    first = start.date() + timedelta(days=0 if start.time() == datetime.min.time() else 1)
    end = query.end.astimezone(UTC).date()
    return (first, end) if first < end else None


def end_day(query: StatsQuery) -> date | None:
    """The UTC day an unfiltered range ends inside (not at its midnight): its rollup rows stand
    for the range's part of it when no row of the day lies past the range's end."""
    if query.filters.any:
        return None
    end = query.end.astimezone(UTC)
    return None if end.time() == datetime.min.time() else end.date()


def candidates(query: StatsQuery) -> int:
    return max(CANDIDATES, 2 * (query.offset + query.limit))
