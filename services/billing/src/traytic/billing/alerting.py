"""The alerts scheduler, hosted in the billing process (see the README for why here): one
context manager the billing lifespan enters, using billing's database and, when billing has
one, its warehouse client (chDB allows one per process), else its own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import structlog

from traytic.alerts import AlertsSettings, running_scheduler
from traytic.db import Database
from traytic.warehouse import Warehouse, WarehouseSettings, open_warehouse

log = structlog.get_logger()


@contextlib.asynccontextmanager
async def hosted_alerts(
    settings: AlertsSettings | None,
    db: Database,
    *,
    warehouse: Warehouse | None,
    warehouse_settings: WarehouseSettings | None,
    clock: Callable[[], float],
) -> AsyncIterator[None]:
    if settings is None or not settings.alerts_enabled:
        log.info("alerts_off", because="TRAYTIC_ALERTS_ENABLED=false or not configured here")
        yield
        return
    own: Warehouse | None = None
    if warehouse is None:
        if warehouse_settings is None:
            log.warning("alerts_off", because="no warehouse to read the numbers from")
            yield
            return
        warehouse = own = open_warehouse(warehouse_settings)
    try:
        async with running_scheduler(db, warehouse, settings, clock=clock):
            yield
    finally:
        if own is not None:
            await own.close()
