"""A v2 filter tree as one SQL condition over rows of `events`. Column expressions come from the
catalog's whitelist; every value is a bound parameter.

Case-insensitive regular expressions lower both sides: ClickHouse 18.16 looks for the literal
part of a pattern case-sensitively before running RE2, so `(?i)^abc$` never matches `ABC` there
(tested); lowering the subject and the pattern's literals gives the same answer on both engines.
"""

# ruff: noqa: S608 - the f-strings splice whitelisted expressions; values are bound parameters.

from __future__ import annotations

from datetime import datetime
from typing import Any

from traytic.warehouse.stats.params import Condition
from traytic.warehouse.stats.v2.catalog import (
    EVENT_COLUMNS,
    PROPS_PREFIX,
    SESSION_PAGES,
    VISIT_COLUMNS,
)
from traytic.warehouse.stats.v2.places import codes_matching, country_names, region_names
from traytic.warehouse.stats.v2.tree import Behaviour, Leaf, Logic, Negation, Node, parse_filters

TRAFFIC_TYPES = ("pageview", "event")
NONE_LABEL = "(none)"
"""A custom property an event does not carry reads as this (Plausible's label)."""


def lower_pattern(pattern: str) -> str:
    """`pattern` for lowered text: literals lowered, escapes (`\\D`, `\\p{Lu}`) kept as written."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out.append(pattern[index : index + 2])
            index += 2
            if pattern[index - 1] in "pPx" and index < len(pattern) and pattern[index] == "{":
                close = pattern.find("}", index)
                close = len(pattern) - 1 if close < 0 else close
                out.append(pattern[index : close + 1])
                index = close + 1
            continue
        out.append(char.lower())
        index += 1
    return "(?i)" + "".join(out)


class Conditions:
    """Builds conditions for one query: the site and range bind as `site_id`, `start`, `end`,
    each filter value as `fN`; `params` holds them all for the statement."""

    def __init__(self, site_id: str, start: datetime, end: datetime, *, prefix: str = "f") -> None:
        self.params: dict[str, Any] = {"site_id": site_id, "start": start, "end": end}
        self.prefix = prefix

    def bind(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return "{" + name + "}"

    def rows(self, *, types: tuple[str, ...] = TRAFFIC_TYPES) -> str:
        """The site's rows of `types` in the range (without the filters)."""
        return (
            "site_id = {site_id:String} AND ts >= {start} AND ts < {end}"
            f" AND type IN {self.bind(types)}"
        )

    def condition(self, node: Node) -> str:
        if isinstance(node, Logic):
            if not node.children:
                return "1"
            joined = f" {node.operator.upper()} ".join(self.condition(c) for c in node.children)
            return f"({joined})"
        if isinstance(node, Negation):
            return f"NOT ({self.condition(node.child)})"
        if isinstance(node, Behaviour):
            matching = self.condition(node.child)
            inside = f"SELECT session_id FROM events WHERE {self.rows()} AND {matching}"
            return f"session_id {'IN' if node.done else 'NOT IN'} ({inside})"
        return self.leaf(node)

    def expression(self, dimension: str) -> tuple[str, str]:
        """The SQL of a dimension's value on an event row, and what an empty value reads as."""
        if dimension == "visit:country_name":
            names = country_names()
            codes, labels = self.bind(list(names)), self.bind(list(names.values()))
            return f"transform(country, {codes}, {labels}, '')", ""
        if dimension in EVENT_COLUMNS:
            return EVENT_COLUMNS[dimension].column, EVENT_COLUMNS[dimension].blank
        if dimension in VISIT_COLUMNS:
            column = VISIT_COLUMNS[dimension]
            return column.column, column.blank
        key = self.bind(dimension.removeprefix(PROPS_PREFIX))
        return (
            f"if(has(props.key, {key}), props.value[indexOf(props.key, {key})], '{NONE_LABEL}')",
            "",
        )

    def leaf(self, leaf: Leaf) -> str:
        negative = leaf.operator.endswith("_not")
        if leaf.dimension in SESSION_PAGES:
            pick = "argMax" if leaf.dimension == "visit:exit_page" else "argMin"
            test = self.test("page", "", leaf)
            test = f"NOT ({test})" if negative else test
            visits = (
                f"SELECT session_id, {pick}(pathname, ts) AS page FROM events"
                f" WHERE {self.rows(types=('pageview',))} GROUP BY session_id"
            )
            return f"session_id IN (SELECT session_id FROM ({visits}) WHERE {test})"
        if leaf.dimension == "visit:region_name":
            # 5,000 subdivision names are too many to bind: match the names here, then codes.
            operator = leaf.operator.removesuffix("_not")
            codes = codes_matching(region_names(), operator, leaf.clauses, leaf.case_sensitive)
            unknown = operator == "is" and "" in leaf.clauses
            region = VISIT_COLUMNS["visit:region"].column
            tests = [f"{region} IN {self.bind(codes)}"] if codes else []
            tests += [f"{region} = ''"] if unknown else []
            test = "(" + " OR ".join(tests) + ")" if tests else "0"
        else:
            expression, blank = self.expression(leaf.dimension)
            test = self.test(expression, blank, leaf)
        return f"NOT ({test})" if negative else test

    def test(self, expression: str, blank: str, leaf: Leaf) -> str:
        """The positive form of a leaf (`is`, `contains`, `matches`) on `expression`."""
        operator = leaf.operator.removesuffix("_not")
        values = list(leaf.clauses)
        if operator == "is" and blank:
            values = ["" if value == blank else value for value in values]
        if operator == "is":
            if leaf.case_sensitive:
                return f"{expression} IN {self.bind(tuple(values))}"
            tests = [f"lowerUTF8({expression}) = lowerUTF8({self.bind(v)})" for v in values]
        elif operator == "contains":
            function = "position" if leaf.case_sensitive else "positionCaseInsensitiveUTF8"
            tests = [f"{function}({expression}, {self.bind(v)}) > 0" for v in values]
        elif leaf.case_sensitive:
            tests = [f"match({expression}, {self.bind(v)})" for v in values]
        else:
            tests = [
                f"match(lowerUTF8({expression}), {self.bind(lower_pattern(v))})" for v in values
            ]
        return "(" + " OR ".join(tests) + ")"


def segment_condition(filters: object) -> Condition:
    """A saved segment's v2 filters as a condition the stats API's statements can add: values
    bind as `sgN` (clear of theirs); the site and range are the statement's own."""
    conditions = Conditions("", datetime.min, datetime.min, prefix="sg")
    sql = conditions.condition(parse_filters(filters))
    own = {"site_id", "start", "end"}
    return Condition(sql, tuple((k, v) for k, v in conditions.params.items() if k not in own))
