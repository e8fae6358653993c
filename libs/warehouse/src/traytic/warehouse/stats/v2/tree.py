"""The filters of a v2 query as a tree: leaves (`is`, `contains`, `matches`... on one dimension),
`and` / `or` / `not`, `has_done` / `has_not_done` (visits with, or without, a matching event) and
saved segments. `parse_filters` validates Plausible's JSON form once; every bad value is a 400
that names the filter at fault. Regular expressions are checked with RE2, the engine ClickHouse
runs them on, so a pattern it would reject never reaches the warehouse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import re2

from traytic.core.errors import InvalidInput
from traytic.warehouse.stats.v2.catalog import (
    NOT_YET,
    SESSION_PAGES,
    TIME_DIMENSIONS,
    is_event_dimension,
    known_dimension,
)

LEAF_OPERATORS = ("is", "is_not", "contains", "contains_not", "matches", "matches_not")
MAX_CLAUSES = 100
MAX_VALUE = 2048
MAX_PATTERN = 512
MAX_DEPTH = 8
MAX_LEAVES = 200
MAX_REGEX_MEMORY = 1 << 20
"""RE2's memory budget for one compiled pattern: bounds what a pattern may cost the warehouse."""


@dataclass(frozen=True, slots=True)
class Leaf:
    operator: str
    dimension: str
    clauses: tuple[str, ...]
    case_sensitive: bool = True

    def as_json(self) -> list[Any]:
        found: list[Any] = [self.operator, self.dimension, list(self.clauses)]
        if not self.case_sensitive:
            found.append({"case_sensitive": False})
        return found


@dataclass(frozen=True, slots=True)
class Logic:
    operator: str
    """`and` or `or`."""
    children: tuple[Node, ...]

    def as_json(self) -> list[Any]:
        return [self.operator, [child.as_json() for child in self.children]]


@dataclass(frozen=True, slots=True)
class Negation:
    child: Node

    def as_json(self) -> list[Any]:
        return ["not", self.child.as_json()]


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Visits that did (or did not) have an event matching `child`."""

    done: bool
    child: Node

    def as_json(self) -> list[Any]:
        return ["has_done" if self.done else "has_not_done", self.child.as_json()]


Node = Union[Leaf, Logic, Negation, Behaviour]  # noqa: UP007 - a runtime alias
SegmentLoader = Callable[[str], list[Any]]
"""A saved segment's stored filters by id (raises a 404 for one the caller may not use)."""


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, field="filters")


_REGEX_OPTIONS = re2.Options()
_REGEX_OPTIONS.log_errors = False
_REGEX_OPTIONS.max_mem = MAX_REGEX_MEMORY


def check_pattern(pattern: str) -> str:
    """A pattern RE2 compiles within its memory budget, or a 400 that says why not."""
    if len(pattern) > MAX_PATTERN:
        raise _invalid(f"a regular expression is at most {MAX_PATTERN} characters")
    try:
        re2.compile(pattern, options=_REGEX_OPTIONS)
    except re2.error as exc:
        reason = (
            exc.args[0].decode(errors="replace")
            if exc.args and isinstance(exc.args[0], bytes)
            else str(exc)
        )
        raise _invalid(f"{pattern[:60]!r} is not a valid RE2 regular expression: {reason}") from exc
    return pattern


def _clauses(raw: object, operator: str, dimension: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise _invalid(
            f"the clauses of a {operator} filter on {dimension} must be a non-empty list"
        )
    if len(raw) > MAX_CLAUSES:
        raise _invalid(f"a filter takes at most {MAX_CLAUSES} clauses")
    found = []
    for item in raw:
        number = isinstance(item, (int, float)) and not isinstance(item, bool)
        clause = str(item) if number else item
        if not isinstance(clause, str):
            raise _invalid(f"the clauses of a filter on {dimension} must be strings")
        if len(clause) > MAX_VALUE or "\x00" in clause:
            raise _invalid(f"a filter value is at most {MAX_VALUE} characters, without NUL")
        if operator.startswith("matches"):
            check_pattern(clause)
        found.append(clause)
    return tuple(found)


def _modifiers(raw: object) -> bool:
    if not isinstance(raw, dict) or set(raw) - {"case_sensitive"}:
        raise _invalid('the fourth element of a filter is {"case_sensitive": true|false}')
    value = raw.get("case_sensitive", True)
    if not isinstance(value, bool):
        raise _invalid("case_sensitive must be true or false")
    return value


class _Parser:
    def __init__(self, segments: SegmentLoader | None) -> None:
        self.segments = segments
        self.leaves = 0

    def node(
        self, raw: object, depth: int, *, in_segment: bool = False, events_only: bool = False
    ) -> Node:
        if depth > MAX_DEPTH:
            raise _invalid(f"filters nest at most {MAX_DEPTH} levels deep")
        if not isinstance(raw, list) or not raw or not isinstance(raw[0], str):
            raise _invalid("each filter is a list: [operator, dimension, clauses] or a logical one")
        operator = raw[0]
        if operator in ("and", "or"):
            if len(raw) != 2 or not isinstance(raw[1], list) or not raw[1]:
                raise _invalid(f"{operator} takes a non-empty list of filters")
            return Logic(
                operator,
                tuple(
                    self.node(c, depth + 1, in_segment=in_segment, events_only=events_only)
                    for c in raw[1]
                ),
            )
        if operator == "not":
            if len(raw) != 2:
                raise _invalid("not takes one filter")
            return Negation(
                self.node(raw[1], depth + 1, in_segment=in_segment, events_only=events_only)
            )
        if operator in ("has_done", "has_not_done"):
            if len(raw) != 2 or events_only:
                raise _invalid(f"{operator} takes one filter, and cannot be nested in another")
            return Behaviour(
                operator == "has_done",
                self.node(raw[1], depth + 1, in_segment=in_segment, events_only=True),
            )
        if operator not in LEAF_OPERATORS:
            raise _invalid(f"unknown filter operator {operator[:40]!r}")
        return self.leaf(raw, depth, in_segment=in_segment, events_only=events_only)

    def leaf(self, raw: list[Any], depth: int, *, in_segment: bool, events_only: bool) -> Node:
        operator = raw[0]
        if len(raw) not in (3, 4) or not isinstance(raw[1], str):
            raise _invalid(
                f"a {operator} filter is [operator, dimension, clauses] with optional modifiers"
            )
        dimension = raw[1]
        if dimension == "segment":
            return self.segment(raw, depth, in_segment=in_segment)
        if dimension in NOT_YET:
            raise _invalid(
                f"filtering by {dimension} is not supported yet (needs {NOT_YET[dimension]})"
            )
        if dimension in TIME_DIMENSIONS:
            raise _invalid("time dimensions cannot be filtered on: set date_range instead")
        if not known_dimension(dimension):
            raise _invalid(f"unknown filter dimension {dimension[:80]!r}")
        if events_only and not is_event_dimension(dimension):
            raise _invalid(
                f"{dimension} cannot be used in has_done / has_not_done: only event dimensions can"
            )
        if dimension in SESSION_PAGES and events_only:
            raise _invalid(f"{dimension} cannot be used inside has_done / has_not_done")
        case_sensitive = _modifiers(raw[3]) if len(raw) == 4 else True
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            raise _invalid(f"a query takes at most {MAX_LEAVES} filters")
        return Leaf(operator, dimension, _clauses(raw[2], operator, dimension), case_sensitive)

    def segment(self, raw: list[Any], depth: int, *, in_segment: bool) -> Node:
        if raw[0] != "is" or len(raw) != 3:
            raise _invalid('segments are filtered as ["is", "segment", [<segment id>]]')
        if in_segment:
            raise _invalid("a segment cannot use another segment")
        if self.segments is None:
            raise _invalid("segments cannot be used here")
        ids = raw[2]
        if not isinstance(ids, list) or not ids or len(ids) > 10:
            raise _invalid("give between 1 and 10 segment ids")
        children = []
        for segment_id in ids:
            stored = self.segments(str(segment_id)[:64])
            children.append(self.root(stored, depth + 1, in_segment=True))
        return children[0] if len(children) == 1 else Logic("or", tuple(children))

    def root(self, raw: object, depth: int, *, in_segment: bool = False) -> Node:
        if not isinstance(raw, list):
            raise _invalid("filters must be a list")
        if not raw:
            return Logic("and", ())
        return Logic("and", tuple(self.node(item, depth, in_segment=in_segment) for item in raw))


def parse_filters(raw: object, segments: SegmentLoader | None = None) -> Node:
    """The filter tree of a query's `filters` (an implicit `and` of its items)."""
    return _Parser(segments).root(raw if raw is not None else [], 1)


def leaves(node: Node) -> list[Leaf]:
    if isinstance(node, Leaf):
        return [node]
    if isinstance(node, Logic):
        return [leaf for child in node.children for leaf in leaves(child)]
    return leaves(node.child)


def is_empty(node: Node) -> bool:
    return isinstance(node, Logic) and not node.children


def segment_ids(raw: object) -> list[str]:
    """The segment ids a raw `filters` value names (for loading them before parsing)."""
    found: list[str] = []
    if isinstance(raw, list):
        if len(raw) == 3 and raw[:2] == ["is", "segment"] and isinstance(raw[2], list):
            return [str(item)[:64] for item in raw[2]]
        for item in raw:
            found.extend(segment_ids(item))
    return found
