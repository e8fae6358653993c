"""Write: insert a batch's rows, rewrite its visits, then ack its messages, then publish it live:
in that order, always.

A visit this replica alone writes gets its row from memory (`visits.py`, after a `fence` on the
shared marks); every other one is recomputed from its stored events.

An insert that fails is retried with backoff until it succeeds (ClickHouse down for a while loses
nothing); the messages' ack deadline is extended meanwhile. Any batch that may already be partly
stored (a redelivered message, or an earlier attempt that failed after the engine took it) is
first checked against the warehouse by event id, so nothing is counted twice. A batch the engine
keeps rejecting is given up to the dead-letter step, whole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import NamedTuple

import msgspec
import structlog
from nats.aio.msg import Msg

from traytic.consumer.dead_letter import DeadLetter
from traytic.consumer.enrich.visitor import event_id
from traytic.consumer.metrics import ConsumerMetrics
from traytic.consumer.shared import SharedVisits
from traytic.consumer.visits import VisitKey, VisitMemory
from traytic.core.bus import live_subject
from traytic.core.events import JSON_ENCODER, IngestBatch, LiveBatch, LiveEvent
from traytic.warehouse import EventRow, Warehouse, WarehouseError
from traytic.warehouse.sessions import SessionRow

log = structlog.get_logger()

KEEPALIVE_EVERY_S = 15.0
REJECTIONS_BEFORE_DEAD_LETTER = 5

PublishLive = Callable[[str, bytes], Awaitable[object]]


class WriteJob(msgspec.Struct):
    rows: list[EventRow]
    messages: list[Msg]
    suspect_ids: set[int]
    """Event ids from messages delivered before: maybe stored already."""
    sessions: dict[VisitKey, int] = {}
    """The visits the batch touched, (site id, session id) → start: their rows are rewritten
    after the insert, also when every event turned out to be stored already."""
    owned: set[VisitKey] = set()
    """Those this replica owns: written from memory unless something casts doubt."""
    new: set[VisitKey] = set()
    """Those that started in this batch."""


def merge_jobs(first: WriteJob, second: WriteJob) -> WriteJob:
    # A visit stays owned only if every job that touched it owned it.
    not_owned = (first.sessions.keys() - first.owned) | (second.sessions.keys() - second.owned)
    return WriteJob(
        [*first.rows, *second.rows],
        [*first.messages, *second.messages],
        first.suspect_ids | second.suspect_ids,
        {**first.sessions, **second.sessions},
        (first.owned | second.owned) - not_owned,
        first.new | second.new,
    )


def suspect_event_ids(items: Iterable[tuple[Msg, IngestBatch]]) -> set[int]:
    """Ids of events in messages delivered before: an earlier delivery may have stored them."""
    return {
        event_id(batch.batch_id, beacon_index, event_index)
        for message, batch in items
        if message.metadata.num_delivered > 1
        for beacon_index, beacon in enumerate(batch.beacons)
        for event_index in range(len(beacon.events))
    }


def to_live(row: EventRow) -> LiveEvent:
    return LiveEvent(
        ts=row.ts,
        type=row.type,
        name=row.name,
        hostname=row.hostname,
        pathname=row.pathname,
        referrer_source=row.referrer_source,
        channel=row.channel,
        country=row.country,
        city=row.city,
        browser=row.browser,
        os=row.os,
        device=row.device,
        visitor_id=f"{row.visitor_id:016x}",
        value=row.value,
    )


class _VisitWrite(NamedTuple):
    rows: list[SessionRow]
    """Visits written from memory."""
    refresh: dict[VisitKey, int]
    """Visits recomputed from their stored events."""


class Writer:
    def __init__(
        self,
        warehouse: Warehouse,
        metrics: ConsumerMetrics,
        dead_letter: DeadLetter,
        *,
        publish_live: PublishLive | None,
        namespace: str,
        retry_max_s: float = 30.0,
        session_lookback_s: int = 1800,
        visits: VisitMemory | None = None,
        shared: SharedVisits | None = None,
    ) -> None:
        self._warehouse = warehouse
        self._visits = visits
        self.shared = shared
        """Set once the marks bucket exists (`Consumer.setup`); without it, no visit is written
        from memory."""
        self._metrics = metrics
        self._dead_letter = dead_letter
        self._publish_live = publish_live
        self._namespace = namespace
        self._retry_max_s = retry_max_s
        self._session_lookback_s = session_lookback_s

    async def write(self, job: WriteJob) -> None:
        stored = await self._store(job)
        if stored is None:  # given up: the messages are in the dead-letter stream, acked
            return
        self._metrics.events_inserted += len(stored)
        self._metrics.batches_inserted += 1
        await asyncio.gather(*(_ack(message) for message in job.messages))
        if self._publish_live is not None and stored:
            await self._fan_out(stored)

    async def _store(self, job: WriteJob) -> list[EventRow] | None:
        """Insert what is not stored yet and rewrite the visits; returns the rows inserted, or
        None when the engine kept rejecting the batch and it was given up."""
        rows = job.rows
        # The rows this write inserted, once it has: a failed visits write retries alone.
        stored: list[EventRow] | None = None
        suspect = set(job.suspect_ids)
        doubtful = bool(suspect)
        visits: _VisitWrite | None = None
        delay = 0.2
        rejections = 0
        last_keepalive = time.monotonic()
        while True:
            try:
                if stored is None:
                    if suspect:
                        rows = await self._without_stored(rows, suspect)
                    if rows:
                        started = time.perf_counter()
                        await self._warehouse.insert_events(rows)
                        self._metrics.inserted(len(rows), time.perf_counter() - started)
                    stored = rows
                if visits is None:
                    visits = await self._plan_visits(job, suspect if doubtful else set())
                started = time.perf_counter()
                if visits.rows:
                    await self._warehouse.insert_sessions(visits.rows)
                if visits.refresh:
                    await self._warehouse.refresh_sessions(
                        visits.refresh, lookback_s=self._session_lookback_s
                    )
                self._metrics.seconds["sessions_refresh"] += time.perf_counter() - started
                self._metrics.visits_written["memory"] += len(visits.rows)
                self._metrics.visits_written["recomputed"] += len(visits.refresh)
                return stored
            except WarehouseError as exc:
                # The engine rejected the data itself: retrying the same rows cannot help, and
                # blocking here would stop ingest for every site. Should not happen (we build
                # the rows); after a few tries the messages go to the dead-letter stream, whole.
                rejections += 1
                log.error("insert_rejected", error=exc.message, rows=len(rows))
                if rejections >= REJECTIONS_BEFORE_DEAD_LETTER:
                    for message in job.messages:
                        await self._dead_letter.give_up(message, f"insert rejected: {exc.message}")
                    return None
            except Exception as exc:
                log.warning(
                    "insert_failed_retrying",
                    error=type(exc).__name__,
                    detail=str(exc)[:200],
                    delay_s=round(delay, 1),
                )
            if stored is None:
                # The failed attempt may have landed in part: check before trying again.
                suspect = {row.event_id for row in rows}
                doubtful = True
            self._metrics.insert_retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max_s)
            if time.monotonic() - last_keepalive >= KEEPALIVE_EVERY_S:
                await _keep_alive(job.messages)
                last_keepalive = time.monotonic()

    async def _plan_visits(self, job: WriteJob, doubtful_ids: set[int]) -> _VisitWrite:
        """Once the rows are stored: the visits written from memory and those recomputed.

        From memory: owned, none of its events in doubt (maybe stored before), known to memory
        since its start (or started here), and not marked shared by another replica."""
        memory = self._visits
        if memory is None or not job.owned:
            return _VisitWrite([], dict(job.sessions))
        doubtful = (
            {(row.site_id, row.session_id) for row in job.rows if row.event_id in doubtful_ids}
            if doubtful_ids
            else set()
        )
        fast = {
            key
            for key in job.owned - doubtful
            if (key in job.new) != (key in memory)  # started here, or remembered since
        }
        if fast:
            if self.shared is not None and await self.shared.fence():
                fast = {key for key in fast if key not in self.shared}
            else:
                fast = set()
        by_visit: dict[VisitKey, list[EventRow]] = {key: [] for key in fast}
        for row in job.rows:
            visit_rows = by_visit.get((row.site_id, row.session_id))
            if visit_rows is not None:
                visit_rows.append(row)
        rows: list[SessionRow] = []
        refresh = {}
        for key, started in job.sessions.items():
            if key in by_visit:
                session = memory.apply(key, started, by_visit[key], new=key in job.new)
                if session is not None:
                    rows.append(session)
            else:
                memory.forget(key)  # recomputed from now on: memory no longer has all of it
                refresh[key] = started
        return _VisitWrite(rows, refresh)

    async def _without_stored(self, rows: list[EventRow], suspect: set[int]) -> list[EventRow]:
        candidates = [row for row in rows if row.event_id in suspect]
        if not candidates:
            return rows
        stored = await self._warehouse.existing_event_ids(
            {row.site_id for row in candidates},
            min(row.ts for row in candidates),
            max(row.ts for row in candidates),
            [row.event_id for row in candidates],
        )
        if stored:
            self._metrics.duplicates_skipped += len(stored)
            log.info("duplicates_skipped", events=len(stored))
        # A message redelivered while its first delivery still waited here (merged into the
        # same write) is in the batch twice: insert its rows once.
        kept = []
        for row in rows:
            if row.event_id in suspect:
                if row.event_id in stored:
                    continue
                stored.add(row.event_id)
            kept.append(row)
        return kept

    async def _fan_out(self, rows: Sequence[EventRow]) -> None:
        by_site: dict[str, list[LiveEvent]] = {}
        for row in rows:
            by_site.setdefault(row.site_id, []).append(to_live(row))
        assert self._publish_live is not None
        for site_id, events in by_site.items():
            payload = JSON_ENCODER.encode(LiveBatch(site_id, events))
            try:
                await self._publish_live(live_subject(self._namespace, site_id), payload)
            except Exception as exc:  # live is best effort: the rows are stored and acked
                log.warning("live_publish_failed", error=type(exc).__name__)


async def _ack(message: Msg) -> None:
    try:
        await message.ack()
    except Exception as exc:  # an ack lost now means a redelivery, which the dedupe absorbs
        log.warning("ack_failed", error=type(exc).__name__)


async def _keep_alive(messages: Sequence[Msg]) -> None:
    for message in messages:
        try:
            await message.in_progress()
        except Exception:
            return  # disconnected: the messages will be redelivered and deduplicated
