"""`ReadingStats`: how the pages were read (engaged time, scroll depth), the links and files
that took visitors away, the pages not found and the errors met. The statements are in
`engagement.py`; `Stats` inherits these answers and the two readers they share."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from traytic.warehouse.base import Warehouse
from traytic.warehouse.sql import Statement
from traytic.warehouse.stats import engagement, raw, sampling
from traytic.warehouse.stats.grouping import Dimension
from traytic.warehouse.stats.params import StatsQuery
from traytic.warehouse.stats.results import (
    Engagement,
    ErrorRow,
    Errors,
    Languages,
    LinkRow,
    PageEngagement,
    Range,
    Row,
)

LANGUAGE = Dimension("language", skip_empty=True)
"""Read from the raw events: the daily rollups hold no language (a rollup of it would need a
new materialized view and its backfill; languages are a small report)."""


def stats_range(start: datetime, end: datetime, query: StatsQuery) -> Range:
    zone = query.zone
    return Range(start=start.astimezone(zone), end=end.astimezone(zone), tz=query.tz)


def page_engagement(row: dict[str, Any]) -> PageEngagement:
    return PageEngagement(
        value=row["value"],
        views=int(row["views"]),
        time_on_page=float(row["time_on_page"]),
        scroll_depth=float(row["scroll_depth"]),
    )


class ReadingStats:
    """The stats answers of issue 18, and the statement runners every answer uses."""

    warehouse: Warehouse

    async def _rows(self, statement: Statement) -> list[dict[str, Any]]:
        rows = await self.warehouse.query(statement.sql, statement.params)
        return sampling.scaled_rows(rows, statement.scale)

    async def _all(self, *statements: Statement) -> list[list[dict[str, Any]]]:
        """Independent statements at once: a server runs them in parallel (chDB in turn)."""
        return list(await asyncio.gather(*(self._rows(statement) for statement in statements)))

    async def engagement(self, query: StatsQuery) -> Engagement:
        """Time on page and scroll depth per page; outbound links, downloads, 404s by URL."""
        pages, *links = await self._all(
            engagement.page_engagement(query),
            *(engagement.link_events(query, name) for name in engagement.LINK_EVENTS.values()),
        )
        by_kind = {
            kind: [
                LinkRow(
                    value=row["value"], events=int(row["events"]), visitors=int(row["visitors"])
                )
                for row in rows
            ]
            for kind, rows in zip(engagement.LINK_EVENTS, links, strict=True)
        }
        return Engagement(
            range=stats_range(query.start, query.end, query),
            pages=[page_engagement(row) for row in pages],
            **by_kind,
        )

    async def languages(self, query: StatsQuery) -> Languages:
        return Languages(
            range=stats_range(query.start, query.end, query),
            languages=[
                Row(
                    value=row["value"],
                    visitors=int(row["visitors"]),
                    visits=int(row["visits"]),
                    pageviews=int(row["pageviews"]),
                )
                for row in await self._rows(raw.breakdown(query, LANGUAGE))
            ],
        )

    async def errors(self, query: StatsQuery) -> Errors:
        """Error messages by page, the most frequent first."""
        zone = query.zone
        return Errors(
            range=stats_range(query.start, query.end, query),
            errors=[
                ErrorRow(
                    message=row["message"],
                    page=row["page"],
                    source=row["source"],
                    errors=int(row["errors"]),
                    visitors=int(row["visitors"]),
                    first_seen=row["first_seen"].astimezone(zone),
                    last_seen=row["last_seen"].astimezone(zone),
                )
                for row in await self._rows(engagement.errors(query))
            ],
        )
