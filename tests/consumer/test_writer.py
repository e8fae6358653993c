"""The write step without ClickHouse or NATS: insert, then the visits, then ack, then live;
retries that lose nothing and store nothing twice; a batch the engine rejects given up once."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tests.consumer.conftest import beacon
from tests.consumer.stand_ins import MemoryWarehouse, RecordingNats, message
from traytic.consumer.dead_letter import DeadLetter
from traytic.consumer.enricher import Enricher
from traytic.consumer.identify import Identified
from traytic.consumer.metrics import ConsumerMetrics
from traytic.consumer.rows import build_rows
from traytic.consumer.writer import (
    REJECTIONS_BEFORE_DEAD_LETTER,
    WriteJob,
    Writer,
    suspect_event_ids,
)
from traytic.core.events import LIVE_DECODER, IngestBatch, Pageview
from traytic.warehouse import WarehouseError, WarehouseUnavailable

NOON = 1_767_268_800


class _World:
    """One log of everything the writer did, in order, across its stand-ins."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self.nats = RecordingNats(self.log)
        self.warehouse = MemoryWarehouse(self.log)
        self.metrics = ConsumerMetrics()
        self.dead: list[str] = []

        async def dead_letter_publish(subject: str, data: bytes, headers: dict[str, str]) -> None:
            self.log.append(("dead_letter", headers["Traytic-Reason"]))
            self.dead.append(headers["Traytic-Reason"])

        async def live(subject: str, payload: bytes) -> None:
            self.log.append(("live", (subject, LIVE_DECODER.decode(payload))))

        self.writer = Writer(
            self.warehouse,  # type: ignore[arg-type]
            self.metrics,
            DeadLetter(dead_letter_publish, "dead", self.metrics),
            publish_live=live,
            namespace="ns",
            retry_max_s=0.01,
        )

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.log]


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def _job(world: _World, enricher: Enricher, *, delivered: int = 1, events: int = 3) -> WriteJob:
    batch = IngestBatch(
        "m1", [beacon([Pageview(url=f"https://example.com/{n}") for n in range(events)], at=NOON)]
    )
    msg = message(world.nats, batch, delivered=delivered)
    built = build_rows([Identified("m1", 0, batch.beacons[0], 5, 6, NOON)], enricher)
    return WriteJob(built.rows, [msg], suspect_event_ids([(msg, batch)]), built.visits)


async def test_insert_then_visits_then_ack_then_live(enricher: Enricher) -> None:
    world = _World()
    job = _job(world, enricher)
    await world.writer.write(job)
    assert world.kinds() == ["insert", "refresh", "publish", "live"]
    assert world.log[1] == ("refresh", {("st_test", 6): NOON})
    assert world.log[2] == ("publish", (job.messages[0].reply, b""))  # the ack
    subject, live = world.log[3][1]
    assert subject.endswith("st_test") and len(live.events) == 3
    assert world.warehouse.rows == job.rows
    assert (world.metrics.events_inserted, world.metrics.batches_inserted) == (3, 1)


async def test_a_failed_insert_is_retried_and_checked_before_the_retry(enricher: Enricher) -> None:
    world = _World()
    world.warehouse.failures = [WarehouseUnavailable("down"), WarehouseUnavailable("down")]
    await world.writer.write(_job(world, enricher))
    # The failed attempts may have landed: the retry asks which rows are stored first.
    assert world.kinds() == ["lookup", "lookup", "insert", "refresh", "publish", "live"]
    assert world.metrics.insert_retries == 2
    assert len(world.warehouse.rows) == 3


async def test_a_redelivery_stores_nothing_twice_and_still_rewrites_its_visit(
    enricher: Enricher,
) -> None:
    world = _World()
    await world.writer.write(_job(world, enricher))  # stored, say, but its ack was lost
    world.log.clear()
    await world.writer.write(_job(world, enricher, delivered=2))
    assert world.kinds() == ["lookup", "refresh", "publish"]  # nothing new: nothing live
    assert len(world.warehouse.rows) == 3
    assert world.metrics.duplicates_skipped == 3


async def test_a_failed_visit_rewrite_retries_alone(enricher: Enricher) -> None:
    world = _World()
    world.warehouse.refresh_failures = [WarehouseUnavailable("down")]
    await world.writer.write(_job(world, enricher))
    assert world.kinds() == ["insert", "refresh", "publish", "live"]
    assert len(world.warehouse.rows) == 3


async def test_a_batch_the_engine_keeps_rejecting_is_dead_lettered_once(enricher: Enricher) -> None:
    world = _World()
    world.warehouse.failures = [WarehouseError("bad row")] * REJECTIONS_BEFORE_DEAD_LETTER
    job = _job(world, enricher)
    await world.writer.write(job)
    assert world.warehouse.rows == []
    assert world.dead == ["insert rejected: bad row"]
    assert world.kinds()[-2:] == ["dead_letter", "publish"]  # copied, then acked
    assert world.metrics.dead_lettered == 1
    assert world.metrics.events_inserted == 0


async def test_only_messages_delivered_before_are_suspect(enricher: Enricher) -> None:
    world = _World()
    batch = IngestBatch("m1", [beacon([Pageview(url="https://example.com/")] * 2)])
    fresh = message(world.nats, batch, delivered=1)
    again = message(world.nats, msgspec.structs.replace(batch, batch_id="m2"), delivered=2)
    assert suspect_event_ids([(fresh, batch)]) == set()
    assert len(suspect_event_ids([(again, msgspec.structs.replace(batch, batch_id="m2"))])) == 2
