"""Consumer fixtures: consumers on a fresh NATS namespace, writing to each warehouse engine."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence

import pytest
from nats.aio.client import Client as NatsClient

from tests.data import MAXMIND
from traytic.consumer.enricher import Enricher
from traytic.consumer.pipeline import Consumer
from traytic.consumer.settings import ConsumerSettings
from traytic.core import bus
from traytic.core.events import Event, IngestBatch, ReceivedBeacon, encode_batch
from traytic.core.ids import MessageIds
from traytic.warehouse import Warehouse

CITY_DB = MAXMIND / "GeoIP2-City-Test.mmdb"

CHROME_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
SAFARI_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
EDGE_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"

TEST_SETTINGS = ConsumerSettings(
    batch_max_wait_s=0.2, ack_wait_s=2.0, geoip_path=str(CITY_DB), insert_retry_max_s=1.0
)


class Publisher:
    """Puts batches on the namespace's stream, as the gateway would."""

    def __init__(self, nc: NatsClient, settings: bus.BusSettings) -> None:
        self._js = nc.jetstream()
        self._subject = bus.names(settings.namespace).events_subject
        self._ids = MessageIds()
        self.event_count = 0

    async def publish(self, beacons: Sequence[ReceivedBeacon]) -> IngestBatch:
        batch = IngestBatch(self._ids.next(), list(beacons))
        await bus.publish_with_id(self._js, self._subject, encode_batch(batch), batch.batch_id)
        self.event_count += sum(len(b.events) for b in beacons)
        return batch


def beacon(
    events: Sequence[Event],
    *,
    site_id: str = "st_test",
    ip: str = "81.2.69.142",
    ua: str = CHROME_WINDOWS,
    at: float | None = None,
    language: str = "en-GB,en;q=0.9",
    screen: int | None = 1440,
) -> ReceivedBeacon:
    return ReceivedBeacon(
        site_id, at if at is not None else time.time(), ip, ua, language, screen, list(events)
    )


class Harness:
    def __init__(self, nc: NatsClient, bus_settings: bus.BusSettings, warehouse: Warehouse) -> None:
        self.nc = nc
        self.bus_settings = bus_settings
        self.warehouse = warehouse
        self.publisher = Publisher(nc, bus_settings)
        self.running: list[tuple[Consumer, asyncio.Task[None], NatsClient]] = []
        self._enricher: Enricher | None = None

    async def start_consumer(self, settings: ConsumerSettings = TEST_SETTINGS) -> Consumer:
        if self._enricher is None:  # parsers and caches are costly: shared by the replicas
            self._enricher = Enricher(settings.geoip_path)
        nc = await bus.connect(self.bus_settings, name="test-consumer")
        consumer = Consumer(
            nc, self.warehouse, settings, self.bus_settings, enricher=self._enricher
        )
        await consumer.setup()
        task = asyncio.create_task(consumer.run())
        self.running.append((consumer, task, nc))
        return consumer

    async def kill(self, consumer: Consumer) -> None:
        """Stop a consumer the hard way: its task cancelled wherever it is, its connection cut."""
        for entry in list(self.running):
            if entry[0] is consumer:
                _, task, nc = entry
                # nats-py's fetch can swallow a cancel that lands as its wait times out (seen
                # with the consumer's short idle waits): cancel again until the task is gone.
                for _ in range(20):
                    task.cancel()
                    done, _pending = await asyncio.wait({task}, timeout=0.5)
                    if done:
                        break
                with contextlib.suppress(BaseException):
                    await task
                await nc.close()
                self.running.remove(entry)

    async def halt(self, consumer: Consumer) -> None:
        """Stop a consumer and wait until its run has ended (its batch in hand finished, its
        subscriptions ended), keeping its connection, so that a test may go on using its parts
        without the run's ending pulling them away mid-call."""
        for running, task, _nc in self.running:
            if running is consumer:
                consumer.stop()
                await asyncio.wait_for(task, 30)

    async def stop_all(self) -> None:
        for consumer, task, nc in self.running:
            consumer.stop()
            await asyncio.wait_for(task, 30)
            await nc.close()
        self.running.clear()

    async def count(self) -> tuple[int, int]:
        [row] = await self.warehouse.query(
            "SELECT count() AS n, uniqExact(event_id) AS u FROM events"
        )
        return int(row["n"]), int(row["u"])

    async def wait_for_rows(
        self, expected: int, timeout: float = 30.0, settle: float = 0.0
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            total, _ = await self.count()
            if total >= expected:
                await asyncio.sleep(settle)  # time for a late duplicate to show itself
                return
            await asyncio.sleep(0.1)
        total, _ = await self.count()
        raise AssertionError(f"{total} rows after {timeout}s, expected {expected}")

    async def rows(self, where: str = "1") -> list[dict[str, object]]:
        return await self.warehouse.query(
            f"SELECT * FROM events WHERE {where} ORDER BY ts, event_id"
        )


@pytest.fixture
async def harness(
    nats_server: object, bus_settings: bus.BusSettings, warehouse: Warehouse
) -> AsyncIterator[Harness]:
    nc = await bus.connect(bus_settings, name="test-harness")
    await bus.ensure_stream(nc.jetstream(), bus_settings)
    h = Harness(nc, bus_settings, warehouse)
    try:
        yield h
    finally:
        await h.stop_all()
        await nc.close()
