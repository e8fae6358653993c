"""This replica's side of the live subject: one NATS subscription per site that has open
streams, fanned out to each stream's queue, and the site's live-visitor window.

Every replica subscribes on its own (a plain subscription, not a queue group), so each one sees
every event of the sites its clients watch. The first stream of a site subscribes, the last one
to close unsubscribes; nothing is kept for a site nobody watches.

Live visitors are counted here, from the same subscription: the distinct `visitorId`s seen in
the last five minutes. A replica only sees what arrives while it listens, so when a site's first
stream opens here its window is seeded from the warehouse (the visitors of the last five minutes
and when each was last seen), merged with what the subscription saw meanwhile. Should the
warehouse fail, the count grows from the live sightings alone, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import msgspec
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from traytic.core import bus
from traytic.core.errors import RateLimited
from traytic.core.events import LIVE_DECODER, LiveEvent, StreamEvent

log = structlog.get_logger()

LIVE_WINDOW_S = 300.0

SEED_TIMEOUT_S = 3.0
"""How long a site's first stream here waits for its visitors from the warehouse before it
counts without them (they still merge when they arrive)."""

RecentVisitors = Callable[[str], Awaitable[Mapping[str, int]]]
"""A site's visitors of the last five minutes from the warehouse: `visitorId` → last seen, unix
seconds (`traytic.warehouse.stats.Stats.recent_visitors`)."""


_ENCODER = msgspec.json.Encoder()


def encode_for_stream(event: LiveEvent) -> bytes:
    return _ENCODER.encode(msgspec.convert(event, StreamEvent, from_attributes=True))


class VisitorWindow:
    """Distinct visitors seen in the last `window_s` seconds (last sighting per visitor)."""

    def __init__(self, clock: Callable[[], float], window_s: float = LIVE_WINDOW_S) -> None:
        self._clock = clock
        self._window_s = window_s
        self._seen: OrderedDict[str, float] = OrderedDict()

    def see(self, visitor_id: str) -> None:
        self._seen[visitor_id] = self._clock()
        self._seen.move_to_end(visitor_id)

    def merge(self, sightings: Mapping[str, float]) -> None:
        """Add sightings made elsewhere (on the window's clock): a visitor already seen keeps
        its latest sighting, and the order stays oldest first, so each ages out on time."""
        now = self._clock()
        merged = {visitor: min(seen_at, now) for visitor, seen_at in sightings.items()}
        for visitor, seen_at in self._seen.items():
            if seen_at >= merged.get(visitor, seen_at):
                merged[visitor] = seen_at
        self._seen = OrderedDict(sorted(merged.items(), key=lambda item: item[1]))

    def count(self) -> int:
        cutoff = self._clock() - self._window_s
        while self._seen:
            visitor, seen_at = next(iter(self._seen.items()))
            if seen_at > cutoff:
                break
            del self._seen[visitor]
        return len(self._seen)


class Listener:
    """One stream's view of its site: encoded events to send, and the visitor count."""

    def __init__(self, feed: _SiteFeed, queue_size: int) -> None:
        self._feed = feed
        self.queue: deque[bytes] = deque(maxlen=queue_size)
        self.ready = asyncio.Event()
        self.closed = False

    def push(self, encoded: list[bytes]) -> None:
        self.queue.extend(encoded)  # beyond maxlen the oldest go: a slow client loses them
        self.ready.set()

    def visitors(self) -> int:
        return self._feed.window.count()

    def end(self) -> None:
        """Stop the stream reading this listener (its reader lost access)."""
        self.closed = True
        self.ready.set()


class _SiteFeed:
    def __init__(self, site_id: str, clock: Callable[[], float]) -> None:
        self.site_id = site_id
        self.window = VisitorWindow(clock)
        self.listeners: set[Listener] = set()
        self.subscription: Subscription | None = None
        self.seeding: asyncio.Task[None] | None = None

    async def on_message(self, msg: Msg) -> None:
        try:
            batch = LIVE_DECODER.decode(msg.data)
        except msgspec.DecodeError as exc:
            log.warning("live_batch_undecodable", site_id=self.site_id, error=str(exc))
            return
        if batch.site_id != self.site_id:
            return
        encoded = []
        for event in batch.events:
            self.window.see(event.visitor_id)
            encoded.append(encode_for_stream(event))
        for listener in self.listeners:
            listener.push(encoded)


class LiveHub:
    """The replica's live subscriptions, shared by the streams of each site."""

    def __init__(
        self,
        namespace: str,
        clock: Callable[[], float],
        queue_size: int,
        *,
        recent_visitors: RecentVisitors | None = None,
        seed_timeout_s: float = SEED_TIMEOUT_S,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.nc: NatsClient | None = None
        """Set by the lifespan once NATS is connected."""
        self._namespace = namespace
        self._clock = clock
        self._queue_size = queue_size
        self._recent_visitors = recent_visitors
        self._seed_timeout_s = seed_timeout_s
        self._wall_clock = wall_clock
        self._feeds: dict[str, _SiteFeed] = {}
        self._lock = asyncio.Lock()

    @property
    def watched_sites(self) -> int:
        return len(self._feeds)

    @property
    def listeners(self) -> int:
        """Live streams (SSE clients) open on this replica."""
        return sum(len(feed.listeners) for feed in self._feeds.values())

    @contextlib.asynccontextmanager
    async def listen(self, site_id: str) -> AsyncIterator[Listener]:
        listener = await self._open(site_id)
        try:
            # A round trip, so the server has the subscription before the stream opens: an
            # event published right after the client saw the stream start is not missed. It
            # runs inside the `try`: a client gone meanwhile still releases the subscription.
            assert self.nc is not None
            await bus.round_trip(self.nc, timeout=5)
            await self._seeded(listener._feed)
            yield listener
        finally:
            await asyncio.shield(self._close(listener))

    async def _open(self, site_id: str) -> Listener:
        assert self.nc is not None, "the query lifespan has not connected NATS"
        async with self._lock:
            feed = self._feeds.get(site_id)
            if feed is None:
                feed = _SiteFeed(site_id, self._clock)
                feed.subscription = await self.nc.subscribe(
                    bus.live_subject(self._namespace, site_id), cb=feed.on_message
                )
                self._feeds[site_id] = feed
                if self._recent_visitors is not None:
                    # After subscribing: a visitor seen live meanwhile is merged, not missed.
                    feed.seeding = asyncio.create_task(self._seed(feed, self._recent_visitors))
            listener = Listener(feed, self._queue_size)
            feed.listeners.add(listener)
            return listener

    async def _seed(self, feed: _SiteFeed, recent_visitors: RecentVisitors) -> None:
        try:
            recent = await recent_visitors(feed.site_id)
        except Exception as exc:
            log.warning(
                "live_seed_failed",
                site_id=feed.site_id,
                error=type(exc).__name__,
                detail=str(exc)[:300],
            )
            return
        offset = self._clock() - self._wall_clock()  # unix seconds → the window's clock
        feed.window.merge({visitor: seen + offset for visitor, seen in recent.items()})

    async def _seeded(self, feed: _SiteFeed) -> None:
        """Wait (a bounded while) for the site's seed, so the first count a stream sends
        includes it; a slow warehouse only delays the seed, which still merges when it lands."""
        if feed.seeding is None or feed.seeding.done():
            return
        _, pending = await asyncio.wait({feed.seeding}, timeout=self._seed_timeout_s)
        if pending:
            log.warning("live_seed_slow", site_id=feed.site_id, waited_s=self._seed_timeout_s)

    async def _close(self, listener: Listener) -> None:
        listener.closed = True
        listener.ready.set()
        feed = listener._feed
        async with self._lock:
            feed.listeners.discard(listener)
            if feed.listeners or self._feeds.get(feed.site_id) is not feed:
                return
            del self._feeds[feed.site_id]
            if feed.seeding is not None:
                feed.seeding.cancel()
            if feed.subscription is not None:
                try:
                    await feed.subscription.unsubscribe()
                except Exception as exc:  # a closed connection has no subscriptions left
                    log.warning("live_unsubscribe_failed", error=type(exc).__name__)

    async def close(self) -> None:
        """At shutdown: end every stream (their generators then unsubscribe)."""
        for feed in list(self._feeds.values()):
            for listener in list(feed.listeners):
                listener.closed = True
                listener.ready.set()


class StreamSlots:
    """Concurrent streams per caller (API key, user, or client address), capped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def acquire(self, caller: str) -> StreamSlot:
        if self._open.get(caller, 0) >= self.limit:
            raise RateLimited(
                f"at most {self.limit} live streams may be open at once: close one first",
                retry_after=5,
            )
        self._open[caller] = self._open.get(caller, 0) + 1
        return StreamSlot(self, caller)

    def open_streams(self, caller: str) -> int:
        return self._open.get(caller, 0)

    def _release(self, caller: str) -> None:
        left = self._open.get(caller, 0) - 1
        if left > 0:
            self._open[caller] = left
        else:
            self._open.pop(caller, None)


class StreamSlot:
    """Held by one stream; released when it ends (or, should it never start, when dropped)."""

    def __init__(self, slots: StreamSlots, caller: str) -> None:
        self._slots: StreamSlots | None = slots
        self._caller = caller

    def release(self) -> None:
        if self._slots is not None:
            self._slots._release(self._caller)
            self._slots = None

    def __del__(self) -> None:
        self.release()
