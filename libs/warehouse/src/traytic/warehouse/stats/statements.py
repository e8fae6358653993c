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

from collections.abc import Sequence
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
_UNIQ_STATE = "uniqCombinedState(14)"
_UNIQ_MERGE = "uniqCombinedMerge(14)"
"""`UNIQ` as a state and its merge: the rollups of migration 0002 hold these states."""
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
    query: StatsQuery,
    thresholds: dict[str, tuple[float, float]],
    *,
    per_route: bool,
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


RECENT_VISITORS_LIMIT = 100_000
"""The most recent visitors `recent_visitors` returns: bounds the read and the live tracker."""


def recent_visitors(site_id: str, now: datetime) -> Statement:
    """Each visitor of the last five minutes (as `live_visitors` counts them) and their last
    sighting, the most recent first: what a live tracker starts from."""
    recent = StatsQuery(site_id=site_id, start=now - LIVE_WINDOW, end=now + timedelta(minutes=1))
    clause, params = where(recent)
    return Statement(
        f"SELECT visitor_id, max(ts) AS last_seen FROM events {clause}"
        f" GROUP BY visitor_id ORDER BY last_seen DESC LIMIT {RECENT_VISITORS_LIMIT}",
        params,
    )


# ---- the same answers over the rollups and `sessions` (see plan.py for when each applies) ----

_MERGED_TRAFFIC = (
    f"{_UNIQ_MERGE}(visitors) AS visitors, sumMerge(pageviews) AS pageviews,"
    " sumMerge(events) AS events"
)


def _traffic_table(grain: str) -> str:
    """`FROM` the traffic rollup of `grain` (`hour` or `quarter`), its time column `slot`."""
    table = {"hour": "traffic_hours", "quarter": "traffic_quarters"}[grain]
    return (
        f"FROM (SELECT {grain} AS slot, visitors, pageviews, events FROM {table}"
        " WHERE site_id = {site_id:String} AND slot >= {start} AND slot < {end})"
    )


def overview_traffic_rollup(query: StatsQuery, grain: str) -> Statement:
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


def timeseries_traffic_rollup(query: StatsQuery, grain: str) -> Statement:
    """A slot of the grain the plan chose lies inside one bucket, so it buckets whole."""
    return Statement(
        f"SELECT {_bucket(query, 'slot')} AS bucket, {_MERGED_TRAFFIC} {_traffic_table(grain)}"
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


def session_pages_table(query: StatsQuery, *, exit: bool) -> Statement:
    """Entry (exit) pages of the visits that started in the range. One pass: a first pass
    choosing candidates by a plain count measured as dear as the distinct count it saves."""
    clause, params = _sessions_where(query)
    page = "exit_page" if exit else "entry_page"
    return Statement(
        f"SELECT {page} AS value, {UNIQ}(visitor_id) AS visitors, count() AS visits"
        f" FROM sessions FINAL {clause} AND pageviews > 0"
        f" GROUP BY value ORDER BY visits DESC, visitors DESC, value {_page(query)}",
        params,
    )


Picks = tuple[tuple[str, str, str], ...]
"""(dimension, value, parent) triples a phase-two statement is limited to."""


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
    day_start = datetime.combine(first_day, datetime.min.time(), UTC)
    day_end = datetime.combine(end_day, datetime.min.time(), UTC)
    edges = []
    for n, (edge_start, edge_end) in enumerate([(query.start, day_start), (day_end, query.end)]):
        if edge_start < edge_end:
            edges.append(f"(ts >= {{edge{n}_start}} AND ts < {{edge{n}_end}})")
            params[f"edge{n}_start"], params[f"edge{n}_end"] = edge_start, edge_end
    if edges:
        tuples = ", ".join(
            f"tuple('{d.column}', {d.column}, {d.parent or chr(39) * 2})" for d in dimensions
        )
        parts.append(
            "SELECT tupleElement(dim, 1) AS dimension, tupleElement(dim, 2) AS value,"
            f" tupleElement(dim, 3) AS parent, {raw_states} FROM events"
            f" ARRAY JOIN [{tuples}] AS dim"
            " WHERE site_id = {site_id:String} AND type IN {types}"
            f" AND ({' OR '.join(edges)}) GROUP BY dimension, value, parent"
        )
    return " UNION ALL ".join(parts), params


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
        raw_states="countIf(type = 'pageview') AS hits",
    )
    return Statement(
        f"SELECT dimension, value, parent, sum(hits) AS hits FROM ({union}){_kept(dimensions)}"
        " GROUP BY dimension, value, parent ORDER BY dimension, hits DESC, value, parent"
        f" LIMIT {int(candidates)} BY dimension",
        params,
    )


def breakdown_rollup(
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
            f"{_UNIQ_STATE}(visitor_id) AS visitors, {_UNIQ_STATE}(session_id) AS visits,"
            " sumState(toUInt64(type = 'pageview')) AS pageviews"
        ),
    )
    if picks is not None:
        # A lone value would bind as a bare tuple, not a list of one: `cut` gets a sentinel.
        params["picks"] = picks
        params["cut"] = (*sorted({pick[0] for pick in picks}), "")
    return Statement(
        f"SELECT dimension, value, parent, {_UNIQ_MERGE}(visitors) AS visitors,"
        f" {_UNIQ_MERGE}(visits) AS visits, sumMerge(pageviews) AS pageviews"
        f" FROM ({union}){_kept(dimensions, picks)} GROUP BY dimension, value, parent"
        " ORDER BY dimension, visitors DESC, pageviews DESC, value, parent"
        f" LIMIT {int(query.offset + query.limit)} BY dimension",
        params,
    )
