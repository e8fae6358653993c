"""The consumer loop: fetch → decode → enrich → batch (size or time) → write → ack → live.

One task pulls and enriches; a second writes. The queue between them holds two batches, so
the next batches are enriched while the previous one is written (those waiting then go out
together), and a slow or absent ClickHouse stops the pulling (backpressure) instead of filling
memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

import nats.errors
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from traytic.consumer.enrich.visitor import event_id, visitor_id
from traytic.consumer.enricher import Enricher
from traytic.consumer.salts import SALT_TTL_S, DailySalts, utc_day
from traytic.consumer.sessions import SessionTracker, Visit
from traytic.consumer.settings import ConsumerSettings
from traytic.consumer.stats import ConsumerStats
from traytic.consumer.writer import BatchWriter, WriteJob, merge_jobs
from traytic.core import bus
from traytic.core.clock import Clock, SystemClock
from traytic.core.events import IngestBatch, decode_batch
from traytic.warehouse import EventRow, Warehouse

log = structlog.get_logger()

SESSION_BUCKET_TTL_S = 2 * 3600
PRUNE_EVERY_S = 3600
WRITE_QUEUE = 2
"""Enriched batches waiting for the writer: bounds memory and is the backpressure on pulling."""


class _Pending:
    def __init__(self) -> None:
        self.items: list[tuple[Msg, IngestBatch]] = []
        self.events = 0
        self.started = 0.0


class Consumer:
    def __init__(
        self,
        nc: NatsClient,
        warehouse: Warehouse,
        settings: ConsumerSettings,
        bus_settings: bus.BusSettings,
        *,
        clock: Clock | None = None,
        enricher: Enricher | None = None,
    ) -> None:
        self._nc = nc
        self._js: JetStreamContext = nc.jetstream()
        self._warehouse = warehouse
        self._settings = settings
        self._bus = bus_settings
        self._names = bus.names(bus_settings.namespace)
        self._clock = clock or SystemClock()
        self.enricher = enricher or Enricher(settings.geoip_path)
        self.stats = ConsumerStats()
        self._stopping = asyncio.Event()
        self._queue: asyncio.Queue[WriteJob | None] = asyncio.Queue(maxsize=WRITE_QUEUE)
        self._salts: DailySalts | None = None
        self._sessions: SessionTracker | None = None
        self.writer = BatchWriter(
            warehouse,
            self.stats,
            publish_live=self._publish_live if settings.live_events else None,
            dead_letter=self._dead_letter,
            namespace=bus_settings.namespace,
            retry_max_s=settings.insert_retry_max_s,
            session_lookback_s=settings.session_timeout_s,
        )

    async def _publish_live(self, subject: str, payload: bytes) -> None:
        await self._nc.publish(subject, payload)

    async def _dead_letter(self, message: Msg, reason: str) -> None:
        metadata = message.metadata
        headers = {
            "Traytic-Reason": reason[:500],
            "Traytic-Stream-Seq": str(metadata.sequence.stream),
            "Traytic-Deliveries": str(metadata.num_delivered),
        }
        await self._js.publish(self._names.dead_letter_subject, message.data, headers=headers)
        await message.ack()
        log.error("message_dead_lettered", reason=reason, seq=metadata.sequence.stream)

    async def setup(self) -> None:
        """Declare what the consumer needs; safe for every replica at every start."""
        await bus.ensure_stream(self._js, self._bus)
        await bus.ensure_dead_letter_stream(self._js, self._bus)
        salts = await bus.ensure_bucket(
            self._js, self._names.salts_bucket, replicas=self._bus.kv_replicas, ttl_s=SALT_TTL_S
        )
        sessions = await bus.ensure_bucket(
            self._js,
            self._names.sessions_bucket,
            replicas=self._bus.kv_replicas,
            ttl_s=max(SESSION_BUCKET_TTL_S, 2 * self._settings.session_timeout_s),
        )
        self._salts = DailySalts(salts)
        self._sessions = SessionTracker(
            sessions,
            timeout_s=self._settings.session_timeout_s,
            write_interval_s=self._settings.session_write_interval_s,
        )

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Consume until `stop()`; then finish the batch in hand (insert and ack) and return."""
        if self._sessions is None:
            await self.setup()
        subscription = await self._js.pull_subscribe(
            self._names.events_filter,
            durable=self._settings.consumer_name,
            stream=self._names.stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=self._settings.ack_wait_s,
                max_ack_pending=self._settings.max_ack_pending,
                max_deliver=-1,
            ),
        )
        writer = asyncio.create_task(self._write_loop(), name="consumer-writer")
        poller = asyncio.create_task(self._poll_pending(), name="consumer-pending")
        pruner = asyncio.create_task(self._prune_session_events(), name="consumer-prune")
        log.info("consumer_started", consumer=self._settings.consumer_name)
        pending = _Pending()
        try:
            while not self._stopping.is_set():
                wait = self._settings.batch_max_wait_s
                if pending.items:
                    wait = max(0.01, pending.started + wait - self._clock.monotonic())
                    wait = min(wait, self._settings.batch_idle_s)
                fetch_started = time.perf_counter()
                try:
                    messages = await subscription.fetch(self._settings.fetch_size, timeout=wait)
                except (TimeoutError, nats.errors.TimeoutError):
                    messages = []
                except (nats.errors.ConnectionClosedError, nats.errors.Error) as exc:
                    log.warning("fetch_failed", error=type(exc).__name__)
                    await asyncio.sleep(0.5)
                    messages = []
                started = time.perf_counter()
                self.stats.seconds["fetch"] += started - fetch_started
                decoded = [(message, await self._decode(message)) for message in messages]
                self.stats.seconds["decode"] += time.perf_counter() - started
                for message, batch in decoded:
                    if batch is None:
                        continue
                    if not pending.items:
                        pending.started = self._clock.monotonic()
                    pending.items.append((message, batch))
                    pending.events += sum(len(b.events) for b in batch.beacons)
                full = pending.events >= self._settings.batch_max_events
                # Written when old enough, or at once when the stream went quiet: a trickle of
                # beacons reaches the live view in `batch_idle_s`, a busy stream fills batches.
                due = bool(pending.items) and (
                    not messages
                    or self._clock.monotonic() - pending.started >= self._settings.batch_max_wait_s
                )
                if full or due:
                    started = time.perf_counter()
                    job = await self.process(pending.items)
                    self.stats.seconds["enrich"] += time.perf_counter() - started
                    started = time.perf_counter()
                    await self._queue.put(job)
                    self.stats.seconds["backpressure"] += time.perf_counter() - started
                    pending = _Pending()
            if pending.items:
                await self._queue.put(await self.process(pending.items))
        finally:
            for task in (poller, pruner):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._queue.put(None)
            await writer
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
            log.info(
                "consumer_stopped",
                inserted=self.stats.events_inserted,
                dropped=dict(self.stats.dropped),
                seconds={k: round(v, 3) for k, v in self.stats.seconds.items()},
            )

    async def _poll_pending(self) -> None:
        # A timer rather than on scrape: a burst of scrapes costs JetStream nothing.
        while True:
            try:
                info = await self._js.consumer_info(
                    self._names.stream, self._settings.consumer_name, timeout=2.0
                )
            except Exception as exc:
                log.warning("consumer_info_failed", error=type(exc).__name__)
            else:
                self.stats.pending_messages = info.num_pending
                self.stats.ack_pending_messages = info.num_ack_pending
            await asyncio.sleep(self._settings.pending_poll_s)

    async def _prune_session_events(self) -> None:
        # Every replica prunes: dropping a partition twice is harmless, and none is special.
        while True:
            try:
                dropped = await self._warehouse.prune_session_events()
            except Exception as exc:
                log.warning("session_events_prune_failed", error=type(exc).__name__)
            else:
                if dropped:
                    log.info("session_events_pruned", days=dropped)
            await asyncio.sleep(PRUNE_EVERY_S)

    async def _write_loop(self) -> None:
        stopping = False
        while not stopping and (job := await self._queue.get()) is not None:
            # Jobs that queued up while the last write ran go out as one: one insert and one
            # refresh of their visits (which costs about the same for one job or three).
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                job = merge_jobs(job, more)
            await self.writer.write(job)

    async def _decode(self, message: Msg) -> IngestBatch | None:
        try:
            return decode_batch(message.data)
        except Exception as exc:
            deliveries = message.metadata.num_delivered
            if deliveries >= self._settings.decode_max_deliveries:
                await self._dead_letter(message, f"undecodable: {exc}")
                self.stats.dead_lettered += 1
            else:
                log.warning("message_undecodable", error=str(exc)[:200], deliveries=deliveries)
                await message.nak(delay=1)
            return None

    async def process(self, items: Sequence[tuple[Msg, IngestBatch]]) -> WriteJob:
        """Enrich a batch of messages into rows (salts and sessions from KV)."""
        assert self._salts is not None
        assert self._sessions is not None
        timeout = self._settings.session_timeout_s
        kept: list[tuple[str, int, int]] = []  # (item, beacon) positions of human beacons
        salt_by_day: dict[int, bytes] = {}  # a datetime per beacon costs more than its hash
        visits: list[Visit] = []
        for item_index, (_, batch) in enumerate(items):
            for beacon_index, beacon in enumerate(batch.beacons):
                reason = self.enricher.bot_reason(beacon)
                if reason is not None:
                    self.stats.dropped[reason] += len(beacon.events)
                    continue
                day_number = int(beacon.received_at) // 86_400
                salt = salt_by_day.get(day_number)
                if salt is None:
                    salt = salt_by_day[day_number] = await self._salts.for_day(
                        utc_day(beacon.received_at)
                    )
                visitor = visitor_id(salt, beacon.site_id, beacon.ip, beacon.user_agent)
                ts = int(beacon.received_at)
                previous = None
                if ts % 86_400 < timeout:  # just after midnight: yesterday's session may go on
                    yesterday = await self._salts.for_day(utc_day(beacon.received_at - 86_400))
                    previous = visitor_id(yesterday, beacon.site_id, beacon.ip, beacon.user_agent)
                kept.append((batch.batch_id, item_index, beacon_index))
                visits.append(Visit(beacon.site_id, visitor, ts, previous))
        started = time.perf_counter()
        assigned = await self._sessions.assign(visits)
        self.stats.seconds["sessions"] += time.perf_counter() - started
        started = time.perf_counter()
        rows: list[EventRow] = []
        sessions: dict[tuple[str, int], int] = {}
        for (batch_id, item_index, beacon_index), who in zip(kept, assigned, strict=True):
            beacon = items[item_index][1].beacons[beacon_index]
            sessions[(beacon.site_id, who.session_id)] = who.started_at
            rows.extend(
                self.enricher.rows(batch_id, beacon_index, beacon, who.visitor_id, who.session_id)
            )
        self.stats.seconds["rows"] += time.perf_counter() - started
        suspect = _suspect_event_ids(items)
        return WriteJob(rows, [message for message, _ in items], suspect, sessions)


def _suspect_event_ids(items: Sequence[tuple[Msg, IngestBatch]]) -> set[int]:
    """Ids of events in messages delivered before: an earlier delivery may have stored them."""
    return {
        event_id(batch.batch_id, beacon_index, event_index)
        for message, batch in items
        if message.metadata.num_delivered > 1
        for beacon_index, beacon in enumerate(batch.beacons)
        for event_index in range(len(beacon.events))
    }
