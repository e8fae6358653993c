"""The consumer: fetch → decode → batch → identify → rows → write (insert, ack, live).

Each step is its own module; this one wires them. One task pulls, decodes, batches, identifies
and builds rows; a second writes. The queue between them holds two batches, so the next batches
are prepared while the previous one is written (those waiting then go out together), and a slow
or absent ClickHouse stops the pulling (backpressure) instead of filling memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Sequence

import nats.errors
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from traytic.consumer.batcher import Batcher
from traytic.consumer.dead_letter import DeadLetter
from traytic.consumer.decode import Decoder
from traytic.consumer.enricher import Enricher
from traytic.consumer.identify import Identifier, humans
from traytic.consumer.kv_writes import KvWriter
from traytic.consumer.metrics import ConsumerMetrics
from traytic.consumer.rows import build_rows
from traytic.consumer.salts import SALT_TTL_S, DailySalts
from traytic.consumer.sessions import SessionTracker
from traytic.consumer.settings import ConsumerSettings
from traytic.consumer.shared import SharedVisits
from traytic.consumer.visits import VisitMemory
from traytic.consumer.writer import WriteJob, Writer, merge_jobs, suspect_event_ids
from traytic.core import bus
from traytic.core.clock import Clock, SystemClock
from traytic.core.events import IngestBatch
from traytic.core.periodic import every
from traytic.warehouse import Warehouse

log = structlog.get_logger()

SESSION_BUCKET_TTL_S = 2 * 3600
SHARED_SUFFIX = "_shared"
"""The bucket of shared-visit marks is the sessions bucket's name and this."""
WRITE_QUEUE = 2
"""Prepared batches waiting for the writer: bounds memory and is the backpressure on pulling."""
FETCH_RETRY_S = 0.5

Item = tuple[Msg, IngestBatch]


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
        self._settings = settings
        self._bus = bus_settings
        self._names = bus.names(bus_settings.namespace)
        self._clock = clock or SystemClock()
        self.enricher = enricher or Enricher(settings.geoip_path)
        self.metrics = ConsumerMetrics()
        self.task: asyncio.Task[None] | None = None
        """The task running `run()`, when `running_consumer` started it."""
        self._stopping = asyncio.Event()
        self._queue: asyncio.Queue[WriteJob | None] = asyncio.Queue(maxsize=WRITE_QUEUE)
        self._identifier: Identifier | None = None
        dead_letter = DeadLetter(
            lambda subject, data, headers: self._js.publish(subject, data, headers=headers),
            self._names.dead_letter_subject,
            self.metrics,
        )
        self._decoder = Decoder(dead_letter, max_deliveries=settings.decode_max_deliveries)
        self._shared: SharedVisits | None = None
        self._kv_writer: KvWriter | None = None
        self.writer = Writer(
            warehouse,
            self.metrics,
            dead_letter,
            publish_live=nc.publish if settings.live_events else None,
            namespace=bus_settings.namespace,
            retry_max_s=settings.insert_retry_max_s,
            session_lookback_s=settings.session_timeout_s,
            visits=VisitMemory(),
        )

    async def setup(self) -> None:
        """Declare what the consumer needs; safe for every replica at every start."""
        await bus.ensure_stream(self._js, self._bus)
        await bus.ensure_dead_letter_stream(self._js, self._bus)
        salts = await bus.ensure_bucket(
            self._js, self._names.salts_bucket, replicas=self._bus.kv_replicas, ttl_s=SALT_TTL_S
        )
        ttl_s = max(SESSION_BUCKET_TTL_S, 2 * self._settings.session_timeout_s)
        sessions = await bus.ensure_bucket(
            self._js, self._names.sessions_bucket, replicas=self._bus.kv_replicas, ttl_s=ttl_s
        )
        marks_bucket = self._names.sessions_bucket + SHARED_SUFFIX
        marks = await bus.ensure_bucket(
            self._js, marks_bucket, replicas=self._bus.kv_replicas, ttl_s=ttl_s
        )
        if self._kv_writer is not None:
            await self._kv_writer.stop()
        self._kv_writer = KvWriter(self._nc, self._names.sessions_bucket)
        tracker = SessionTracker(
            sessions,
            timeout_s=self._settings.session_timeout_s,
            write_interval_s=self._settings.session_write_interval_s,
            writer=self._kv_writer,
        )
        if self._shared is not None:
            await self._shared.stop()
        self._shared = SharedVisits(self._js, marks, marks_bucket)
        await self._shared.start()
        self.writer.shared = self._shared
        self._identifier = Identifier(
            DailySalts(salts),
            tracker,
            self.metrics,
            timeout_s=self._settings.session_timeout_s,
            shared=self._shared,
        )

    def stop(self) -> None:
        self._stopping.set()

    @contextlib.contextmanager
    def _timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.metrics.seconds[step] += time.perf_counter() - started

    async def run(self) -> None:
        """Consume until `stop()`; then finish the batch in hand (insert and ack) and return."""
        if self._identifier is None:
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
        poller = asyncio.create_task(
            every(
                self._settings.pending_poll_s,
                self._stopping,
                self._poll_pending,
                failure="consumer_info_failed",
            ),
            name="consumer-pending",
        )
        log.info("consumer_started", consumer=self._settings.consumer_name)
        batcher: Batcher[Item] = Batcher(
            self._clock,
            max_events=self._settings.batch_max_events,
            max_wait_s=self._settings.batch_max_wait_s,
            idle_s=self._settings.batch_idle_s,
        )
        try:
            while not self._stopping.is_set():
                _raise_if_done(writer)
                with self._timed("fetch"):
                    messages = await self._fetch(subscription, batcher.fetch_timeout())
                with self._timed("decode"):
                    for message in messages:
                        batch = await self._decoder.decode(message)
                        if batch is not None:
                            batcher.add((message, batch), sum(len(b.events) for b in batch.beacons))
                if batcher.ready(fetched=bool(messages)):
                    await self._hand_over(batcher.take(), writer)
            if len(batcher):
                await self._hand_over(batcher.take(), writer)
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            if not writer.done():
                await self._put(None, writer)  # the writer finishes what is queued, then ends
            await writer  # re-raises what killed the writer, if anything did
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
            if self._shared is not None:
                with contextlib.suppress(Exception):
                    await self._shared.stop()
            if self._kv_writer is not None:
                with contextlib.suppress(Exception):
                    await self._kv_writer.stop()
            log.info(
                "consumer_stopped",
                inserted=self.metrics.events_inserted,
                inserts=self.metrics.batches_inserted,
                dropped=dict(self.metrics.dropped),
                visits=dict(self.metrics.visits_written),
                seconds={k: round(v, 3) for k, v in self.metrics.seconds.items()},
            )

    async def _fetch(
        self, subscription: JetStreamContext.PullSubscription, timeout: float
    ) -> list[Msg]:
        try:
            return await subscription.fetch(self._settings.fetch_size, timeout=timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            return []
        except (nats.errors.ConnectionClosedError, nats.errors.Error) as exc:
            log.warning("fetch_failed", error=type(exc).__name__)
            await asyncio.sleep(FETCH_RETRY_S)
            return []

    async def _hand_over(self, items: Sequence[Item], writer: asyncio.Task[None]) -> None:
        with self._timed("enrich"):
            job = await self.prepare(items)
        with self._timed("backpressure"):
            await self._put(job, writer)

    async def _put(self, job: WriteJob | None, writer: asyncio.Task[None]) -> None:
        """Queue `job` for the writer, or raise what killed the writer: with nobody to take
        it, the queue would fill and the consumer would wait forever doing nothing."""
        put = asyncio.ensure_future(self._queue.put(job))
        try:
            await asyncio.wait({put, writer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            put.cancel()
        if put.cancelled():
            _raise_if_done(writer)

    async def prepare(self, items: Sequence[Item]) -> WriteJob:
        """The write of a batch of messages: its people identified, their rows built."""
        assert self._identifier is not None, "setup() first"
        beacons = humans(
            [batch for _, batch in items], self.enricher.bot_reason, self.metrics.dropped
        )
        identified = await self._identifier.identify(beacons)
        with self._timed("rows"):
            built = build_rows(identified, self.enricher)
        return WriteJob(
            built.rows,
            [message for message, _ in items],
            suspect_event_ids(items),
            built.visits,
            built.owned,
            built.new,
        )

    async def _poll_pending(self) -> None:
        # A timer rather than on scrape: a burst of scrapes costs JetStream nothing.
        info = await self._js.consumer_info(
            self._names.stream, self._settings.consumer_name, timeout=2.0
        )
        self.metrics.pending_messages = info.num_pending
        self.metrics.ack_pending_messages = info.num_ack_pending

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


def _raise_if_done(writer: asyncio.Task[None]) -> None:
    """The writer ends only when told to (`None` queued): before that, its end is a failure."""
    if writer.done():
        writer.result()
        raise RuntimeError("the consumer's writer stopped")
