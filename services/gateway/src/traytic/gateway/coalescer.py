"""Coalesced, acknowledged publishing: concurrent requests share one JetStream message.

A request's beacon joins the open batch; the batch is published on the next event-loop tick (or
as soon as it holds `max_beacons` or `max_bytes`), and every request in it awaits that one ack.
So each 204 still means "durably in JetStream", while the NATS client does one round trip per
batch instead of one per request (the client, not the server, limits awaited publishes to
~10k/s). Several batches may be in flight at once, up to `max_inflight`.

A beacon the bus cannot encode (validation should have refused it first) is left out of its
message alone: the batch's future resolves to the set of such beacons, so only their requests
fail, and every other beacon in the batch is still published once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from traytic.core.errors import ServiceUnavailable
from traytic.core.events import IngestBatch, ReceivedBeacon, encode_batch
from traytic.core.ids import MessageIds
from traytic.gateway.metrics import PublishMetrics

log = structlog.get_logger()

PublishFn = Callable[[bytes, str], Awaitable[object]]
"""`publish(payload, msg_id)`: resolves once JetStream acked, raises otherwise."""


NONE_REFUSED: frozenset[int] = frozenset()
"""What a batch's future resolves to when every beacon in it was published."""


class _OpenBatch:
    # A future per beacon, not one shared: a request cancelled while it waits (its client hung
    # up) cancels the future it awaits, which must not answer the others of its batch.
    __slots__ = ("beacons", "handle", "size", "waiters")

    def __init__(self) -> None:
        self.beacons: list[ReceivedBeacon] = []
        self.waiters: list[asyncio.Future[frozenset[int]]] = []
        self.size = 0
        self.handle: asyncio.Handle | None = None

    def resolve(self, refused: frozenset[int]) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(refused)

    def fail(self, error: Exception) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_exception(error)


class Coalescer:
    def __init__(
        self,
        publish: PublishFn,
        *,
        max_beacons: int = 256,
        max_bytes: int = 512 * 1024,
        max_inflight: int = 64,
    ) -> None:
        self._publish = publish
        self._max_beacons = max_beacons
        self._max_bytes = max_bytes
        self._inflight = asyncio.Semaphore(max_inflight)
        self._ids = MessageIds()
        self._open: _OpenBatch | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches_published = 0
        self.beacons_published = 0
        self.metrics = PublishMetrics()

    def submit(self, beacon: ReceivedBeacon, size: int) -> asyncio.Future[frozenset[int]]:
        """Add a beacon to the open batch; the future resolves when its batch is acked, to the
        `id()`s of the beacons left out because they could not be encoded (almost always none)."""
        loop = asyncio.get_running_loop()
        batch = self._open
        if batch is None:
            batch = self._open = _OpenBatch()
            batch.handle = loop.call_soon(self._flush_open)
        waiter: asyncio.Future[frozenset[int]] = loop.create_future()
        batch.beacons.append(beacon)
        batch.waiters.append(waiter)
        batch.size += size
        if len(batch.beacons) >= self._max_beacons or batch.size >= self._max_bytes:
            self._flush_open()
        return waiter

    def _flush_open(self) -> None:
        batch, self._open = self._open, None
        if batch is None:
            return
        if batch.handle is not None:
            batch.handle.cancel()
        task = asyncio.create_task(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: _OpenBatch) -> None:
        msg_id = self._ids.next()
        refused = NONE_REFUSED
        try:
            payload = encode_batch(IngestBatch(msg_id, batch.beacons))
        except (TypeError, ValueError, OverflowError) as exc:
            payload, refused = _encode_without_unencodable(msg_id, batch.beacons)
            log.warning("beacon_unencodable", error=type(exc).__name__, beacons=len(refused))
        if len(refused) == len(batch.beacons):
            batch.resolve(refused)
            return
        try:
            async with self._inflight:
                started = time.perf_counter()
                await self._publish(payload, msg_id)
                elapsed = time.perf_counter() - started
        except Exception as exc:  # every failure is the same to the waiting requests: 503
            self.metrics.failed()
            log.warning(
                "publish_failed",
                error=type(exc).__name__,
                detail=str(exc),
                beacons=len(batch.beacons),
            )
            batch.fail(ServiceUnavailable("event stream unavailable"))
            return
        published = len(batch.beacons) - len(refused)
        self.batches_published += 1
        self.beacons_published += published
        self.metrics.published(published, elapsed)
        batch.resolve(refused)

    async def drain(self) -> None:
        """Publish what is open and wait for every batch in flight (graceful shutdown)."""
        self._flush_open()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _encode_without_unencodable(
    msg_id: str, beacons: list[ReceivedBeacon]
) -> tuple[bytes, frozenset[int]]:
    """The batch's message without the beacons that alone fail to encode, and their `id()`s."""
    kept: list[ReceivedBeacon] = []
    refused: set[int] = set()
    for beacon in beacons:
        try:
            encode_batch(IngestBatch(msg_id, [beacon]))
        except (TypeError, ValueError, OverflowError):
            refused.add(id(beacon))
        else:
            kept.append(beacon)
    return encode_batch(IngestBatch(msg_id, kept)), frozenset(refused)
