"""`GoalStats`: every report with the conversions of a goal (or of all goals) added, and the
goals report. Plain figures come from `Stats` as they are; conversions from `goals.py`; the two
meet here: conversion rate = converting visitors / the row's visitors, revenue in the site's
currency, rows sorted by any of these."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import msgspec

from traytic.core.errors import InvalidInput
from traytic.warehouse.sql import Statement
from traytic.warehouse.stats import funnels
from traytic.warehouse.stats import goals as statements
from traytic.warehouse.stats.filters import TRAFFIC, where
from traytic.warehouse.stats.goals import Target
from traytic.warehouse.stats.grouping import (
    DEVICE_DIMENSIONS,
    GEO_DIMENSIONS,
    PAGE_DIMENSION,
    SOURCE_DIMENSIONS,
    Dimension,
)
from traytic.warehouse.stats.matching import Goal
from traytic.warehouse.stats.measures import PAGEVIEWS, VISITORS, VISITS, ratio
from traytic.warehouse.stats.params import StatsQuery
from traytic.warehouse.stats.results import (
    Bucket,
    Conversions,
    Countries,
    Devices,
    FunnelReport,
    FunnelSegment,
    FunnelStep,
    GoalConversions,
    GoalFigures,
    GoalOverview,
    Goals,
    Metric,
    Money,
    Pages,
    Row,
    SessionPage,
    Sources,
    Timeseries,
)
from traytic.warehouse.stats.revenue import Conversion
from traytic.warehouse.stats.service import Stats, _range

Sort = Literal["visitors", "uniqueConversions", "totalConversions", "conversionRate", "revenue"]
SORTS: tuple[str, ...] = get_args(Sort)
_ORDER = {"uniqueConversions": "converted", "totalConversions": "conversions", "revenue": "revenue"}
RATE_SORT_VALUES = 1000
"""Sorting by conversion rate ranks at most this many converting values of each dimension."""

Key = tuple[str, str, str]


def check_sort(sort: str, target: Target | None) -> str:
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}", field="sort")
    if sort != "visitors" and target is None:
        raise InvalidInput(f"sorting by {sort} needs a goal in `conversions`", field="sort")
    if sort == "revenue" and target is not None and not target.counts_revenue:
        raise InvalidInput("sorting by revenue needs a revenue goal", field="sort")
    return sort


def _figures(row: Mapping[str, Any] | None, visitors: int, money: bool) -> Conversions:
    row = row or {}
    events = int(row.get("revenue_events", 0))
    revenue = float(row.get("revenue", 0.0))
    return Conversions(
        unique_conversions=int(row.get("converted", 0)),
        total_conversions=int(row.get("conversions", 0)),
        conversion_rate=ratio(int(row.get("converted", 0)), visitors),
        revenue=revenue if money else None,
        average_revenue=ratio(revenue, events) if money else None,
    )


class GoalStats:
    """Reports with conversions, over the same warehouse as `stats`."""

    def __init__(self, stats: Stats, conversion: Conversion) -> None:
        self.stats = stats
        self.conversion = conversion

    async def _rows(self, statement: Statement) -> list[dict[str, Any]]:
        return await self.stats.warehouse.query(statement.sql, statement.params)

    def _money(self, rows: Sequence[Mapping[str, Any]]) -> Money:
        unconverted = sorted({code for row in rows for code in row.get("unconverted", [])})
        return Money(currency=self.conversion.currency, unconverted=unconverted)

    # ---- overview, timeseries, goals ---------------------------------------------------

    async def overview(self, query: StatsQuery, target: Target) -> GoalOverview:
        plain, rows = await asyncio.gather(
            self.stats.overview(query),
            self._rows(statements.overview(query, target, self.conversion)),
        )
        by_period = {int(row["is_current"]): row for row in rows}
        return GoalOverview(
            **msgspec.structs.asdict(plain),
            conversions=self._goal_figures(by_period, plain.visitors, target.counts_revenue),
            money=self._money(rows),
        )

    def _goal_figures(
        self, by_period: Mapping[int, Mapping[str, Any]], visitors: Metric, money: bool
    ) -> GoalFigures:
        now = _figures(by_period.get(1), int(visitors.value), money)
        before = _figures(by_period.get(0), int(visitors.previous), money)
        return GoalFigures(
            unique_conversions=Metric(
                value=now.unique_conversions, previous=before.unique_conversions
            ),
            total_conversions=Metric(
                value=now.total_conversions, previous=before.total_conversions
            ),
            conversion_rate=Metric(value=now.conversion_rate, previous=before.conversion_rate),
            revenue=Metric(value=now.revenue or 0.0, previous=before.revenue or 0.0)
            if money
            else None,
            average_revenue=Metric(
                value=now.average_revenue or 0.0, previous=before.average_revenue or 0.0
            )
            if money
            else None,
        )

    async def timeseries(self, query: StatsQuery, target: Target) -> Timeseries:
        plain: Timeseries
        plain, rows = await asyncio.gather(
            self.stats.timeseries(query),
            self._rows(statements.timeseries(query, target, self.conversion)),
        )
        by_bucket = {row["bucket"]: row for row in rows}
        for bucket in plain.buckets:
            key: Any = (
                int(bucket.start.timestamp()) if query.interval == "hour" else bucket.start.date()
            )
            bucket.conversions = _figures(
                by_bucket.get(key), bucket.visitors, target.counts_revenue
            )
        return plain

    async def goals(self, query: StatsQuery, goals: Sequence[Goal]) -> Goals:
        """Every goal (in the order given) with its conversions, current and previous."""
        overview, rows = await asyncio.gather(
            self.stats.overview(query),
            self._rows(statements.per_goal(query, goals, self.conversion)) if goals else _nothing(),
        )
        found: dict[int, dict[int, Mapping[str, Any]]] = {}
        for row in rows:
            found.setdefault(int(row["goal_index"]), {})[int(row["is_current"])] = row
        answers = []
        for index, goal in enumerate(goals):
            figures = self._goal_figures(
                found.get(index, {}), overview.visitors, goal.counts_revenue
            )
            answers.append(
                GoalConversions(
                    id=goal.id,
                    name=goal.name,
                    kind=goal.kind,
                    **{name: getattr(figures, name) for name in GoalFigures.__struct_fields__},
                )
            )
        return Goals(
            range=overview.range,
            previous_range=overview.previous_range,
            visitors=overview.visitors,
            goals=answers,
            money=self._money(rows),
        )

    # ---- breakdowns --------------------------------------------------------------------

    async def breakdowns(
        self,
        query: StatsQuery,
        dimensions: Mapping[str, Dimension],
        target: Target,
        sort: str = "visitors",
    ) -> dict[str, list[Row]]:
        """Each dimension's page of rows with conversions, ranked by `sort`."""
        listed = list(dimensions.values())
        money = target.counts_revenue
        if sort == "visitors":
            plain: dict[str, list[Row]]
            plain, rows = await asyncio.gather(
                self.stats.breakdowns(query, dimensions),
                self._rows(
                    statements.breakdown(
                        query, listed, target, self.conversion, limit=RATE_SORT_VALUES
                    )
                ),
            )
            found = {(r["dimension"], r["value"], r["parent"]): r for r in rows}
            for name, dimension in dimensions.items():
                for shown in plain[name]:
                    key = (dimension.column, shown.value, shown.parent or "")
                    shown.conversions = _figures(found.get(key), shown.visitors, money)
            return plain
        by_rate = sort == "conversionRate"
        rows = await self._rows(
            statements.breakdown(
                query,
                listed,
                target,
                self.conversion,
                order=_ORDER.get(sort, "converted"),
                limit=RATE_SORT_VALUES if by_rate else None,
            )
        )
        picks = tuple((r["dimension"], r["value"], r["parent"]) for r in rows)
        visitors = await self._plain_of(query, listed, picks)
        answer: dict[str, list[Row]] = {}
        for name, dimension in dimensions.items():
            ranked = []
            for row in rows:
                if row["dimension"] != dimension.column:
                    continue
                key = (row["dimension"], row["value"], row["parent"])
                counted = visitors.get(key, {})
                count = int(counted.get("visitors", 0))
                ranked.append(
                    Row(
                        value=row["value"],
                        parent=row["parent"] if dimension.parent else None,
                        visitors=count,
                        visits=int(counted.get("visits", 0)),
                        pageviews=int(counted.get("pageviews", 0)),
                        conversions=_figures(row, count, money),
                    )
                )
            if by_rate:
                ranked.sort(
                    key=lambda r: (
                        -(r.conversions.conversion_rate if r.conversions else 0.0),
                        -r.visitors,
                        r.value,
                    )
                )
            answer[name] = ranked[query.offset : query.offset + query.limit]
        return answer

    async def _plain_of(
        self, query: StatsQuery, dimensions: Sequence[Dimension], picks: tuple[Key, ...]
    ) -> dict[Key, dict[str, Any]]:
        """Visitors, visits and pageviews of exactly these values (counted as the plain
        breakdown counts them: event rows in the range under the filters)."""
        if not picks:
            return {}
        pages = [d for d in dimensions if d is PAGE_DIMENSION]
        types = ("pageview",) if pages else TRAFFIC
        clause, params = where(query, types=types)
        tuples = ", ".join(
            f"tuple('{d.column}', {d.column}, {d.parent or chr(39) * 2})" for d in dimensions
        )
        # The sentinel keeps a single pick a list of tuples rather than a bare tuple.
        params["picks"] = (*picks, ("", "", ""))
        rows = await self._rows(
            Statement(
                "SELECT dimension, value, parent, visitors, visits, pageviews FROM ("  # noqa: S608
                "SELECT tupleElement(dim, 1) AS dimension, tupleElement(dim, 2) AS value,"
                f" tupleElement(dim, 3) AS parent, {VISITORS} AS visitors, {VISITS} AS visits,"
                f" {PAGEVIEWS} AS pageviews FROM events ARRAY JOIN [{tuples}] AS dim {clause}"
                " AND dim IN {picks} GROUP BY dimension, value, parent)",
                params,
            )
        )
        return {(r["dimension"], r["value"], r["parent"]): r for r in rows}

    async def sources(self, query: StatsQuery, target: Target, sort: str) -> Sources:
        found = await self.breakdowns(query, SOURCE_DIMENSIONS, target, sort)
        return Sources(
            range=_range(query.start, query.end, query),
            imports_included=None,
            sampled=None,
            **found,
        )

    async def countries(self, query: StatsQuery, target: Target, sort: str) -> Countries:
        found = await self.breakdowns(query, GEO_DIMENSIONS, target, sort)
        return Countries(
            range=_range(query.start, query.end, query),
            imports_included=None,
            sampled=None,
            **found,
        )

    async def devices(self, query: StatsQuery, target: Target, sort: str) -> Devices:
        found = await self.breakdowns(query, DEVICE_DIMENSIONS, target, sort)
        return Devices(
            range=_range(query.start, query.end, query),
            imports_included=None,
            sampled=None,
            **found,
        )

    async def pages(self, query: StatsQuery, target: Target, sort: str) -> Pages:
        """Pages ranked by `sort`, with the conversions of the visits that viewed each; entry
        and exit pages in their usual order with their visits' conversions."""
        money = target.counts_revenue
        conversion = self.conversion
        plain: Pages
        sessions = self._rows(
            statements.session_pages(query, target, conversion, limit=RATE_SORT_VALUES)
        )
        if sort == "visitors":
            # Two steps: the plain list first, then the conversions of its pages alone.
            plain = await self.stats.pages(query)
            values = [page.value for page in plain.pages]
            page_rows, session_rows = await asyncio.gather(
                self._rows(
                    statements.pages(query, target, conversion, limit=RATE_SORT_VALUES, only=values)
                ),
                sessions,
            )
        else:
            plain, page_rows, session_rows = await asyncio.gather(
                self.stats.pages(query),
                self._rows(
                    statements.pages(
                        query,
                        target,
                        conversion,
                        limit=RATE_SORT_VALUES if sort == "conversionRate" else None,
                    )
                ),
                sessions,
            )
        entry_rows = [row for row in session_rows if row["side"] == "entry"]
        exit_rows = [row for row in session_rows if row["side"] == "exit"]
        if sort == "visitors":
            found = {row["value"]: row for row in page_rows}
            for shown in plain.pages:
                shown.conversions = _figures(found.get(shown.value), shown.visitors, money)
        else:
            if sort in _ORDER:
                page_rows.sort(key=lambda r: (-float(r[_ORDER[sort]]), r["value"]))
            for row in page_rows:
                row["dimension"] = PAGE_DIMENSION.column
            picks = tuple((PAGE_DIMENSION.column, r["value"], "") for r in page_rows)
            visitors = await self._plain_of(query, [PAGE_DIMENSION], picks)
            ranked = []
            for row in page_rows:
                counted = visitors.get((PAGE_DIMENSION.column, row["value"], ""), {})
                count = int(counted.get("visitors", 0))
                ranked.append(
                    Row(
                        value=row["value"],
                        visitors=count,
                        visits=int(counted.get("visits", 0)),
                        pageviews=int(counted.get("pageviews", 0)),
                        conversions=_figures(row, count, money),
                    )
                )
            if sort == "conversionRate":
                ranked.sort(
                    key=lambda r: (
                        -(r.conversions.conversion_rate if r.conversions else 0.0),
                        -r.visitors,
                        r.value,
                    )
                )
                ranked = ranked[query.offset : query.offset + query.limit]
            plain.pages = ranked
        for session_pages, rows in ((plain.entry_pages, entry_rows), (plain.exit_pages, exit_rows)):
            _attach(session_pages, rows, money)
        return plain


class FunnelStats:
    """Funnels over the same warehouse as `stats`."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    async def funnel(
        self,
        query: StatsQuery,
        steps: Sequence[Goal],
        window_minutes: int | None,
        *,
        breakdown: str | None = None,
    ) -> FunnelReport:
        if breakdown is not None and breakdown not in funnels.BREAKDOWNS:
            raise InvalidInput(
                f"breakdown must be one of {', '.join(funnels.BREAKDOWNS)}", field="breakdown"
            )
        window_s = None if window_minutes is None else window_minutes * 60
        warehouse = self.stats.warehouse
        statement = funnels.funnel(query, steps, window_s)
        rows = await warehouse.query(statement.sql, statement.params)
        by_period = {int(row["is_current"]): row for row in rows}
        now = _reached(by_period.get(1), len(steps))
        before = _reached(by_period.get(0), len(steps))
        answer_steps = [
            FunnelStep(
                goal_id=goal.id,
                name=goal.name,
                visitors=now[k],
                previous=before[k],
                conversion_rate=ratio(now[k], now[0]),
                step_rate=ratio(now[k], now[k - 1]) if k else (1.0 if now[0] else 0.0),
                dropoff=now[k - 1] - now[k] if k else 0,
            )
            for k, goal in enumerate(steps)
        ]
        segments = []
        if breakdown is not None:
            statement = funnels.funnel(
                query, steps, window_s, breakdown=breakdown, limit=query.limit
            )
            for row in await warehouse.query(statement.sql, statement.params):
                reached = _reached(row, len(steps))
                segments.append(
                    FunnelSegment(
                        value=row["value"],
                        visitors=reached,
                        conversion_rate=ratio(reached[-1], reached[0]),
                    )
                )
        previous = query.previous()
        return FunnelReport(
            range=_range(query.start, query.end, query),
            previous_range=_range(previous.start, previous.end, query),
            window_minutes=window_minutes,
            steps=answer_steps,
            conversion_rate=Metric(
                value=ratio(now[-1], now[0]), previous=ratio(before[-1], before[0])
            ),
            breakdown=breakdown,
            segments=segments,
        )


def _reached(row: Mapping[str, Any] | None, steps: int) -> list[int]:
    return [int((row or {}).get(f"v{k}", 0)) for k in range(1, steps + 1)]


def _attach(pages: list[SessionPage], rows: list[dict[str, Any]], money: bool) -> None:
    found = {row["value"]: row for row in rows}
    for page in pages:
        page.conversions = _figures(found.get(page.value), page.visitors, money)


async def _nothing() -> list[dict[str, Any]]:
    return []


__all__ = ["SORTS", "Bucket", "FunnelStats", "GoalStats", "Sort", "Target", "check_sort"]
