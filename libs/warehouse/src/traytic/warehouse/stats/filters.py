"""The WHERE clause of every stats query: the site, the time range, the event types and the
caller's filters. Column names come from a fixed whitelist; every value is a bound parameter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from traytic.warehouse.stats.matching import predicate
from traytic.warehouse.stats.params import FILTER_COLUMNS, Filters, StatsQuery

DAYS_OF_RANGE = "toDate(ts) >= toDate({start}) AND toDate(ts) <= toDate({end})"
TRAFFIC = ("pageview", "event")
"""The rows visitors, visits and breakdowns count: vitals and errors ride along with pageviews."""


def where(
    query: StatsQuery,
    *,
    types: tuple[str, ...] = TRAFFIC,
    start: datetime | None = None,
    end: datetime | None = None,
    event_filters: bool = True,
) -> tuple[str, dict[str, Any]]:
    """`WHERE ...` for `query` over [start, end) (the query's range by default).

    `event_filters=False` leaves out the custom event name and prop filters (for vitals, which
    are not custom events)."""
    clauses = [
        "site_id = {site_id:String}",
        "ts >= {start}",
        "ts < {end}",
        # The same range on the sorting key's `toDate(ts)`: 18.16 does not carry a condition on
        # `ts` over to it and read every row of the site (measured: 876k of 909k rows).
        DAYS_OF_RANGE,
        "type IN {types}",
    ]
    params: dict[str, Any] = {
        "site_id": query.site_id,
        "start": start or query.start,
        "end": end or query.end,
        "types": types,
    }
    filter_sql, filter_params = filter_clauses(query.filters, event_filters=event_filters)
    clauses.extend(filter_sql)
    params.update(filter_params)
    return "WHERE " + " AND ".join(clauses), params


def filter_clauses(
    filters: Filters, *, event_filters: bool = True
) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for index, (name, value) in enumerate(filters.columns):
        clauses.append(f"{FILTER_COLUMNS[name]} = {{f{index}:String}}")
        params[f"f{index}"] = value
    if event_filters and filters.event is not None:
        clauses.append("type = 'event' AND name = {f_event:String}")
        params["f_event"] = filters.event
    if event_filters and filters.prop is not None:
        clauses.append(
            "arrayExists((k, v) -> k = {f_prop_key:String} AND v = {f_prop_value:String},"
            " props.key, props.value)"
        )
        params["f_prop_key"], params["f_prop_value"] = filters.prop
    if filters.goal is not None:
        # Converting visits: those with an event of the goal inside the statement's range.
        goal_sql, goal_params = predicate(filters.goal, "f_goal")
        clauses.append(
            "session_id IN (SELECT session_id FROM events WHERE site_id = {site_id:String}"  # noqa: S608 - a fixed predicate
            f" AND ts >= {{start}} AND ts < {{end}} AND {goal_sql})"
        )
        params.update(goal_params)
    if filters.error is not None:
        # The visits that met this error inside the statement's range.
        clauses.append(
            "session_id IN (SELECT session_id FROM events WHERE site_id = {site_id:String}"
            " AND ts >= {start} AND ts < {end} AND type = 'error' AND name = {f_error:String})"
        )
        params["f_error"] = filters.error
    if filters.segment is not None:
        clauses.append(filters.segment.sql)
        params.update(filters.segment.params)
    return clauses, params
