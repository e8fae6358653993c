"""The consumer's collector: what it inserted, dropped and still has pending, after a run."""

from __future__ import annotations

import asyncio

import msgspec
from nats.aio.client import Client as NatsClient
from prometheus_client import CollectorRegistry, generate_latest

from tests.consumer.conftest import GOOGLEBOT, TEST_SETTINGS, Publisher, beacon
from tests.metrics.conftest import sample
from traytic.consumer.main import running_consumer
from traytic.core import bus
from traytic.core.events import Pageview
from traytic.warehouse import Warehouse, WarehouseSettings


async def test_consumer_metrics_after_processing(
    nc: NatsClient,
    bus_settings: bus.BusSettings,
    warehouse: Warehouse,
    warehouse_settings: WarehouseSettings,
    registry: CollectorRegistry,
) -> None:
    await bus.ensure_stream(nc.jetstream(), bus_settings)
    publisher = Publisher(nc, bus_settings)
    page = [Pageview(url="https://example.com/")]
    await publisher.publish([beacon(page), beacon(page * 2), beacon(page, ua=GOOGLEBOT)])
    await publisher.publish([beacon(page)])
    settings = msgspec.structs.replace(TEST_SETTINGS, pending_poll_s=0.05)
    async with running_consumer(
        settings, bus_settings, warehouse_settings, warehouse=warehouse, metrics_registry=registry
    ) as consumer:
        for _ in range(200):
            if consumer.metrics.events_inserted >= 4 and consumer.metrics.pending_messages == 0:
                break
            await asyncio.sleep(0.05)
        text = generate_latest(registry).decode()
    assert sample(text, "traytic_consumer_events_inserted_total") == 4
    assert sample(text, "traytic_consumer_events_dropped_total", reason="crawler") == 1
    assert sample(text, "traytic_consumer_events_dropped_total", reason="headless") == 0
    assert sample(text, "traytic_consumer_dead_lettered_total") == 0
    assert sample(text, "traytic_consumer_pending_messages") == 0
    batches = sample(text, "traytic_consumer_batches_inserted_total")
    assert batches >= 1
    assert sample(text, "traytic_consumer_batch_events_sum") == 4
    assert sample(text, "traytic_consumer_insert_seconds_count") == batches
    assert sample(text, "traytic_consumer_step_seconds_total", step="insert") > 0
    # Gone from the registry once the consumer stopped.
    assert registry.get_sample_value("traytic_consumer_events_inserted_total") is None
