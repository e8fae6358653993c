"""`/api/stream/{siteId}`: a site's live events as Server-Sent Events.

The stream opens with a comment and the `retry:` field, then sends
- each live event as an unnamed message (`data:` only, so `EventSource.onmessage` receives it;
  JSON, camelCase; no IP, user agent or visitor hash) as the consumer publishes it on the
  site's live subject, to every replica's streams alike;
- `event: visitors` with `{"visitors": n}`, the distinct visitors of the last five minutes,
  every `stream_visitors_interval_s` (counted by this replica: see `traytic.query.live`);
- a `: ping` comment every `stream_heartbeat_s`, so proxies keep an idle stream open.

Access is the stats endpoints' (`authorize_reader`), each opening pays the read limit, and each
caller may hold `stream_max_per_caller` streams at once (429 over it). A stream whose reader
loses access (a key revoked, a member removed, a session ended, the site deleted or made
private) ends within seconds on every replica (`traytic.query.stream_access`). Closing the
connection ends the generator, which releases the slot and, with the site's last stream, its
subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import msgspec
from litestar import Request, get
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.access import Caller
from traytic.query.auth import client_address
from traytic.query.context import QueryContext
from traytic.query.endpoints.stats import authorize_reader
from traytic.query.live import Listener, LiveHub, StreamSlot
from traytic.query.settings import QuerySettings
from traytic.query.stream_access import Grant, OpenStreams


class LiveVisitors(msgspec.Struct, frozen=True):
    visitors: int


_ENCODER = msgspec.json.Encoder()


def stream_owner(caller: Caller | None, request: Request[Any, Any, Any], ctx: QueryContext) -> str:
    """Whose stream cap a stream counts against: the key, the person, or the client address
    (behind trusted proxies)."""
    if caller is not None:
        return caller.owner
    return f"addr:{client_address(request, ctx)}"


def _visitors(listener: Listener) -> ServerSentEventMessage:
    data = _ENCODER.encode(LiveVisitors(listener.visitors())).decode()
    return ServerSentEventMessage(data=data, event="visitors")


async def live_messages(
    hub: LiveHub,
    site_id: str,
    slot: StreamSlot,
    settings: QuerySettings,
    access: tuple[OpenStreams, Grant] | None = None,
) -> AsyncGenerator[ServerSentEventMessage, None]:
    """The stream's messages until the client leaves or, with `access`, its reader loses
    access (then the stream simply ends)."""
    loop = asyncio.get_running_loop()
    try:
        async with contextlib.AsyncExitStack() as stack:
            listener = await stack.enter_async_context(hub.listen(site_id))
            if access is not None:
                open_streams, grant = access
                stack.enter_context(open_streams.opened(grant, listener.end))
            yield ServerSentEventMessage(
                data=None, comment="traytic live", retry=settings.stream_retry_ms
            )
            yield _visitors(listener)
            next_count = loop.time() + settings.stream_visitors_interval_s
            next_beat = loop.time() + settings.stream_heartbeat_s
            while not listener.closed:
                listener.ready.clear()
                timeout = min(next_count, next_beat) - loop.time()
                if not listener.queue and timeout > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(listener.ready.wait(), timeout)
                while listener.queue:
                    event = listener.queue.popleft()
                    # unnamed: the browser's default `message` event, as `es.onmessage` expects
                    yield ServerSentEventMessage(data=event.decode())
                now = loop.time()
                if now >= next_count:
                    yield _visitors(listener)
                    next_count = now + settings.stream_visitors_interval_s
                if now >= next_beat:
                    yield ServerSentEventMessage(data=None, comment="ping")
                    next_beat = now + settings.stream_heartbeat_s
    finally:
        slot.release()


@get(
    "/api/stream/{site_id:str}",
    tags=["stream"],
    summary="Live events and live visitors (Server-Sent Events)",
)
async def stream_live(
    site_id: FromPath[str],
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    ctx: NamedDependency[QueryContext],
) -> ServerSentEvent:
    """`text/event-stream`: each live event as a default `message`, `event: visitors` every few
    seconds, `: ping` heartbeats. Same access as the stats endpoints; 429 past the per-caller
    cap."""
    reader = await authorize_reader(site_id, request, db_session, ctx)
    slot = ctx.stream_slots.acquire(stream_owner(reader.caller, request, ctx))
    grant = Grant(reader.site.id, reader.caller)
    messages = live_messages(
        ctx.live, reader.site.id, slot, ctx.settings, (ctx.open_streams, grant)
    )
    # When the client goes away, Litestar stops iterating but does not close the generator: if
    # it was paused at a `yield`, its clean-up (the NATS subscription, the stream slot) would
    # wait for the garbage collector. Closing it after the response makes the clean-up prompt.
    return ServerSentEvent(messages, background=BackgroundTask(messages.aclose))
