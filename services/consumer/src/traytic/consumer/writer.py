"""Insert a batch, rewrite its visits, then ack its messages, then publish it live: in that
order, always.

An insert that fails is retried with backoff until it succeeds (ClickHouse down for a while loses
nothing); the messages' ack deadline is extended meanwhile. Any batch that may already be partly
stored (a redelivered message, or an earlier attempt that failed after the engine took it) is
first checked against the warehouse by event id, so nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
import structlog
from nats.aio.msg import Msg

from traytic.consumer.stats import ConsumerStats
from traytic.core.bus import live_subject
from traytic.core.events import JSON_ENCODER, LiveBatch, LiveEvent
from traytic.warehouse import EventRow, Warehouse, WarehouseError

log = structlog.get_logger()

KEEPALIVE_EVERY_S = 15.0
REJECTIONS_BEFORE_DEAD_LETTER = 5


class WriteJob(msgspec.Struct):
    rows: list[EventRow]
    messages: list[Msg]
    suspect_ids: set[int]
    """Event ids from messages delivered before: maybe stored already."""
    sessions: dict[tuple[str, int], int] = {}
    """The visits the batch touched, (site id, session id) → start: their rows are rewritten
    after the insert, also when every event turned out to be stored already."""


def merge_jobs(first: WriteJob, second: WriteJob) -> WriteJob:
    return WriteJob(
        [*first.rows, *second.rows],
        [*first.messages, *second.messages],
        first.suspect_ids | second.suspect_ids,
        {**first.sessions, **second.sessions},
    )


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


class BatchWriter:
    def __init__(
        self,
        warehouse: Warehouse,
        stats: ConsumerStats,
        *,
        publish_live: Callable[[str, bytes], Any] | None,
        dead_letter: Callable[[Msg, str], Awaitable[None]],
        namespace: str,
        retry_max_s: float = 30.0,
        session_lookback_s: int = 1800,
    ) -> None:
        self._warehouse = warehouse
        self._stats = stats
        self._publish_live = publish_live
        self._dead_letter = dead_letter
        self._namespace = namespace
        self._retry_max_s = retry_max_s
        self._session_lookback_s = session_lookback_s

    async def write(self, job: WriteJob) -> None:
        rows = job.rows
        # The rows this write inserted, once it has: a failed session refresh retries alone.
        stored: list[EventRow] | None = None
        suspect = set(job.suspect_ids)
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
                        self._stats.inserted(len(rows), time.perf_counter() - started)
                    stored = rows
                if job.sessions:
                    started = time.perf_counter()
                    await self._warehouse.refresh_sessions(
                        job.sessions, lookback_s=self._session_lookback_s
                    )
                    self._stats.seconds["sessions_refresh"] += time.perf_counter() - started
                break
            except WarehouseError as exc:
                # The engine rejected the data itself: retrying the same rows cannot help, and
                # blocking here would stop ingest for every site. Should not happen (we build
                # the rows); after a few tries the messages go to the dead-letter stream, whole.
                rejections += 1
                log.error("insert_rejected", error=exc.message, rows=len(rows))
                if rejections >= REJECTIONS_BEFORE_DEAD_LETTER:
                    for message in job.messages:
                        await self._dead_letter(message, f"insert rejected: {exc.message}")
                    self._stats.dead_lettered += len(job.messages)
                    return
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
            self._stats.insert_retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max_s)
            if time.monotonic() - last_keepalive >= KEEPALIVE_EVERY_S:
                await _keep_alive(job.messages)
                last_keepalive = time.monotonic()

        assert stored is not None
        self._stats.events_inserted += len(stored)
        self._stats.batches_inserted += 1
        await asyncio.gather(*(_ack(message) for message in job.messages))
        if self._publish_live is not None and stored:
            await self._fan_out(stored)

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
            self._stats.duplicates_skipped += len(stored)
            log.info("duplicates_skipped", events=len(stored))
        return [row for row in rows if row.event_id not in stored]

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
