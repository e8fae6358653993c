"""Run the consumer: alone (`traytic consumer`) or inside the embedded dev process.

Alone, the process lives as long as the consumer does: a consumer task that dies ends the
process with status 1, so Kubernetes restarts it instead of leaving a pod up doing nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import structlog
from prometheus_client import start_http_server

from traytic.consumer.metrics import ConsumerCollector
from traytic.consumer.pipeline import Consumer
from traytic.consumer.settings import ConsumerSettings
from traytic.consumer.upkeep import run_upkeep
from traytic.core import bus
from traytic.core.logging import configure_logging
from traytic.core.metrics import REGISTRY, CollectorRegistry, registered
from traytic.core.settings import load_settings
from traytic.warehouse import Warehouse, WarehouseSettings, open_warehouse

log = structlog.get_logger()

GC_THRESHOLDS = (50_000, 20, 50)
"""The cyclic collector's thresholds in `traytic consumer` (Python's: 700, 10, 10). A batch
allocates a few tracked objects per event (tuples, lists, named tuples) and holds caches of
hundreds of thousands more, so the default ran the collector every ~200 events and walked the
caches again and again: 0.9-1.8 s of GC per 100k bench events, 15-25% of the consumer's own CPU
(issue 16). Almost nothing it makes forms a cycle; this keeps collections to a few per minute."""


@contextlib.asynccontextmanager
async def _background(
    coroutine: Coroutine[Any, Any, None], name: str, stop: Callable[[], object]
) -> AsyncIterator[asyncio.Task[None]]:
    """A task for the life of the block; on exit it is told to stop and awaited, and what
    killed it, if anything did, is raised."""
    task = asyncio.create_task(coroutine, name=name)
    try:
        yield task
    finally:
        stop()
        await task


@contextlib.asynccontextmanager
async def running_consumer(
    settings: ConsumerSettings,
    bus_settings: bus.BusSettings,
    warehouse_settings: WarehouseSettings,
    *,
    warehouse: Warehouse | None = None,
    metrics_registry: CollectorRegistry = REGISTRY,
) -> AsyncIterator[Consumer]:
    """Connect, migrate, consume in a task (its warehouse upkeep in another); on exit finish
    the batch in hand and close what was opened, also when a step of the start failed.

    The consumer's metrics are in `metrics_registry` while it runs; `consumer.task` is its
    task, for a caller that watches it.
    """
    async with contextlib.AsyncExitStack() as stack:
        nc = await bus.connect(bus_settings, name="traytic-consumer")
        stack.push_async_callback(bus.close, nc)
        if warehouse is None:
            warehouse = open_warehouse(warehouse_settings)
            stack.push_async_callback(warehouse.close)
        await warehouse.migrate()
        consumer = Consumer(nc, warehouse, settings, bus_settings)
        await consumer.setup()
        stack.enter_context(
            registered(metrics_registry, "consumer", ConsumerCollector(consumer.metrics))
        )
        consumer.task = await stack.enter_async_context(
            _background(consumer.run(), "consumer", consumer.stop)
        )
        upkeep_stop = asyncio.Event()
        await stack.enter_async_context(
            _background(run_upkeep(warehouse, upkeep_stop), "warehouse-upkeep", upkeep_stop.set)
        )
        yield consumer


async def _run_alone() -> int:
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
        ) as consumer:
            assert consumer.task is not None
            # What start-up made (modules, parsers, compiled patterns) lives as long as the
            # process: out of the collector's sight for good, and collections kept rare.
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
            signalled = asyncio.create_task(stopped.wait())
            await asyncio.wait({signalled, consumer.task}, return_when=asyncio.FIRST_COMPLETED)
            signalled.cancel()
            if consumer.task.done():
                consumer.task.result()  # raises what killed it
                raise RuntimeError("the consumer stopped by itself")
            log.info("consumer_stopping")
    except Exception:
        log.exception("consumer_died")
        return 1
    finally:
        if server is not None:
            server.shutdown()
            thread.join()
    return 0


def run_consumer() -> int:
    return asyncio.run(_run_alone())


async def migrate() -> list[str]:
    store = open_warehouse(load_settings(WarehouseSettings))
    try:
        return await store.migrate()
    finally:
        await store.close()
