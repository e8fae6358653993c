"""The same answers as `raw.py`, read from the rollups and the `sessions` table (migration 0002):
a few thousand rows instead of millions. `plan.py` decides when each form applies; every form
here merges the same states (`measures.UNIQ_STATE`, sums) the raw answer counts, so it equals
the raw answer exactly (unless a query past the sampling limit reads a sample of `sessions`:
see `sampling`)."""

# ruff: noqa: S608 - the f-strings splice whitelisted column names, fixed SQL fragments and
# validated integers (LIMIT takes no expressions on 18.16); every value is a bound parameter.

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from traytic.warehouse.sql import Statement
from traytic.warehouse.stats.filters import filter_clauses
from traytic.warehouse.stats.grouping import Dimension, bucket, page
from traytic.warehouse.stats.measures import (
    PAGEVIEWS,
    PAGEVIEWS_STATE,
    STORED_VISIT_DURATION,
    UNIQ,
    UNIQ_MERGE,
    UNIQ_STATE,
    visit_totals,
)
from traytic.warehouse.stats.params import StatsQuery
from traytic.warehouse.stats.sampling import scale, sessions_table

_MERGED_TRAFFIC = (
    f"{UNIQ_MERGE}(visitors) AS visitors, sumMerge(pageviews) AS pageviews,"
    " sumMerge(events) AS events"
)


def _traffic_table(grain: str) -> str:
    """`FROM` the traffic rollup of `grain` (`hour` or `quarter`), its time column `slot`."""
    table = {"hour": "traffic_hours", "quarter": "traffic_quarters"}[grain]
    return (
        f"FROM (SELECT {grain} AS slot, visitors, pageviews, events FROM {table}"
        " WHERE site_id = {site_id:String} AND slot >= {start} AND slot < {end})"
    )


def overview_traffic(query: StatsQuery, grain: str) -> Statement:
    previous = query.previous()
    return Statement(
        f"SELECT slot >= {{current_start}} AS is_current, {_MERGED_TRAFFIC}"
        f" {_traffic_table(grain)} GROUP BY is_current",
        {
            "site_id": query.site_id,
            "start": previous.start,
            "end": query.end,
            "current_start": query.start,
        },
    )


def timeseries_traffic(query: StatsQuery, grain: str) -> Statement:
    """A slot of the grain the plan chose lies inside one bucket, so it buckets whole."""
    return Statement(
        f"SELECT {bucket(query, 'slot')} AS bucket, {_MERGED_TRAFFIC} {_traffic_table(grain)}"
        " GROUP BY bucket",
        {"site_id": query.site_id, "start": query.start, "end": query.end, "tz": query.tz},
    )


def _sessions_where(
    query: StatsQuery, *, start: datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """Visits that started in the range, filtered on their own (first event's) attributes."""
    clause, params = filter_clauses(query.filters)
    clauses = [
        "site_id = {site_id:String}",
        "started >= {start}",
        "started < {end}",
        *clause,
    ]
    params.update(site_id=query.site_id, start=start or query.start, end=query.end)
    return "WHERE " + " AND ".join(clauses), params


_VISIT_TOTALS = visit_totals(STORED_VISIT_DURATION)


def overview_sessions(query: StatsQuery) -> Statement:
    clause, params = _sessions_where(query, start=query.previous().start)
    params["current_start"] = query.start
    return Statement(
        f"SELECT started >= {{current_start}} AS is_current, {_VISIT_TOTALS}"
        f" FROM {sessions_table(query)} {clause} GROUP BY is_current",
        params,
        scale(query),
    )


def timeseries_sessions(query: StatsQuery) -> Statement:
    clause, params = _sessions_where(query)
    params["tz"] = query.tz
    return Statement(
        f"SELECT {bucket(query, 'started')} AS bucket, {_VISIT_TOTALS}"
        f" FROM {sessions_table(query)} {clause} GROUP BY bucket",
        params,
        scale(query),
    )


def session_pages(query: StatsQuery, *, exit: bool) -> Statement:
    """Entry (exit) pages of the visits that started in the range. One pass: a first pass
    choosing candidates by a plain count measured as dear as the distinct count it saves."""
    clause, params = _sessions_where(query)
    column = "exit_page" if exit else "entry_page"
    return Statement(
        f"SELECT {column} AS value, {UNIQ}(visitor_id) AS visitors, count() AS visits"
        f" FROM {sessions_table(query)} {clause} AND pageviews > 0"
        f" GROUP BY value ORDER BY visits DESC, visitors DESC, value {page(query)}",
        params,
        scale(query),
    )


def rows_after_end(query: StatsQuery, types: tuple[str, ...]) -> Statement:
    """A row of `types` on the range's last UTC day at or past its end, if any (one granule
    range of the sorting key: the site and that day)."""
    return Statement(
        "SELECT 1 AS found FROM events WHERE site_id = {site_id:String}"
        " AND toDate(ts) = toDate({end}) AND ts >= {end} AND type IN {types} LIMIT 1",
        {"site_id": query.site_id, "end": query.end, "types": types},
    )


Picks = tuple[tuple[str, str, str], ...]
"""(dimension, value, parent) triples a phase-two statement is limited to."""


def partial_days(query: StatsQuery, days: tuple[date, date], params: dict[str, Any]) -> str:
    """The condition on `ts` of the range's parts outside the whole UTC days `days` (zones off
    UTC), its bounds added to `params`; '' when the range is whole days."""
    first_day, end_day = days
    day_start = datetime.combine(first_day, datetime.min.time(), UTC)
    day_end = datetime.combine(end_day, datetime.min.time(), UTC)
    edges = []
    for n, (edge_start, edge_end) in enumerate([(query.start, day_start), (day_end, query.end)]):
        if edge_start < edge_end:
            # Within one UTC day; its date lets 18.16 use the sorting key (see filters.py).
            edges.append(
                f"(toDate(ts) = toDate({{edge{n}_start}})"
                f" AND ts >= {{edge{n}_start}} AND ts < {{edge{n}_end}})"
            )
            params[f"edge{n}_start"], params[f"edge{n}_end"] = edge_start, edge_end
    return " OR ".join(edges)


def _rollup_union(
    query: StatsQuery,
    dimensions: Sequence[Dimension],
    days: tuple[date, date],
    types: tuple[str, ...],
    *,
    states: str,
    raw_states: str,
) -> tuple[str, dict[str, Any]]:
    """Rows of several dimensions at once: whole UTC days from `daily_stats`, the partial days
    at either end (zones off UTC) from one pass over `events` for all of them."""
    first_day, end_day = days
    params: dict[str, Any] = {
        "site_id": query.site_id,
        "dimensions": tuple(d.column for d in dimensions),
        "first_day": first_day,
        "end_day": end_day,
        "types": types,
    }
    grouped = " GROUP BY dimension, value, parent" if "Merge(" in states else ""
    parts = [
        f"SELECT dimension, value, parent, {states} FROM daily_stats"
        " WHERE site_id = {site_id:String} AND dimension IN {dimensions}"
        f" AND day >= {{first_day}} AND day < {{end_day}}{grouped}"
    ]
    edges = partial_days(query, days, params)
    if edges:
        tuples = ", ".join(
            f"tuple('{d.column}', {d.column}, {d.parent or chr(39) * 2})" for d in dimensions
        )
        columns = sorted({"type", "visitor_id", "session_id"} | _columns(dimensions))
        # The edge rows are chosen before they are multiplied by the ARRAY JOIN: 18.16 joins
        # first and filters after (3.9 s instead of 0.1 s at 1M events, measured).
        parts.append(
            "SELECT tupleElement(dim, 1) AS dimension, tupleElement(dim, 2) AS value,"
            f" tupleElement(dim, 3) AS parent, {raw_states}"
            f" FROM (SELECT {', '.join(columns)} FROM events"
            " WHERE site_id = {site_id:String} AND type IN {types}"
            f" AND ({edges})) ARRAY JOIN [{tuples}] AS dim GROUP BY dimension, value, parent"
        )
    return " UNION ALL ".join(parts), params


def _columns(dimensions: Sequence[Dimension]) -> set[str]:
    return {d.column for d in dimensions} | {d.parent for d in dimensions if d.parent}


def _kept(dimensions: Sequence[Dimension], picks: Picks | None = None) -> str:
    """The rows worth merging: not the empty value of a dimension that skips it, and only the
    picks of a dimension phase one cut short."""
    conditions = []
    skipping = [d.column for d in dimensions if d.skip_empty]
    if skipping:
        names = ", ".join(f"'{name}'" for name in skipping)
        conditions.append(f"NOT (dimension IN ({names}) AND value = '')")
    if picks is not None:
        conditions.append("(dimension NOT IN {cut} OR (dimension, value, parent) IN {picks})")
    return " WHERE " + " AND ".join(conditions) if conditions else ""


def breakdown_candidates(
    query: StatsQuery,
    dimensions: Sequence[Dimension],
    days: tuple[date, date],
    types: tuple[str, ...],
    candidates: int,
) -> Statement:
    """Phase one of rolled-up breakdowns: per dimension, the values with the most pageviews (a
    plain sum), so the distinct counts of phase two are merged for these values only."""
    union, params = _rollup_union(
        query,
        dimensions,
        days,
        types,
        states="sumMerge(pageviews) AS hits",
        raw_states=f"{PAGEVIEWS} AS hits",
    )
    return Statement(
        f"SELECT dimension, value, parent, sum(hits) AS hits FROM ({union}){_kept(dimensions)}"
        " GROUP BY dimension, value, parent ORDER BY dimension, hits DESC, value, parent"
        f" LIMIT {int(candidates)} BY dimension",
        params,
    )


def breakdown(
    query: StatsQuery,
    dimensions: Sequence[Dimension],
    days: tuple[date, date],
    types: tuple[str, ...],
    picks: Picks | None,
) -> Statement:
    """Phase two: each dimension's top `offset + limit` rows (the service drops the offset),
    of the `picks` only where phase one cut the list short (`None`: of every value)."""
    union, params = _rollup_union(
        query,
        dimensions,
        days,
        types,
        states="visitors, visits, pageviews",
        raw_states=(
            f"{UNIQ_STATE}(visitor_id) AS visitors, {UNIQ_STATE}(session_id) AS visits,"
            f" {PAGEVIEWS_STATE} AS pageviews"
        ),
    )
    if picks is not None:
        # A lone value would bind as a bare tuple, not a list of one: `cut` gets a sentinel.
        params["picks"] = picks
        params["cut"] = (*sorted({pick[0] for pick in picks}), "")
    return Statement(
        f"SELECT dimension, value, parent, {UNIQ_MERGE}(visitors) AS visitors,"
        f" {UNIQ_MERGE}(visits) AS visits, sumMerge(pageviews) AS pageviews"
        f" FROM ({union}){_kept(dimensions, picks)} GROUP BY dimension, value, parent"
        " ORDER BY dimension, visitors DESC, pageviews DESC, value, parent"
        f" LIMIT {int(query.offset + query.limit)} BY dimension",
        params,
    )
