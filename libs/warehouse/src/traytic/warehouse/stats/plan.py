"""Which tables can answer a query: the rollups and `sessions` when they hold what it asks for,
`events` otherwise. Every rule here keeps the answer equal to the raw one.

- Traffic totals (visitors, pageviews, events; overview and timeseries) come from
  `traffic_quarters` when nothing is filtered: every range starts and ends on a quarter hour.
- Visit figures (visits, bounces, duration, entry and exit pages) come from `sessions` when the
  filters are all on a visit's own attributes (source, place, device...): a visit counts in the
  period it starts in, whole, with the attributes of its first event. A page, event or prop
  filter needs the events: then a visit counts with its events inside the range.
- Breakdowns come from `daily_stats` for the whole UTC days of an unfiltered range, with the
  partial days at either end (time zones) read from `events`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from traytic.warehouse.sessions import SESSION_FILTER_COLUMNS
from traytic.warehouse.stats.params import FILTER_COLUMNS, StatsQuery

QUARTER_S = 900
CANDIDATES = 100
"""Phase one of a two-phase top list keeps at least this many values (five pages' worth when
more is asked): the ranking by distinct visitors runs on these only."""


def _on_quarter(instant: datetime) -> bool:
    return int(instant.timestamp()) % QUARTER_S == 0


def traffic_from_quarters(query: StatsQuery) -> bool:
    filters = query.filters
    return (
        not filters.columns
        and filters.event is None
        and filters.prop is None
        and _on_quarter(query.start)
        and _on_quarter(query.end)
    )


def visits_from_sessions(query: StatsQuery) -> bool:
    filters = query.filters
    return (
        filters.event is None
        and filters.prop is None
        and all(FILTER_COLUMNS[name] in SESSION_FILTER_COLUMNS for name, _ in filters.columns)
    )


def rollup_days(query: StatsQuery) -> tuple[date, date] | None:
    """[first, end) of the whole UTC days inside an unfiltered query's range, if any."""
    filters = query.filters
    if filters.columns or filters.event is not None or filters.prop is not None:
        return None
    start = query.start.astimezone(UTC)
    first = start.date() + timedelta(days=0 if start.time() == datetime.min.time() else 1)
    end = query.end.astimezone(UTC).date()
    return (first, end) if first < end else None


def candidates(query: StatsQuery) -> int:
    return max(CANDIDATES, 5 * (query.offset + query.limit))
