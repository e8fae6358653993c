"""Pure builders of the stats SQL: one dialect for ClickHouse 18.16 and chDB 26 (no window
functions, no WITH FILL: the service fills empty buckets). Each returns a `Statement` whose values
are all bound parameters; only whitelisted column names and validated integers are inlined.

Each answer has a raw form (over `events`, any filter) and, where `plan.py` allows, a form over
the rollups and `sessions` of migration 0002 that reads a few thousand rows instead of millions.
Both count distinct visitors and visits with the same `UNIQ` function, whose states merge
exactly: a rollup's answer equals the raw one."""

# ruff: noqa: S608 - the f-strings splice whitelisted column names, fixed SQL fragments and
# validated integers (LIMIT takes no expressions on 18.16); every value is a bound parameter.

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from traytic.warehouse.sql import Statement
from traytic.warehouse.stats.filters import filter_clauses, where
from traytic.warehouse.stats.params import StatsQuery

LIVE_WINDOW = timedelta(minutes=5)
LATEST_WINDOW = timedelta(hours=24)
"""The latest events are looked for this far back (keeps the read to recent granules)."""

UNIQ = "uniqCombined(14)"
"""Distinct visitors and visits: exact up to about a thousand, then HyperLogLog with 2^14 cells
(~0.8% error); its states are small, so merging a month of daily states costs milliseconds
(`uniq`'s states of 64k hashes made the rollups as slow as the raw table)."""
_VISITORS = f"{UNIQ}(visitor_id)"
_VISITS = f"{UNIQ}(session_id)"
_PAGEVIEWS = "countIf(type = 'pageview')"
_EVENTS = "countIf(type = 'event')"
_DURATION = "toUInt32(max(ts)) - toUInt32(min(ts))"


@dataclass(frozen=True, slots=True)
class Dimension:
    """A breakdown: the column whose values are ranked, and an optional parent column."""

    column: str
    parent: str | None = None
    skip_empty: bool = False


def _page(query: StatsQuery) -> str:
    return f"LIMIT {int(query.offset)}, {int(query.limit)}"


def overview_traffic(query: StatsQuery) -> Statement:
    """Visitors, pageviews and custom events of this period and the previous one."""
    previous = query.previous()
    clause, params = where(query, start=previous.start)
    params["current_start"] = query.start
    return Statement(
        f"SELECT ts >= {{current_start}} AS is_current, {_VISITORS} AS visitors,"
        f" {_PAGEVIEWS} AS pageviews, {_EVENTS} AS events"
        f" FROM events {clause} GROUP BY is_current",
        params,
    )


def overview_sessions(query: StatsQuery) -> Statement:
    """Visits, bounces and summed durations per period (a session is cut at the boundary)."""
    previous = query.previous()
    clause, params = where(query, start=previous.start)
    params["current_start"] = query.start
    return Statement(
        "SELECT is_current, count() AS visits, countIf(pageviews = 1) AS bounces,"
        " sum(duration) AS duration FROM ("
        " SELECT ts >= {current_start} AS is_current, session_id,"
        f" {_PAGEVIEWS} AS pageviews, {_DURATION} AS duration"
        f" FROM events {clause} GROUP BY is_current, session_id"
        ") GROUP BY is_current",
        params,
    )


def _bucket(query: StatsQuery, column: str) -> str:
    if query.interval == "hour":
        return f"toUnixTimestamp(toStartOfHour({column}, {{tz}}))"
    return f"toDate({column}, {{tz}})"


def timeseries_traffic(query: StatsQuery) -> Statement:
    clause, params = where(query)
    params["tz"] = query.tz
    return Statement(
        f"SELECT {_bucket(query, 'ts')} AS bucket, {_VISITORS} AS visitors,"
        f" {_PAGEVIEWS} AS pageviews, {_EVENTS} AS events"
        f" FROM events {clause} GROUP BY bucket",
        params,
    )


def timeseries_sessions(query: StatsQuery) -> Statement:
    """Visits, bounces and durations in the bucket where each session starts."""
    clause, params = where(query)
    params["tz"] = query.tz
    return Statement(
        f"SELECT {_bucket(query, 'started')} AS bucket, count() AS visits,"
        " countIf(pageviews = 1) AS bounces, sum(duration) AS duration FROM ("
        f" SELECT session_id, min(ts) AS started, {_PAGEVIEWS} AS pageviews,"
        f" {_DURATION} AS duration FROM events {clause} GROUP BY session_id"
        ") GROUP BY bucket",
        params,
    )


def breakdown(
    query: StatsQuery, dimension: Dimension, *, types: tuple[str, ...] = ("pageview", "event")
) -> Statement:
    """Top values of a column by visitors, then pageviews, then value."""
    clause, params = where(query, types=types)
    if dimension.skip_empty:
        clause += f" AND {dimension.column} != ''"
    parent = dimension.parent or "''"
    return Statement(
        f"SELECT {dimension.column} AS value, {parent} AS parent,"
        f" {_VISITORS} AS visitors, {_VISITS} AS visits,"
        f" {_PAGEVIEWS} AS pageviews FROM events {clause}"
        " GROUP BY value, parent ORDER BY visitors DESC, pageviews DESC, value, parent"
        f" {_page(query)}",
        params,
    )


def session_pages(query: StatsQuery, *, exit: bool = False) -> Statement:
    """Entry (first) or exit (last) page of each session, ranked by sessions."""
    clause, params = where(query, types=("pageview",))
    pick = "argMax" if exit else "argMin"
    return Statement(
        f"SELECT page AS value, {UNIQ}(visitor) AS visitors, count() AS visits FROM ("
        f" SELECT session_id, any(visitor_id) AS visitor, {pick}(pathname, ts) AS page"
        f" FROM events {clause} GROUP BY session_id"
        f") GROUP BY value ORDER BY visits DESC, visitors DESC, value {_page(query)}",
        params,
    )


def vitals(
    query: StatsQuery, thresholds: dict[str, tuple[float, float]], *, per_route: bool
) -> Statement:
    """P75/P95, samples and rating counts per metric (and route): good <= first threshold,
    poor > second. Custom event filters do not apply to vitals."""
    clause, params = where(query, types=("vital",), event_filters=False)
    names = tuple(thresholds)
    clause += " AND name IN {metrics}"
    params.update(
        metrics=names,
        metric_names=list(names),
        good=[float(t[0]) for t in thresholds.values()],
        poor=[float(t[1]) for t in thresholds.values()],
    )
    route = "pathname" if per_route else "''"
    tail = f" LIMIT {int(query.limit)} BY metric" if per_route else ""
    return Statement(
        f"SELECT name AS metric, {route} AS route, quantiles(0.75, 0.95)(value) AS q,"
        " count() AS samples,"
        " countIf(value <= transform(name, {metric_names}, {good}, 0.)) AS good,"
        " countIf(value > transform(name, {metric_names}, {poor}, 0.)) AS poor"
        f" FROM events {clause} GROUP BY metric, route"
        f" ORDER BY metric, samples DESC, route{tail}",
        params,
    )


def live_visitors(query: StatsQuery, now: datetime) -> Statement:
    clause, params = where(query, start=now - LIVE_WINDOW, end=now + timedelta(minutes=1))
    return Statement(f"SELECT {_VISITORS} AS visitors FROM events {clause}", params)


def latest_events(query: StatsQuery, now: datetime) -> Statement:
    clause, params = where(query, start=now - LATEST_WINDOW, end=now + timedelta(minutes=1))
    return Statement(
        "SELECT ts, type, name, pathname, referrer_source, country, city, device, browser, os"
        f" FROM events {clause} ORDER BY ts DESC, event_id DESC LIMIT {int(query.limit)}",
        params,
    )


def event_names(query: StatsQuery) -> Statement:
    clause, params = where(query, types=("event",))
    return Statement(
        f"SELECT name, count() AS events, {_VISITORS} AS visitors"
        f" FROM events {clause} GROUP BY name ORDER BY events DESC, name {_page(query)}",
        params,
    )


def event_props(query: StatsQuery, names: tuple[str, ...]) -> Statement:
    """Prop values of the given events, top `limit` per (event, key) by count."""
    clause, params = where(query, types=("event",))
    clause += " AND name IN {names}"
    params["names"] = names
    return Statement(
        f"SELECT name, prop_key, prop_value, count() AS events, {_VISITORS} AS visitors"
        " FROM events ARRAY JOIN props.key AS prop_key, props.value AS prop_value"
        f" {clause} GROUP BY name, prop_key, prop_value"
        " ORDER BY name, prop_key, events DESC, prop_value"
        f" LIMIT {int(query.limit)} BY name, prop_key",
        params,
    )


# ---- the same answers over the rollups and `sessions` (see plan.py for when each applies) ----

_MERGED_TRAFFIC = (
    "uniqCombinedMerge(14)(visitors) AS visitors, sumMerge(pageviews) AS pageviews,"
    " sumMerge(events) AS events"
)
_QUARTERS = (
    "FROM traffic_quarters WHERE site_id = {site_id:String}"
    " AND quarter >= {start} AND quarter < {end}"
)


def overview_traffic_quarters(query: StatsQuery) -> Statement:
    previous = query.previous()
    return Statement(
        f"SELECT quarter >= {{current_start}} AS is_current, {_MERGED_TRAFFIC} {_QUARTERS}"
        " GROUP BY is_current",
        {
            "site_id": query.site_id,
            "start": previous.start,
            "end": query.end,
            "current_start": query.start,
        },
    )


def timeseries_traffic_quarters(query: StatsQuery) -> Statement:
    """A quarter lies inside one local hour and day of every zone, so it buckets whole."""
    return Statement(
        f"SELECT {_bucket(query, 'quarter')} AS bucket, {_MERGED_TRAFFIC} {_QUARTERS}"
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


_SESSION_FIGURES = (
    "count() AS visits, countIf(pageviews = 1) AS bounces,"
    " sum(toUInt32(last_ts) - toUInt32(first_ts)) AS duration"
)


def overview_sessions_table(query: StatsQuery) -> Statement:
    clause, params = _sessions_where(query, start=query.previous().start)
    params["current_start"] = query.start
    return Statement(
        f"SELECT started >= {{current_start}} AS is_current, {_SESSION_FIGURES}"
        f" FROM sessions FINAL {clause} GROUP BY is_current",
        params,
    )


def timeseries_sessions_table(query: StatsQuery) -> Statement:
    clause, params = _sessions_where(query)
    params["tz"] = query.tz
    return Statement(
        f"SELECT {_bucket(query, 'started')} AS bucket, {_SESSION_FIGURES}"
        f" FROM sessions FINAL {clause} GROUP BY bucket",
        params,
    )


def session_page_candidates(query: StatsQuery, *, exit: bool, candidates: int) -> Statement:
    """Phase one of entry/exit pages: the pages most visits start (end) on, by a plain count."""
    clause, params = _sessions_where(query)
    page = "exit_page" if exit else "entry_page"
    return Statement(
        f"SELECT {page} AS value, count() AS visits FROM sessions FINAL {clause}"
        f" AND pageviews > 0 GROUP BY value ORDER BY visits DESC, value LIMIT {int(candidates)}",
        params,
    )


def session_pages_table(
    query: StatsQuery, *, exit: bool, only: tuple[str, ...] | None
) -> Statement:
    """Phase two: visitors and visits of the candidate pages only (`None`: every page)."""
    clause, params = _sessions_where(query)
    page = "exit_page" if exit else "entry_page"
    if only is not None:
        clause += f" AND {page} IN {{only}}"
        params["only"] = only
    return Statement(
        f"SELECT {page} AS value, {UNIQ}(visitor_id) AS visitors, count() AS visits"
        f" FROM sessions FINAL {clause} AND pageviews > 0"
        f" GROUP BY value ORDER BY visits DESC, visitors DESC, value {_page(query)}",
        params,
    )


def _rollup_parts(
    query: StatsQuery,
    dimension: Dimension,
    days: tuple[date, date],
    types: tuple[str, ...],
    only: tuple[tuple[str, str], ...] | None,
    *,
    states: str,
    raw_states: str,
) -> tuple[str, dict[str, Any]]:
    """Whole UTC days from `daily_stats`, the partial days at either end from `events`."""
    first_day, end_day = days
    params: dict[str, Any] = {
        "site_id": query.site_id,
        "dimension": dimension.column,
        "first_day": first_day,
        "end_day": end_day,
    }
    rollup = (
        f"SELECT value, parent, {states} FROM daily_stats WHERE site_id = {{site_id:String}}"
        " AND dimension = {dimension:String} AND day >= {first_day} AND day < {end_day}"
    )
    skip = " AND value != ''" if dimension.skip_empty else ""
    wanted = " AND (value, parent) IN {only}" if only is not None else ""
    if only is not None:
        params["only"] = only
    grouped = " GROUP BY value, parent" if "Merge(" in states else ""
    parts = [rollup + skip + wanted + grouped]
    day_start = datetime.combine(first_day, datetime.min.time(), UTC)
    day_end = datetime.combine(end_day, datetime.min.time(), UTC)
    edges = [(query.start, day_start), (day_end, query.end)]
    parent = dimension.parent or "''"
    for index, (edge_start, edge_end) in enumerate(edges):
        if edge_start >= edge_end:
            continue
        params[f"edge{index}_start"], params[f"edge{index}_end"] = edge_start, edge_end
        raw = (
            f"SELECT {dimension.column} AS value, {parent} AS parent, {raw_states} FROM events"
            f" WHERE site_id = {{site_id:String}} AND ts >= {{edge{index}_start}}"
            f" AND ts < {{edge{index}_end}} AND type IN {{types}}"
        )
        params["types"] = types
        if dimension.skip_empty:
            raw += f" AND {dimension.column} != ''"
        if only is not None:
            raw += f" AND ({dimension.column}, {parent}) IN {{only}}"
        parts.append(raw + " GROUP BY value, parent")
    return " UNION ALL ".join(parts), params


def breakdown_candidates(
    query: StatsQuery,
    dimension: Dimension,
    days: tuple[date, date],
    types: tuple[str, ...],
    candidates: int,
) -> Statement:
    """Phase one of a rolled-up breakdown: the values with the most pageviews (a plain sum),
    so the distinct counts of phase two are merged for these values only."""
    union, params = _rollup_parts(
        query,
        dimension,
        days,
        types,
        None,
        states="sumMerge(pageviews) AS hits",
        raw_states="countIf(type = 'pageview') AS hits",
    )
    return Statement(
        f"SELECT value, parent, sum(hits) AS hits FROM ({union}) GROUP BY value, parent"
        f" ORDER BY hits DESC, value, parent LIMIT {int(candidates)}",
        params,
    )


def breakdown_rollup(
    query: StatsQuery,
    dimension: Dimension,
    days: tuple[date, date],
    types: tuple[str, ...],
    only: tuple[tuple[str, str], ...] | None,
) -> Statement:
    union, params = _rollup_parts(
        query,
        dimension,
        days,
        types,
        only,
        states="visitors, visits, pageviews",
        raw_states=(
            "uniqCombinedState(14)(visitor_id) AS visitors,"
            " uniqCombinedState(14)(session_id) AS visits,"
            " sumState(toUInt64(type = 'pageview')) AS pageviews"
        ),
    )
    return Statement(
        "SELECT value, parent, uniqCombinedMerge(14)(visitors) AS visitors,"
        " uniqCombinedMerge(14)(visits) AS visits, sumMerge(pageviews) AS pageviews"
        f" FROM ({union}) GROUP BY value, parent"
        f" ORDER BY visitors DESC, pageviews DESC, value, parent {_page(query)}",
        params,
    )
