"""Which events a goal matches, as SQL over `events` rows. A goal is a query, never a tag written
at ingest, so it applies to everything stored, past included.

- `pageview`: a page view whose path matches the pattern (`traytic.core.goals`).
- `event`: a custom event of that name, with the prop `key` = `value` when the goal names one.
- `revenue`: the same as `event`; its conversions also report the revenue the events carried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from traytic.core.goals import pattern_regex

GOAL_KINDS = ("pageview", "event", "revenue")


@dataclass(frozen=True, slots=True)
class Goal:
    """A goal as the stats read it (the database row's fields that matter here)."""

    id: str
    name: str
    kind: str
    match: str
    """The path pattern of a `pageview` goal, else the custom event's name."""
    prop: tuple[str, str] | None = None

    @classmethod
    def of(cls, row: Any) -> Goal:
        """From a stored goal (`traytic.db.models.Goal`, read by attribute)."""
        prop = (row.prop_key, row.prop_value or "") if row.prop_key is not None else None
        return cls(str(row.id), row.name, row.kind, row.match, prop)

    @property
    def counts_revenue(self) -> bool:
        return self.kind == "revenue"


def predicate(goal: Goal, key: str) -> tuple[str, dict[str, Any]]:
    """The condition an events row meets when it converts `goal`; params are named `key_*`."""
    if goal.kind == "pageview":
        return (
            f"(type = 'pageview' AND match(pathname, {{{key}_re:String}}))",
            {f"{key}_re": pattern_regex(goal.match)},
        )
    sql = f"type = 'event' AND name = {{{key}_name:String}}"
    params: dict[str, Any] = {f"{key}_name": goal.match}
    if goal.prop is not None:
        sql += (
            f" AND arrayExists((k, v) -> k = {{{key}_pk:String}} AND v = {{{key}_pv:String}},"
            " props.key, props.value)"
        )
        params[f"{key}_pk"], params[f"{key}_pv"] = goal.prop
    return f"({sql})", params


def any_of(goals: Sequence[Goal], key: str) -> tuple[str, dict[str, Any]]:
    """The condition of converting any of `goals` (false for none)."""
    parts, params = [], {}
    for index, goal in enumerate(goals):
        sql, found = predicate(goal, f"{key}{index}")
        parts.append(sql)
        params.update(found)
    return ("(" + " OR ".join(parts) + ")" if parts else "0"), params
