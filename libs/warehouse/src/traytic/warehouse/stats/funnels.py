"""The statement of a funnel: how many visitors reach each of its ordered steps (goals).

A visitor reaches step k when events matching steps 1..k happened in that order (a step may
happen in the same second as the one before: a page view and a custom event sent together
share their timestamp), all in the range, and either all in one visit or each within the
window from the step 1 it started from. Per visit (or visitor), step k's time is the first
event of step k at or after step k-1's; with a window, every step-1 event is tried as the
start and the furthest one counts. Those greedy chains are the earliest possible, so the step
reached is the best possible: the Python truth in the tests computes the same.

The arithmetic is done with arrays, which ClickHouse 18.16 and chDB 26 evaluate alike; the
built-in `windowFunnel` was not used because the two engines order events of the same second
differently, and the window funnel's semantics for them changed between versions.
"""

# ruff: noqa: S608 - the f-strings splice fixed SQL fragments and validated integers; every
# value is a bound parameter.

from __future__ import annotations

from collections.abc import Sequence

from traytic.warehouse.sql import Statement
from traytic.warehouse.stats.filters import where
from traytic.warehouse.stats.goals import VISIT_COLUMNS, VISIT_LOOKBACK
from traytic.warehouse.stats.matching import Goal, predicate
from traytic.warehouse.stats.measures import UNIQ
from traytic.warehouse.stats.params import StatsQuery

UNIQ_IF = UNIQ.replace("(", "If(", 1)
"""`UNIQ` with a condition (`uniqCombinedIf(14)(x, cond)`)."""
NEVER = 4294967295
"""A step time that means "not reached" (the largest UInt32, after every real time)."""
BREAKDOWNS = {
    "source": "referrer_source",
    "channel": "channel",
    "country": "country",
    "device": "device",
}
"""What a funnel can be broken down by: the visit step 1 happened in."""


def _first_at_or_after(times: str, start: str) -> str:
    """The first of the sorted `times` at or after `start` (NEVER when none)."""
    return f"arrayFirst(x -> x >= {start}, arrayPushBack({times}, toUInt32({NEVER})))"


def _level(steps: int, window_s: int | None) -> str:
    """The number of steps reached by a group with sorted step times `a1`..`aN`."""
    if window_s is None:
        # Within one visit: the earliest start is the best one.
        return "1 + " + " + ".join(f"(t{k} < {NEVER})" for k in range(2, steps + 1))
    # Each step-1 time as a start: the step times of its chain as arrays aligned with a1.
    names = ", ".join(f"s{k}" for k in range(2, steps + 1))
    reached = " + ".join(f"(s{k} <= s1 + {int(window_s)})" for k in range(2, steps + 1))
    arrays = ", ".join(f"c{k}" for k in range(2, steps + 1))
    return f"arrayReduce('max', arrayMap((s1, {names}) -> 1 + {reached}, a1, {arrays}))"


def _chains(steps: int, window_s: int | None) -> str:
    """The aliases `_level` reads: `t2`..`tN` (one visit) or the arrays `c2`..`cN` (window)."""
    parts = []
    for k in range(2, steps + 1):
        before = "a1[1]" if k == 2 else f"t{k - 1}"
        if window_s is None:
            parts.append(f"{_first_at_or_after(f'a{k}', before)} AS t{k}")
        else:
            previous = "a1" if k == 2 else f"c{k - 1}"
            parts.append(f"arrayMap(p -> {_first_at_or_after(f'a{k}', 'p')}, {previous}) AS c{k}")
    return ", ".join(parts)


def funnel(
    query: StatsQuery,
    steps: Sequence[Goal],
    window_s: int | None,
    *,
    breakdown: str | None = None,
    limit: int = 10,
) -> Statement:
    """Visitors reaching each step (`v1`..`vN`) in this period (`is_current` 1) and the
    previous one (0); with `breakdown`, per value of it (`value`), the top `limit` by the
    visitors entering the funnel, this period only."""
    previous = query.previous()
    clause, params = where(query, start=previous.start)
    conditions = []
    for index, goal in enumerate(steps):
        sql, found = predicate(goal, f"s{index}")
        conditions.append(sql)
        params.update(found)
    params["current_start"] = query.start
    group = "session_id" if window_s is None else "visitor_id"
    arrays = ", ".join(
        f"arraySort(groupArrayIf(toUInt32(ts), {sql})) AS a{k}"
        for k, sql in enumerate(conditions, start=1)
    )
    visits = ""
    if query.filters.any:
        visits = f" AND session_id IN (SELECT session_id FROM events {clause})"
    column = BREAKDOWNS.get(breakdown or "")
    carried = ""
    if column in VISIT_COLUMNS:
        carried = f", argMinIf(session_id, ts, {conditions[0]}) AS entry_visit"
    elif column is not None:
        carried = f", any({column}) AS value"
    grouped = (
        f"SELECT ts >= {{current_start}} AS is_current, {group} AS grp,"
        f" any(visitor_id) AS visitor{carried}, {arrays}"
        " FROM events WHERE site_id = {site_id:String} AND ts >= {start} AND ts < {end}"
        f" AND type IN ('pageview', 'event') AND ({' OR '.join(conditions)}){visits}"
        " GROUP BY is_current, grp HAVING notEmpty(a1)"
    )
    kept = {"": "", "entry": ", entry_visit", "value": ", value"}[
        "entry" if column in VISIT_COLUMNS else "value" if column else ""
    ]
    times = ", ".join(f"a{k}" for k in range(1, len(steps) + 1))
    # 18.16 drops a subquery's columns that only a lambda reads: `0 * length(...)` reads each
    # step's times outside one, so the engine keeps them.
    keep = " + ".join(f"length(a{k})" for k in range(1, len(steps) + 1))
    levels = (
        f"SELECT is_current, visitor{kept}, {_level(len(steps), window_s)} + 0 * ({keep})"
        " AS level"
        f" FROM (SELECT is_current, visitor{kept}, {times}, {_chains(len(steps), window_s)}"
        f" FROM ({grouped}))"
    )
    reached = ", ".join(
        f"{UNIQ_IF}(visitor, level >= {k}) AS v{k}" for k in range(1, len(steps) + 1)
    )
    if column is None:
        return Statement(
            f"SELECT is_current, {reached} FROM ({levels}) GROUP BY is_current", params
        )
    source = f"({levels})"
    if column in VISIT_COLUMNS:
        params["visit_start"] = previous.start - VISIT_LOOKBACK
        source = (
            f"({levels}) AS entered ALL INNER JOIN (SELECT session_id AS entry_visit,"
            f" {column} AS value FROM sessions FINAL WHERE site_id = {{site_id:String}}"
            " AND started >= {visit_start} AND started < {end}) AS visit USING entry_visit"
        )
    return Statement(
        f"SELECT value, {reached} FROM {source} WHERE is_current = 1 GROUP BY value"
        f" ORDER BY v1 DESC, value LIMIT {int(limit)}",
        params,
    )
