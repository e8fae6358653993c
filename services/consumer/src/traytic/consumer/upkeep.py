"""Warehouse upkeep beside the consumer loop: drop the `session_events` day partitions that no
visit can need any more (see `traytic.warehouse.sessions`).

Every replica runs it: dropping a partition twice is harmless, and none is special.
"""

from __future__ import annotations

import asyncio

import structlog

from traytic.core.periodic import every
from traytic.warehouse import Warehouse

log = structlog.get_logger()

PRUNE_EVERY_S = 3600.0


async def prune_session_events(warehouse: Warehouse) -> list[int]:
    dropped = await warehouse.prune_session_events()
    if dropped:
        log.info("session_events_pruned", days=dropped)
    return dropped


async def run_upkeep(
    warehouse: Warehouse, stop: asyncio.Event, *, interval_s: float = PRUNE_EVERY_S
) -> None:
    """Prune now and every `interval_s` until `stop` is set."""
    await every(
        interval_s,
        stop,
        lambda: prune_session_events(warehouse),
        failure="session_events_prune_failed",
    )
