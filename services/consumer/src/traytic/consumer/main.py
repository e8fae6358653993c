"""Run the consumer: alone (`traytic consumer`) or inside the embedded dev process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

import structlog
from prometheus_client import start_http_server

from traytic.consumer.pipeline import Consumer
from traytic.consumer.settings import ConsumerSettings
from traytic.consumer.stats import ConsumerCollector
from traytic.core import bus
from traytic.core.logging import configure_logging
from traytic.core.metrics import REGISTRY, CollectorRegistry, registered
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
    metrics_registry: CollectorRegistry = REGISTRY,
) -> AsyncIterator[Consumer]:
    """Connect, migrate, consume in a task; on exit finish the batch in hand and close.

    The consumer's metrics are in `metrics_registry` while it runs.
    """
    nc = await bus.connect(bus_settings, name="traytic-consumer")
    owned = warehouse is None
    store = warehouse or open_warehouse(warehouse_settings)
    try:
        await store.migrate()
        consumer = Consumer(nc, store, settings, bus_settings)
        await consumer.setup()
        task = asyncio.create_task(consumer.run(), name="consumer")
        try:
            with registered(metrics_registry, "consumer", ConsumerCollector(consumer.stats)):
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
    server = None
    if settings.metrics_port:
        # No HTTP app of its own: prometheus-client's server (a thread) answers `/metrics`.
        server, thread = start_http_server(settings.metrics_port, registry=REGISTRY)
        log.info("metrics_serving", port=settings.metrics_port)
    try:
        async with running_consumer(
            settings, load_settings(bus.BusSettings), load_settings(WarehouseSettings)
        ):
            await stopped.wait()
            log.info("consumer_stopping")
    finally:
        if server is not None:
            server.shutdown()
            thread.join()


def run_consumer() -> int:
    asyncio.run(_run_alone())
    return 0


async def migrate() -> list[str]:
    store = open_warehouse(load_settings(WarehouseSettings))
    try:
        return await store.migrate()
    finally:
        await store.close()
