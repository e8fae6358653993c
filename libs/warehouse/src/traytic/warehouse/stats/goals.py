"""Statements of goal conversions over the raw `events` (goals are arbitrary queries, so no
rollup holds them) and, for a visit's source, the `sessions` table.

What is counted, for a `Target` (one goal, or all of a site's goals):
- **conversion events**: events in the range that match the target (`matching.py`); with
  filters, only those of the visits the filters select (the visits with an event in the range
  that passes them, as filters select visits everywhere else);
- **unique conversions**: distinct visitors among them; **total conversions**: their count;
- **revenue**: what the matching events of revenue goals carried, in the reporting currency
  (`revenue.py`), with the count of events that carried any (for the average).

A breakdown row gets the conversions of the visits that belong to it: by the visit's source,
channel and UTM (those of its first event, from `sessions`); by the country, device, browser...
of the converting event itself (one visit has one IP and user agent); for pages, the visits
that viewed the page; for entry and exit pages, the visit's own.
"""

# ruff: noqa: S608 - the f-strings splice whitelisted column names, fixed SQL fragments and
# validated integers (LIMIT takes no expressions on 18.16); every value is a bound parameter.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from traytic.warehouse.sql import Statement
from traytic.warehouse.stats.filters import where
from traytic.warehouse.stats.grouping import Dimension, bucket
from traytic.warehouse.stats.matching import Goal, any_of, predicate
from traytic.warehouse.stats.measures import UNIQ
from traytic.warehouse.stats.params import StatsQuery
from traytic.warehouse.stats.revenue import Conversion

VISIT_COLUMNS = frozenset(
    {
        "referrer_source", "referrer", "channel", "utm_source", "utm_medium", "utm_campaign",
        "utm_term", "utm_content",
    }
)  # fmt: skip
"""Dimensions a breakdown attributes to the converting visit's first event (from `sessions`):
the consumer writes the source on a visit's landing page view only."""
VISIT_LOOKBACK = timedelta(days=2)
"""How long before the range a visit converting inside it may have started."""


@dataclass(frozen=True, slots=True)
class Target:
    """The goals whose conversions a report counts: one goal, or all of a site's (`all`)."""

    goals: tuple[Goal, ...]
    all: bool = False

    @property
    def counts_revenue(self) -> bool:
        return any(goal.counts_revenue for goal in self.goals)


_CONVERSION_FIGURES = (
    f"{UNIQ}(visitor_id) AS converted, count() AS conversions, sum(rev) AS revenue,"
    " countIf(rev_event) AS revenue_events, groupUniqArrayIf(revenue_currency, NOT known)"
    " AS unconverted"
)


def _rows(
    query: StatsQuery,
    target: Target,
    conversion: Conversion,
    *,
    start: datetime | None = None,
    extra: str = "",
) -> tuple[str, dict[str, Any]]:
    """`(SELECT ... FROM events ...)`: the conversion events of [start, end), one row each with
    its visitor, visit, time, revenue (`rev`, reporting currency; 0 outside revenue goals),
    whether it carried revenue and whether that revenue's currency has a rate (`known`)."""
    clause, params = where(query, start=start)
    matched, match_params = any_of(target.goals, "g")
    earning, earn_params = any_of([g for g in target.goals if g.counts_revenue], "r")
    amount, rate_params = conversion.sql()
    params.update(match_params, **earn_params, **rate_params)
    visits = (
        f" AND session_id IN (SELECT session_id FROM events {clause})" if query.filters.any else ""
    )
    return (
        f"(SELECT visitor_id, session_id, ts{extra}, if({earning}, {amount}, 0.) AS rev,"
        f" {earning} AND revenue_currency != '' AS rev_event,"
        f" NOT {earning} OR {conversion.known_sql()} AS known, revenue_currency"
        " FROM events WHERE site_id = {site_id:String} AND ts >= {start} AND ts < {end}"
        f" AND type IN ('pageview', 'event') AND {matched}{visits})",
        params,
    )


def overview(query: StatsQuery, target: Target, conversion: Conversion) -> Statement:
    """Conversion figures of this period (`is_current` 1) and the previous one (0)."""
    rows, params = _rows(query, target, conversion, start=query.previous().start)
    params["current_start"] = query.start
    return Statement(
        f"SELECT ts >= {{current_start}} AS is_current, {_CONVERSION_FIGURES} FROM {rows}"
        " GROUP BY is_current",
        params,
    )


def timeseries(query: StatsQuery, target: Target, conversion: Conversion) -> Statement:
    rows, params = _rows(query, target, conversion)
    params["tz"] = query.tz
    return Statement(
        f"SELECT {bucket(query, 'ts')} AS bucket, {_CONVERSION_FIGURES} FROM {rows}"
        " GROUP BY bucket",
        params,
    )


def per_goal(query: StatsQuery, goals: Sequence[Goal], conversion: Conversion) -> Statement:
    """Each goal's figures in this period and the previous one (`goal`: its index in
    `goals`); an event matching two goals converts both."""
    rows, params = _rows(
        query,
        Target(tuple(goals), all=True),
        conversion,
        start=query.previous().start,
        extra=", " + _goal_indices(goals, params_key="i"),
    )
    for index, goal in enumerate(goals):
        params.update(predicate(goal, f"i{index}")[1])
    params["current_start"] = query.start
    params["earning_goals"] = [i + 1 for i, goal in enumerate(goals) if goal.counts_revenue] or [0]
    return Statement(
        f"SELECT goal - 1 AS goal_index, ts >= {{current_start}} AS is_current,"
        f" {UNIQ}(visitor_id) AS converted, count() AS conversions,"
        " sumIf(rev, has({earning_goals}, goal)) AS revenue,"
        " countIf(rev_event AND has({earning_goals}, goal)) AS revenue_events,"
        " groupUniqArrayIf(revenue_currency, NOT known AND has({earning_goals}, goal))"
        f" AS unconverted FROM {rows} ARRAY JOIN goals AS goal GROUP BY goal_index, is_current",
        params,
    )


def _goal_indices(goals: Sequence[Goal], *, params_key: str) -> str:
    """`goals`: the 1-based indices of the goals a row converts."""
    conditions = [predicate(goal, f"{params_key}{i}")[0] for i, goal in enumerate(goals)]
    items = ", ".join(f"if({sql}, {i + 1}, 0)" for i, sql in enumerate(conditions))
    return f"arrayFilter(x -> x > 0, [{items}]) AS goals"


def _per_visit(
    query: StatsQuery, target: Target, conversion: Conversion, *, columns: str = ""
) -> tuple[str, dict[str, Any]]:
    """One row per converting visit: its visitor, conversions, revenue (and `columns`, the
    converting events' values that are the same for the whole visit)."""
    rows, params = _rows(query, target, conversion, extra=columns and f", {columns}")
    return (
        "(SELECT session_id, any(visitor_id) AS visitor_id, count() AS hits,"
        " sum(rev) AS rev, countIf(rev_event) AS rev_events,"
        " groupUniqArrayIf(revenue_currency, NOT known) AS unconverted"
        + (f", {', '.join(f'any({c}) AS {c}' for c in columns.split(', '))}" if columns else "")
        + f" FROM {rows} GROUP BY session_id)"
    ), params


_BREAKDOWN_FIGURES = (
    f"{UNIQ}(visitor_id) AS converted, sum(hits) AS conversions, sum(rev) AS revenue,"
    " sum(rev_events) AS revenue_events, groupUniqArrayArray(unconverted) AS unconverted"
)


def breakdown(
    query: StatsQuery,
    dimensions: Sequence[Dimension],
    target: Target,
    conversion: Conversion,
    *,
    order: str = "converted",
    limit: int | None = None,
) -> Statement:
    """Per dimension value, the conversions of the visits that belong to it (see the module
    docstring), ranked by `order` (a column of `_CONVERSION_FIGURES`); `limit` rows of each
    dimension at most (when None, the query's page and the rows before it).

    Dimensions of the converting event itself are counted in one pass over the conversion
    events; a visit's source needs its visit's row, joined to one row per converting visit."""
    own = [d for d in dimensions if d.column not in VISIT_COLUMNS]
    visit = [d for d in dimensions if d.column in VISIT_COLUMNS]
    columns = sorted({c for d in own for c in (d.column, d.parent) if c})
    carried = "visitor_id, rev, rev_event, known, revenue_currency"
    figures = _CONVERSION_FIGURES
    if visit:
        source, params = _per_visit(query, target, conversion, columns=", ".join(columns))
        params["visit_start"] = query.start - VISIT_LOOKBACK
        attributes = ", ".join(sorted({c for d in visit for c in (d.column, d.parent) if c}))
        source = (
            f"(SELECT * FROM (SELECT session_id, {attributes} FROM sessions FINAL"
            " WHERE site_id = {site_id:String} AND started >= {visit_start}"
            f" AND started < {{end}}) AS visit ALL INNER JOIN {source} AS visit_conversions"
            " USING session_id)"
        )
        carried, figures = "visitor_id, hits, rev, rev_events, unconverted", _BREAKDOWN_FIGURES
    else:
        source, params = _rows(query, target, conversion, extra=", " + ", ".join(columns))
    tuples = ", ".join(
        f"tuple('{d.column}', {d.column}, {d.parent or chr(39) * 2})" for d in dimensions
    )
    skip = [d.column for d in dimensions if d.skip_empty]
    kept = ""
    if skip:
        names = ", ".join(f"'{name}'" for name in skip)
        kept = f" WHERE NOT (dimension IN ({names}) AND value = '')"
    # 18.16's LIMIT BY takes no offset: the caller drops the rows before the page.
    page = f"LIMIT {int(query.offset + query.limit if limit is None else limit)} BY dimension"
    return Statement(
        f"SELECT dimension, value, parent, {figures}"
        " FROM (SELECT tupleElement(dim, 1) AS dimension, tupleElement(dim, 2) AS value,"
        f" tupleElement(dim, 3) AS parent, {carried}"
        f" FROM {source} ARRAY JOIN [{tuples}] AS dim){kept}"
        f" GROUP BY dimension, value, parent ORDER BY dimension, {order} DESC, value, parent"
        f" {page}",
        params,
    )


def pages(
    query: StatsQuery,
    target: Target,
    conversion: Conversion,
    *,
    limit: int | None = None,
    only: Sequence[str] | None = None,
) -> Statement:
    """Per page, the conversions of the visits that viewed it in the range; with `only`, of
    those pages alone (the page a plain list shows: far fewer visit-page pairs to collect)."""
    per_visit, params = _per_visit(query, target, conversion)
    viewed, viewed_params = where(query, types=("pageview",))
    params.update(viewed_params)
    if only is not None:
        viewed += " AND pathname IN {only_pages}"
        params["only_pages"] = (*only, "")  # never empty, never a bare value; no path is ''

    page = (
        f"LIMIT {int(query.offset)}, {int(query.limit)}" if limit is None else f"LIMIT {int(limit)}"
    )
    return Statement(
        f"SELECT value, '' AS parent, {_BREAKDOWN_FIGURES} FROM"
        " (SELECT DISTINCT session_id, pathname AS value FROM events"
        f" {viewed} AND session_id IN (SELECT session_id FROM {per_visit})) AS viewed"
        f" ALL INNER JOIN {per_visit} AS visit_conversions USING session_id"
        f" GROUP BY value ORDER BY converted DESC, value {page}",
        params,
    )


def session_pages(
    query: StatsQuery, target: Target, conversion: Conversion, *, limit: int
) -> Statement:
    """Per entry page (`side` 'entry') and exit page ('exit') of the converting visits, the
    `limit` with the most converting visitors of each side, in one pass over the visits."""
    per_visit, params = _per_visit(query, target, conversion)
    params["visit_start"] = query.start - VISIT_LOOKBACK
    return Statement(
        "SELECT tupleElement(page, 1) AS side, tupleElement(page, 2) AS value, '' AS parent,"
        f" {_BREAKDOWN_FIGURES} FROM"
        " (SELECT session_id, entry_page, exit_page FROM sessions FINAL"
        " WHERE site_id = {site_id:String} AND started >= {visit_start} AND started < {end})"
        " AS visit ARRAY JOIN [tuple('entry', entry_page), tuple('exit', exit_page)] AS page"
        f" ALL INNER JOIN {per_visit} AS visit_conversions USING session_id"
        " GROUP BY side, value ORDER BY side, converted DESC, value"
        f" LIMIT {int(limit)} BY side",
        params,
    )
