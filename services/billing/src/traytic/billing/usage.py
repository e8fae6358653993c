"""Events counted this month per organisation, for `GET /api/billing` and quotas.

The count comes from the warehouse (billing reads it directly: a service never imports
another): events of every site of the organisation with `ts` in the current calendar month,
UTC. Without a warehouse (`Billing` given none) the source answers 0 and quotas never trip.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol

from traytic.billing.repository import list_site_plans
from traytic.db import Database
from traytic.warehouse import Warehouse

SITES_PER_QUERY = 1_000
"""Site ids per count query: keeps each query well under 18.16's 256 KiB `max_query_size`."""


class UsageSource(Protocol):
    async def events_this_month(self, organisation_id: uuid.UUID) -> int: ...


class NoUsage:
    """Without a warehouse: nothing counted."""

    async def events_this_month(self, organisation_id: uuid.UUID) -> int:
        return 0


def month_bounds(now: float) -> tuple[int, int]:
    """Unix seconds of the first instant of `now`'s calendar month (UTC) and of the next one."""
    moment = datetime.fromtimestamp(now, UTC)
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    end = (
        datetime(moment.year + 1, 1, 1, tzinfo=UTC)
        if moment.month == 12
        else datetime(moment.year, moment.month + 1, 1, tzinfo=UTC)
    )
    return int(start.timestamp()), int(end.timestamp())


async def count_events_by_site(
    warehouse: Warehouse, site_ids: Iterable[str], start: int, end: int
) -> dict[str, int]:
    """Events per site with `start <= ts < end` (sites without events are absent)."""
    sites = sorted(set(site_ids))
    counts: dict[str, int] = {}
    for offset in range(0, len(sites), SITES_PER_QUERY):
        chunk = sites[offset : offset + SITES_PER_QUERY]
        # Tuples bind as IN lists: both engines then read only these sites' granules.
        rows = await warehouse.query(
            "SELECT site_id, count() AS events FROM events WHERE site_id IN {sites}"
            " AND ts >= toDateTime({start:UInt32}) AND ts < toDateTime({end:UInt32})"
            " GROUP BY site_id",
            {"sites": tuple(chunk), "start": start, "end": end},
        )
        counts.update({row["site_id"]: int(row["events"]) for row in rows})
    return counts


class WarehouseUsage:
    """This month's events of an organisation's sites, counted in the warehouse."""

    def __init__(self, warehouse: Warehouse, db: Database, clock: Callable[[], float]) -> None:
        self.warehouse = warehouse
        self.db = db
        self.clock = clock

    async def events_this_month(self, organisation_id: uuid.UUID) -> int:
        async with self.db.session() as session:
            sites = await list_site_plans(session, organisation_id)
        if not sites:
            return 0
        start, end = month_bounds(self.clock())
        counts = await count_events_by_site(self.warehouse, (s.site_id for s in sites), start, end)
        return sum(counts.values())
