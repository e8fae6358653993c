"""A v2 query, validated: Plausible's Stats API v2 request body (`site_id`, `metrics`,
`date_range`, `dimensions`, `filters`, `order_by`, `include`, `pagination`) checked once, every
bad value a 400 whose message names it, and the normalised form the answer echoes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from traytic.core.errors import InvalidInput
from traytic.warehouse.stats.v2 import ranges
from traytic.warehouse.stats.v2.catalog import (
    METRICS,
    NOT_YET,
    PAGE_LIKE,
    SESSION_METRICS,
    TIME_DIMENSIONS,
    is_event_dimension,
    known_dimension,
)
from traytic.warehouse.stats.v2.tree import Node, SegmentLoader, parse_filters

KEYS = frozenset(
    {
        "site_id",
        "metrics",
        "date_range",
        "dimensions",
        "filters",
        "order_by",
        "include",
        "pagination",
    }
)
INCLUDE_KEYS = frozenset({"time_labels", "total_rows", "imports"})
MAX_LIMIT = 10_000
MAX_DIMENSIONS = 6
MAX_HOURS = 24 * 31
"""Hourly buckets cover at most a month (744 buckets)."""


@dataclass(frozen=True, slots=True)
class V2Query:
    site_id: str
    tz: str
    start: datetime
    end: datetime
    metrics: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    filters: Node = field(default_factory=lambda: parse_filters([]))
    order_by: tuple[tuple[str, str], ...] = ()
    time_labels: bool = False
    total_rows: bool = False
    imports: bool = False
    limit: int = MAX_LIMIT
    offset: int = 0
    echo: dict[str, Any] = field(default_factory=dict)
    """The normalised query the answer shows under `query`."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def time_dimension(self) -> str | None:
        return next((d for d in self.dimensions if d in TIME_DIMENSIONS), None)

    @property
    def interval(self) -> str:
        """The bucket of the time dimension (`time` picks one from the range's length)."""
        chosen = self.time_dimension
        if chosen is None or chosen != "time":
            return (chosen or "time:day").removeprefix("time:")
        span = self.end - self.start
        if span <= timedelta(days=2):
            return "hour"
        return "day" if span <= timedelta(days=92) else "month"


def _invalid(message: str, name: str) -> InvalidInput:
    return InvalidInput(message, field=name)


def _metrics(raw: object, dimensions: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(m, str) for m in raw):
        raise _invalid("metrics must be a non-empty list of metric names", "metrics")
    if len(set(raw)) != len(raw):
        raise _invalid("metrics must not repeat", "metrics")
    for metric in raw:
        if metric in NOT_YET:
            raise _invalid(
                f"the metric {metric} is not supported yet (needs {NOT_YET[metric]})", "metrics"
            )
        if metric not in METRICS:
            raise _invalid(f"unknown metric {metric[:40]!r}", "metrics")
    if "percentage" in raw and not dimensions:
        raise _invalid("the metric percentage needs at least one dimension", "metrics")
    session = [m for m in raw if m in SESSION_METRICS]
    blocking = [d for d in dimensions if is_event_dimension(d) and d not in PAGE_LIKE]
    if session and blocking:
        raise _invalid(
            f"session metric(s) {', '.join(session)} cannot be queried along with event"
            f" dimension(s) {', '.join(blocking)} (event:page and event:hostname can)",
            "metrics",
        )
    return tuple(raw)


def _dimensions(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
        raise _invalid("dimensions must be a list of dimension names", "dimensions")
    if len(set(raw)) != len(raw):
        raise _invalid("dimensions must not repeat", "dimensions")
    if len(raw) > MAX_DIMENSIONS:
        raise _invalid(f"a query takes at most {MAX_DIMENSIONS} dimensions", "dimensions")
    for dimension in raw:
        if dimension in NOT_YET:
            raise _invalid(
                f"the dimension {dimension} is not supported yet (needs {NOT_YET[dimension]})",
                "dimensions",
            )
        if not known_dimension(dimension):
            raise _invalid(f"unknown dimension {dimension[:80]!r}", "dimensions")
    if sum(d in TIME_DIMENSIONS for d in raw) > 1:
        raise _invalid("a query takes at most one time dimension", "dimensions")
    return tuple(raw)


def _order_by(
    raw: object, metrics: tuple[str, ...], dimensions: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    if raw is None:
        time = [(d, "asc") for d in dimensions if d in TIME_DIMENSIONS]
        return (*time, (metrics[0], "desc"))
    if not isinstance(raw, list) or not raw:
        raise _invalid(
            "order_by must be a non-empty list of [metric or dimension, direction]", "order_by"
        )
    found = []
    for item in raw:
        if not (
            isinstance(item, list) and len(item) == 2 and all(isinstance(v, str) for v in item)
        ):
            raise _invalid(
                'each order_by entry is [metric or dimension, "asc" | "desc"]', "order_by"
            )
        name, direction = item
        if name not in metrics and name not in dimensions:
            raise _invalid(
                f"order_by names {name[:80]!r}, not among the query's metrics or dimensions",
                "order_by",
            )
        if direction not in ("asc", "desc"):
            raise _invalid("an order_by direction is asc or desc", "order_by")
        found.append((name, direction))
    return tuple(found)


def _include(raw: object, dimensions: tuple[str, ...]) -> dict[str, bool]:
    if raw is None:
        return {}
    if (
        not isinstance(raw, dict)
        or set(raw) - INCLUDE_KEYS
        or not all(isinstance(v, bool) for v in raw.values())
    ):
        raise _invalid(f"include takes the booleans {', '.join(sorted(INCLUDE_KEYS))}", "include")
    if raw.get("time_labels") and not any(d in TIME_DIMENSIONS for d in dimensions):
        raise _invalid("include.time_labels needs a time dimension", "include")
    return dict(raw)


def _pagination(raw: object) -> tuple[int, int]:
    if raw is None:
        return MAX_LIMIT, 0
    if not isinstance(raw, dict) or set(raw) - {"limit", "offset"}:
        raise _invalid('pagination is {"limit": n, "offset": n}', "pagination")
    limit, offset = raw.get("limit", MAX_LIMIT), raw.get("offset", 0)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise _invalid(f"pagination.limit is a whole number from 1 to {MAX_LIMIT}", "pagination")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 10_000_000:
        raise _invalid("pagination.offset is a whole number from 0", "pagination")
    return limit, offset


def parse_query(
    body: object,
    *,
    site_id: str,
    tz: str,
    now: datetime,
    segments: SegmentLoader | None = None,
    first_day: date | None = None,
) -> V2Query:
    """`body` (decoded JSON) as a `V2Query` for the site the caller was resolved to."""
    if not isinstance(body, dict):
        raise _invalid("the query must be a JSON object", "query")
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise _invalid(f"unknown key {unknown[0][:40]!r} in the query", unknown[0][:40])
    for key in ("site_id", "metrics", "date_range"):
        if key not in body:
            raise _invalid(f"{key} is required", key)
    zone = ZoneInfo(tz)
    start, end = ranges.resolve(body["date_range"], zone, now, first_day)
    dimensions = _dimensions(body.get("dimensions"))
    metrics = _metrics(body["metrics"], dimensions)
    filters = parse_filters(body.get("filters", []), segments)
    order_by = _order_by(body.get("order_by"), metrics, dimensions)
    include = _include(body.get("include"), dimensions)
    limit, offset = _pagination(body.get("pagination"))
    echo: dict[str, Any] = {
        "site_id": body["site_id"],
        "metrics": list(metrics),
        "date_range": ranges.normalised(start, end, zone),
        "filters": body.get("filters") or [],
        "dimensions": list(dimensions),
        "order_by": [list(item) for item in order_by],
        "include": include,
        "pagination": {"limit": limit, "offset": offset},
    }
    query = V2Query(
        site_id=site_id, tz=tz, start=start, end=end, metrics=metrics, dimensions=dimensions,
        filters=filters, order_by=order_by, time_labels=include.get("time_labels", False),
        total_rows=include.get("total_rows", False), imports=include.get("imports", False),
        limit=limit, offset=offset, echo=echo,
    )  # fmt: skip
    if query.interval == "hour" and end - start > timedelta(hours=MAX_HOURS):
        raise _invalid("hourly buckets need a date range of at most 31 days", "dimensions")
    return query
