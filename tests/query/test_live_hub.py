"""The live hub on a real NATS: a stream whose client leaves while it is still opening must not
break the replica's NATS connection for everything else (limits, the site registry, the other
streams). nats-py's `flush()` cancelled while it waits leaves its future in the client's PONG
queue, and the PONG that comes later stopped the client's read loop for good: every later
request timed out until the process restarted."""

from __future__ import annotations

import asyncio
import time

from nats.aio.client import Client as NatsClient

from tests.query.test_stream import live_event
from traytic.core import bus
from traytic.core.events import JSON_ENCODER, LiveBatch
from traytic.query.live import LiveHub


async def _open_then_wait(hub: LiveHub, site_id: str) -> None:
    async with hub.listen(site_id):
        await asyncio.sleep(30)


async def test_streams_cancelled_while_opening_leave_the_connection_working(
    nc: NatsClient, namespace: str
) -> None:
    hub = LiveHub(namespace, time.monotonic, 16)
    hub.nc = nc
    # Cancelled after 0, 1, 2 ... turns of the loop: some of them land while the opening round
    # trip waits for the server's answer, whichever way the loop schedules it.
    for turns in range(40):
        task = asyncio.create_task(_open_then_wait(hub, f"st_{turns % 3}"))
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        # The stream ends at once: a cancellation that lands as the round trip's answer arrives
        # is not dropped (asyncio.wait_for on 3.11 drops it; the stream then stayed open).
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done == {task}, f"a stream cancelled after {turns} turns stayed open"
    await asyncio.sleep(0.5)  # the late answers arrive

    assert hub.listeners == 0
    assert hub.watched_sites == 0
    # The connection still reads: a stream opened now gets what is published to its site.
    async with hub.listen("st_after") as listener:
        batch = LiveBatch(site_id="st_after", events=[live_event("v9", "/after")])
        await nc.publish(bus.live_subject(namespace, "st_after"), JSON_ENCODER.encode(batch))
        await asyncio.wait_for(listener.ready.wait(), 5)
        assert not listener.closed
        assert b"/after" in listener.queue[0]
    reply = await nc.request("$JS.API.INFO", b"", timeout=5)
    assert b"memory" in reply.data
