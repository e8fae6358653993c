"""Runs a v2 query on a `Warehouse` and shapes Plausible's answer: `results` (each with its
`dimensions` and `metrics` in the query's order), `meta` and the normalised `query`.

One statement answers most queries, sorted and paged by the warehouse. A query with a time
dimension and both event and visit metrics reads two (events bucket by their own time, visits by
their start), merged, sorted and paged here, as are answers with imported data added.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from traytic.core.errors import InvalidInput
from traytic.warehouse.base import Warehouse
from traytic.warehouse.sql import Statement
from traytic.warehouse.stats.measures import ratio
from traytic.warehouse.stats.v2.catalog import TIME_DIMENSIONS, VISIT_METRICS
from traytic.warehouse.stats.v2.imported import skip_reason
from traytic.warehouse.stats.v2.places import region_names
from traytic.warehouse.stats.v2.query import V2Query
from traytic.warehouse.stats.v2.statements import Builder

MAX_MERGED_ROWS = 100_000
"""Rows an answer merged here may have before sorting: beyond that, narrow the query."""
Row = dict[str, Any]
Extra = Callable[[V2Query], Awaitable[list[Row] | None]]
"""More rows to add to the native ones (imported data): `d0..` keys and `m_*` sums; None when
they do not apply to the query."""


def _sums(row: Mapping[str, Any]) -> dict[str, float]:
    return {key: float(value) for key, value in row.items() if key.startswith("m_")}


def metric_values(query: V2Query, sums: Mapping[str, float], total_visitors: float) -> list[Any]:
    visits = sums.get("m_visits", 0.0)
    found: list[Any] = []
    for metric in query.metrics:
        if metric in ("visitors", "visits", "pageviews", "events"):
            found.append(int(sums.get(f"m_{metric}", 0)))
        elif metric == "bounce_rate":
            found.append(round(100 * ratio(sums.get("m_bounces", 0), visits), 2))
        elif metric == "views_per_visit":
            found.append(round(ratio(sums.get("m_pageviews", 0), visits), 2))
        elif metric == "visit_duration":
            found.append(round(ratio(sums.get("m_duration", 0), visits)))
        else:  # percentage
            found.append(round(100 * ratio(sums.get("m_visitors", 0), total_visitors), 2))
    return found


class V2Answer:
    """Turns grouped rows into the answer's rows (labels for time buckets)."""

    def __init__(self, query: V2Query) -> None:
        self.query = query
        zone = query.zone
        self.first_day = query.start.astimezone(zone).date()

    def label(self, key: Any) -> str:
        interval = self.query.interval
        if interval == "hour":
            instant = datetime.fromtimestamp(int(key), UTC).astimezone(self.query.zone)
            return instant.strftime("%Y-%m-%d %H:%M:%S")
        day = key if isinstance(key, date) else date.fromisoformat(str(key))
        return max(day, self.first_day).isoformat()

    def dimensions(self, row: Mapping[str, Any]) -> list[str]:
        return [
            self.label(row[f"d{n}"]) if name in TIME_DIMENSIONS else str(row[f"d{n}"])
            for n, name in enumerate(self.query.dimensions)
        ]

    def time_labels(self) -> list[str]:
        query, zone = self.query, self.query.zone
        if query.interval == "hour":
            local = query.start.astimezone(zone).replace(minute=0, second=0, microsecond=0)
            instant = int(local.astimezone(UTC).timestamp())
            labels = []
            while instant < query.end.timestamp():
                labels.append(self.label(instant))
                instant += 3600
            return labels
        last = (query.end - timedelta(seconds=1)).astimezone(zone).date()
        days = [self.first_day + timedelta(days=n) for n in range((last - self.first_day).days + 1)]
        if query.interval == "week":
            days = [d for d in days if d == self.first_day or d.weekday() == 0]
        elif query.interval == "month":
            days = [d for d in days if d == self.first_day or d.day == 1]
        return [d.isoformat() for d in days]


async def first_day(warehouse: Warehouse, site_id: str, tz: str) -> date | None:
    """The local day of the site's first event (where `date_range: "all"` starts)."""
    rows = await warehouse.query(
        "SELECT min(ts) AS first, count() AS n FROM events WHERE site_id = {site_id:String}",
        {"site_id": site_id},
    )
    if not rows or not int(rows[0]["n"]):
        return None
    first: datetime = rows[0]["first"]
    return first.astimezone(ZoneInfo(tz)).date()


class V2Stats:
    """Answers v2 queries over one warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    async def _rows(self, statement: Statement) -> list[Row]:
        return await self.warehouse.query(statement.sql, statement.params)

    async def _builder(self, query: V2Query) -> Builder:
        if "visit:region_name" not in query.dimensions:
            return Builder(query)
        present = await self._rows(Builder(query).present_regions())
        names = region_names()
        return Builder(query, {row["code"]: names.get(row["code"], row["code"]) for row in present})

    async def run(self, query: V2Query, extra: Extra | None = None) -> dict[str, Any]:
        builder = await self._builder(query)
        wants_visits = bool(VISIT_METRICS & set(query.metrics))
        has_pages = any(d.startswith("visit:") and d.endswith("_page") for d in query.dimensions)
        wants_events = bool({"visitors", "pageviews", "events", "percentage"} & set(query.metrics))
        if not wants_visits and not has_pages:
            statements = [builder.rows()]
        elif query.time_dimension is None or has_pages or not wants_events:
            statements = [builder.visits()]
        else:
            statements = [builder.rows(), builder.visits()]
        total_visitors = 0.0
        if "percentage" in query.metrics:
            counted = await self._rows(builder.total_visitors())
            total_visitors = float(counted[0]["m_visitors"]) if counted else 0.0
        meta: dict[str, Any] = {}
        imported: list[Row] = []
        if query.imports and extra is not None:
            added = await extra(query)
            meta["imports_included"] = added is not None
            if added is None:
                meta["imports_skip_reason"] = skip_reason(query)
            imported = added or []
        if len(statements) == 1 and not imported:
            results, total = await self._in_warehouse(builder, statements[0], query, total_visitors)
        else:
            results, total = await self._merged(statements, imported, query, total_visitors)
        if query.total_rows:
            meta["total_rows"] = total
        if query.time_labels:
            meta["time_labels"] = V2Answer(query).time_labels()
        return {"results": results, "meta": meta, "query": query.echo}

    async def _in_warehouse(
        self, builder: Builder, statement: Statement, query: V2Query, total_visitors: float
    ) -> tuple[list[Row], int]:
        page = builder.ordered(statement, limit=query.limit, offset=query.offset)
        if query.total_rows:
            rows, counted = await asyncio.gather(
                self._rows(page), self._rows(builder.counted(statement))
            )
            total = int(counted[0]["total"]) if counted else 0
        else:
            rows, total = await self._rows(page), 0
        answer = V2Answer(query)
        results = [
            {
                "metrics": metric_values(query, _sums(row), total_visitors),
                "dimensions": answer.dimensions(row),
            }
            for row in rows
        ]
        if not query.dimensions and not results:
            results = [{"metrics": metric_values(query, {}, total_visitors), "dimensions": []}]
        return results, total if query.dimensions else len(results)

    async def _merged(
        self,
        statements: Sequence[Statement],
        imported: list[Row],
        query: V2Query,
        total_visitors: float,
    ) -> tuple[list[Row], int]:
        capped = [Statement(f"{s.sql} LIMIT {MAX_MERGED_ROWS + 1}", s.params) for s in statements]
        answers = await asyncio.gather(*(self._rows(s) for s in capped))
        keys = [f"d{n}" for n in range(len(query.dimensions))]
        merged: dict[tuple[Any, ...], dict[str, float]] = {}
        for index, rows in enumerate([*answers, imported]):
            if len(rows) > MAX_MERGED_ROWS:
                raise InvalidInput(
                    f"the query groups into more than {MAX_MERGED_ROWS} rows: add filters,"
                    " fewer dimensions or a shorter date range",
                    field="dimensions",
                )
            native_visits = index == len(answers) - 1 and len(answers) == 2
            for row in rows:
                key = tuple(_normal_key(row[k]) for k in keys)
                sums = merged.setdefault(key, {})
                for name, value in _sums(row).items():
                    if native_visits and name in ("m_visitors", "m_pageviews", "m_events"):
                        continue  # the rows statement counted these by each event's own time
                    sums[name] = sums.get(name, 0.0) + value
        if imported and "percentage" in query.metrics:
            total_visitors += sum(float(row.get("m_visitors", 0)) for row in imported)
        if not query.dimensions and not merged:
            merged[()] = {}
        ordered = sorted(merged.items(), key=lambda item: _dimension_order(item[0]))
        for name, direction in reversed(query.order_by):
            if name in query.dimensions:
                index = query.dimensions.index(name)
                ordered.sort(
                    key=lambda item: _sortable(item[0][index]), reverse=direction == "desc"
                )
            else:
                position = query.metrics.index(name)
                ordered.sort(
                    key=lambda item: metric_values(query, item[1], total_visitors)[position],
                    reverse=direction == "desc",
                )
        answer = V2Answer(query)
        page = ordered[query.offset : query.offset + query.limit]
        results = [
            {
                "metrics": metric_values(query, sums, total_visitors),
                "dimensions": answer.dimensions(dict(zip(keys, key, strict=True))),
            }
            for key, sums in page
        ]
        return results, len(ordered)


def _normal_key(value: Any) -> Any:
    """Dates and numbers from either statement (or imports) compare equal."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sortable(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, (int, float)) else (1, str(value))


def _dimension_order(key: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple(_sortable(value) for value in key)
