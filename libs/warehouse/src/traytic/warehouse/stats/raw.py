"""Statements over the raw `events` table: every answer, under any filter. `plan.py` decides
when the faster forms of `rollups.py` can answer instead; these are the truth they must equal.

One dialect for ClickHouse 18.16 and chDB 26 (no window functions, no WITH FILL: the service
fills empty buckets). Every value is a bound parameter; only whitelisted column names and
validated integers are inlined."""

# ruff: noqa: S608 - the f-strings splice whitelisted column names, fixed SQL fragments and
# validated integers (LIMIT takes no expressions on 18.16); every value is a bound parameter.

from __future__ import annotations

from datetime import datetime, timedelta

from traytic.warehouse.sql import Statement
from traytic.warehouse.stats.filters import TRAFFIC, where
from traytic.warehouse.stats.grouping import Dimension, bucket, page
from traytic.warehouse.stats.measures import (
    EVENTS,
    PAGEVIEWS,
    UNIQ,
    VISIT_DURATION,
    VISITORS,
    VISITS,
    visit_totals,
)
from traytic.warehouse.stats.params import StatsQuery
from traytic.warehouse.stats.sampling import events_table, scale

LIVE_WINDOW = timedelta(minutes=5)
LATEST_WINDOW = timedelta(hours=24)
"""The latest events are looked for this far back (keeps the read to recent granules)."""
RECENT_VISITORS_LIMIT = 100_000
"""The most recent visitors `recent_visitors` returns: bounds the read and the live tracker."""

_TRAFFIC_FIGURES = f"{VISITORS} AS visitors, {PAGEVIEWS} AS pageviews, {EVENTS} AS events"
_PER_VISIT = f"session_id, {PAGEVIEWS} AS pageviews, {VISIT_DURATION} AS duration"
"""One row per visit with what `visit_totals` sums."""


def overview_traffic(query: StatsQuery) -> Statement:
    """Visitors, pageviews and custom events of this period and the previous one."""
    previous = query.previous()
    clause, params = where(query, start=previous.start)
    params["current_start"] = query.start
    return Statement(
        f"SELECT ts >= {{current_start}} AS is_current, {_TRAFFIC_FIGURES}"
        f" FROM {events_table(query)} {clause} GROUP BY is_current",
        params,
        scale(query),
    )


def overview_sessions(query: StatsQuery) -> Statement:
    """Visits, bounces and summed durations per period (a session is cut at the boundary)."""
    previous = query.previous()
    clause, params = where(query, start=previous.start)
    params["current_start"] = query.start
    return Statement(
        f"SELECT is_current, {visit_totals('duration')} FROM ("
        f" SELECT ts >= {{current_start}} AS is_current, {_PER_VISIT}"
        f" FROM {events_table(query)} {clause} GROUP BY is_current, session_id"
        ") GROUP BY is_current",
        params,
        scale(query),
    )


def timeseries_traffic(query: StatsQuery) -> Statement:
    clause, params = where(query)
    params["tz"] = query.tz
    return Statement(
        f"SELECT {bucket(query, 'ts')} AS bucket, {_TRAFFIC_FIGURES}"
        f" FROM {events_table(query)} {clause} GROUP BY bucket",
        params,
        scale(query),
    )


def timeseries_sessions(query: StatsQuery) -> Statement:
    """Visits, bounces and durations in the bucket where each session starts."""
    clause, params = where(query)
    params["tz"] = query.tz
    return Statement(
        f"SELECT {bucket(query, 'started')} AS bucket, {visit_totals('duration')} FROM ("
        f" SELECT min(ts) AS started, {_PER_VISIT} FROM {events_table(query)} {clause}"
        " GROUP BY session_id"
        ") GROUP BY bucket",
        params,
        scale(query),
    )


def breakdown(
    query: StatsQuery, dimension: Dimension, *, types: tuple[str, ...] = TRAFFIC
) -> Statement:
    """Top values of a column by visitors, then pageviews, then value."""
    clause, params = where(query, types=types)
    if dimension.skip_empty:
        clause += f" AND {dimension.column} != ''"
    parent = dimension.parent or "''"
    return Statement(
        f"SELECT {dimension.column} AS value, {parent} AS parent,"
        f" {VISITORS} AS visitors, {VISITS} AS visits,"
        f" {PAGEVIEWS} AS pageviews FROM {events_table(query)} {clause}"
        " GROUP BY value, parent ORDER BY visitors DESC, pageviews DESC, value, parent"
        f" {page(query)}",
        params,
        scale(query),
    )


def session_pages(query: StatsQuery, *, exit: bool = False) -> Statement:
    """Entry (first) or exit (last) page of each session, ranked by sessions."""
    clause, params = where(query, types=("pageview",))
    pick = "argMax" if exit else "argMin"
    return Statement(
        f"SELECT page AS value, {UNIQ}(visitor) AS visitors, count() AS visits FROM ("
        f" SELECT session_id, any(visitor_id) AS visitor, {pick}(pathname, ts) AS page"
        f" FROM {events_table(query)} {clause} GROUP BY session_id"
        f") GROUP BY value ORDER BY visits DESC, visitors DESC, value {page(query)}",
        params,
        scale(query),
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
        f" FROM {events_table(query)} {clause} GROUP BY metric, route"
        f" ORDER BY metric, samples DESC, route{tail}",
        params,
        scale(query),
    )


def live_visitors(query: StatsQuery, now: datetime) -> Statement:
    clause, params = where(query, start=now - LIVE_WINDOW, end=now + timedelta(minutes=1))
    return Statement(f"SELECT {VISITORS} AS visitors FROM events {clause}", params)


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
        f"SELECT name, count() AS events, {VISITORS} AS visitors"
        f" FROM {events_table(query)} {clause} GROUP BY name"
        f" ORDER BY events DESC, name {page(query)}",
        params,
        scale(query),
    )


def event_props(query: StatsQuery, names: tuple[str, ...]) -> Statement:
    """Prop values of the given events, top `limit` per (event, key) by count."""
    clause, params = where(query, types=("event",))
    clause += " AND name IN {names}"
    params["names"] = names
    return Statement(
        f"SELECT name, prop_key, prop_value, count() AS events, {VISITORS} AS visitors"
        f" FROM {events_table(query)} ARRAY JOIN props.key AS prop_key, props.value AS prop_value"
        f" {clause} GROUP BY name, prop_key, prop_value"
        " ORDER BY name, prop_key, events DESC, prop_value"
        f" LIMIT {int(query.limit)} BY name, prop_key",
        params,
        scale(query),
    )


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
