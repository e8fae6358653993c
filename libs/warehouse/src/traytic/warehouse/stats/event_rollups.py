"""Custom events (with props) and Web Vitals read from `event_stats` (migration 0004): whole UTC
days from the rollup, the partial days at either end (zones off UTC) from `events`, merged. The
counts and distinct visitors merge the states the raw statements count, so they equal the raw
answers; vital quantiles are t-digests (see `plan.VITALS_EXACT_UP_TO`).

Every list here is two-phase: the ranking is by a plain sum (events, samples), so phase one
picks the page exactly from sums alone and phase two merges the dearer states (distinct
visitors, digests) of the picks only."""

# ruff: noqa: S608 - the f-strings splice fixed SQL fragments and validated integers (LIMIT takes
# no expressions on 18.16); every value is a bound parameter.

from __future__ import annotations

from datetime import date
from typing import Any

from traytic.warehouse.sql import Statement
from traytic.warehouse.stats.grouping import page
from traytic.warehouse.stats.measures import UNIQ_MERGE, UNIQ_STATE
from traytic.warehouse.stats.params import StatsQuery
from traytic.warehouse.stats.rollups import partial_days

KEY = "name, level, route, prop_key, prop_value"
"""What a row of `event_stats` is of (besides site, type and day)."""

_PARTS = "if(type = 'event', arrayConcat([0], arrayEnumerate(props.key)), [0, 1])"
_RAW_KEY = (
    "name, toUInt8(part > 0) AS level,"
    " if(type = 'vital' AND part > 0, pathname, '') AS route,"
    " if(type = 'event' AND part > 0, props.key[part], '') AS prop_key,"
    " if(type = 'event' AND part > 0, props.value[part], '') AS prop_value"
)
"""The view's own key expressions (migration 0004), for the partial days read from `events`."""
_RAW_STATES = (
    f"sumState(toUInt64(1)) AS events, {UNIQ_STATE}(visitor_id) AS visitors,"
    " sumState(toUInt64(value <= transform(name, {metric_names}, {good_bounds}, 0.))) AS good,"
    " sumState(toUInt64(value > transform(name, {metric_names}, {poor_bounds}, 0.))) AS poor,"
    " quantilesTDigestState(0.75, 0.95)(value) AS quantiles"
)
_STATES = "events, visitors, good, poor, quantiles"

VITAL_QUANTILES = "quantilesTDigestMerge(0.75, 0.95)(quantiles)"


def _union(
    query: StatsQuery,
    days: tuple[date, date],
    kind: str,
    thresholds: dict[str, tuple[float, float]],
    *,
    level: int,
) -> tuple[str, dict[str, Any]]:
    """Rows of `kind` ('event' or 'vital') at `level`, unmerged: the rollup's whole days, and
    the partial days at either end as states built from `events` the way the view builds them."""
    first_day, end_day = days
    params: dict[str, Any] = {
        "site_id": query.site_id,
        "kind": kind,
        "level": level,
        "first_day": first_day,
        "end_day": end_day,
        "metric_names": list(thresholds),
        "good_bounds": [float(bounds[0]) for bounds in thresholds.values()],
        "poor_bounds": [float(bounds[1]) for bounds in thresholds.values()],
    }
    parts = [
        f"SELECT {KEY}, {_STATES} FROM event_stats WHERE site_id = {{site_id:String}}"
        " AND type = {kind:String} AND day >= {first_day} AND day < {end_day}"
        " AND level = {level:UInt8}"
    ]
    edges = partial_days(query, days, params)
    if edges:
        # Rows chosen before the ARRAY JOIN multiplies them (18.16 joins first otherwise).
        parts.append(
            f"SELECT {KEY}, {_RAW_STATES} FROM (SELECT {_RAW_KEY}, visitor_id, value FROM"
            " (SELECT type, name, pathname, props.key, props.value, visitor_id, value"
            " FROM events WHERE site_id = {site_id:String} AND type = {kind:String}"
            f" AND ({edges})) ARRAY JOIN {_PARTS} AS part)"
            f" WHERE level = {{level:UInt8}} GROUP BY {KEY}"
        )
    return " UNION ALL ".join(parts), params


def event_names(
    query: StatsQuery, days: tuple[date, date], thresholds: dict[str, tuple[float, float]]
) -> Statement:
    """Custom event names by events (a handful per site: one statement)."""
    union, params = _union(query, days, "event", thresholds, level=0)
    return Statement(
        f"SELECT name, sumMerge(events) AS events, {UNIQ_MERGE}(visitors) AS visitors"
        f" FROM ({union}) GROUP BY name ORDER BY events DESC, name {page(query)}",
        params,
    )


def props(
    query: StatsQuery,
    days: tuple[date, date],
    thresholds: dict[str, tuple[float, float]],
    names: tuple[str, ...],
    picks: tuple[tuple[str, str, str], ...] | None = None,
) -> Statement:
    """Phase one of the props (`picks` None): the top `limit` values per (event, key) by
    events, from sums alone. Phase two: events and distinct visitors of the picked (event,
    key, value) triples."""
    union, params = _union(query, days, "event", thresholds, level=1)
    params.update(names=names, picks=picks)
    if picks is None:
        figures, kept = "", "name IN {names}"
        tail = f" LIMIT {int(query.limit)} BY name, prop_key"
    else:
        figures, kept = f", {UNIQ_MERGE}(visitors) AS visitors", "(name, prop_key, prop_value)"
        kept, tail = f"{kept} IN {{picks}}", ""
    return Statement(
        f"SELECT name, prop_key, prop_value, sumMerge(events) AS events{figures}"
        f" FROM ({union}) WHERE {kept} GROUP BY name, prop_key, prop_value"
        f" ORDER BY name, prop_key, events DESC, prop_value{tail}",
        params,
    )


def vital_route_candidates(
    query: StatsQuery, days: tuple[date, date], thresholds: dict[str, tuple[float, float]]
) -> Statement:
    """Phase one of the routes: each metric's top `limit` routes by samples."""
    union, params = _union(query, days, "vital", thresholds, level=1)
    params["metrics"] = tuple(thresholds)
    return Statement(
        f"SELECT name AS metric, route, sumMerge(events) AS samples FROM ({union})"
        " WHERE name IN {metrics} GROUP BY metric, route ORDER BY metric, samples DESC, route"
        f" LIMIT {int(query.limit)} BY metric",
        params,
    )


def vitals(
    query: StatsQuery,
    days: tuple[date, date],
    thresholds: dict[str, tuple[float, float]],
    picks: tuple[tuple[str, str], ...] | None = None,
) -> Statement:
    """Digests, samples and ratings per metric (`picks` None), or of the picked (metric,
    route) pairs (phase two of the routes)."""
    union, params = _union(query, days, "vital", thresholds, level=0 if picks is None else 1)
    if picks is None:
        params["metrics"] = tuple(thresholds)
        kept, key = "name IN {metrics}", "metric"
    else:
        params["picks"] = picks
        kept, key = "(name, route) IN {picks}", "metric, route"
    return Statement(
        f"SELECT name AS metric, {'route' if picks else chr(39) * 2} AS route,"
        f" {VITAL_QUANTILES} AS q, sumMerge(events) AS samples, sumMerge(good) AS good,"
        f" sumMerge(poor) AS poor FROM ({union}) WHERE {kept} GROUP BY {key}"
        " ORDER BY metric, samples DESC, route",
        params,
    )
