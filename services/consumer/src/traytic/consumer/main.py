"""Run the consumer: alone (`traytic consumer`) or inside the embedded dev process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

import structlog

from traytic.consumer.pipeline import Consumer
from traytic.consumer.settings import ConsumerSettings
from traytic.core import bus
from traytic.core.logging import configure_logging
from traytic.core.settings import load_settings
from traytic.warehouse import Warehouse, WarehouseSettings, open_warehouse

log = structlog.get_logger()


@contextlib.asynccontextmanager
async def running_consumer(
    settings: ConsumerSettings,
    bus_settings: bus.BusSettings,
    warehouse_settings: WarehouseSettings,
    *,
    warehouse: Warehouse | None = None,
) -> AsyncIterator[Consumer]:
    """Connect, migrate, consume in a task; on exit finish the batch in hand and close."""
    nc = await bus.connect(bus_settings, name="traytic-consumer")
    owned = warehouse is None
    store = warehouse or open_warehouse(warehouse_settings)
    try:
        await store.migrate()
        consumer = Consumer(nc, store, settings, bus_settings)
        await consumer.setup()
        task = asyncio.create_task(consumer.run(), name="consumer")
        try:
            yield consumer
        finally:
            consumer.stop()
            await task
    finally:
        if owned:
            await store.close()
        await bus.close(nc)


async def _run_alone() -> None:
    settings = load_settings(ConsumerSettings)
    configure_logging(settings.log_level, settings.log_format)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    async with running_consumer(
        settings, load_settings(bus.BusSettings), load_settings(WarehouseSettings)
    ):
        await stopped.wait()
        log.info("consumer_stopping")


def run_consumer() -> int:
    asyncio.run(_run_alone())
    return 0


async def migrate() -> list[str]:
    store = open_warehouse(load_settings(WarehouseSettings))
    try:
        return await store.migrate()
    finally:
        await store.close()
