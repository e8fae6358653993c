"""The coalescer alone: batching by tick, count and bytes; every waiter learns its batch's fate."""

from __future__ import annotations

import asyncio

import pytest

from traytic.core.errors import ServiceUnavailable
from traytic.core.events import CustomEvent, Pageview, ReceivedBeacon, decode_batch
from traytic.gateway.coalescer import Coalescer


def _beacon(i: int) -> ReceivedBeacon:
    return ReceivedBeacon(
        "st_a", 1.0, "192.0.2.1", "ua", "en", None, [Pageview(url=f"https://x/{i}")]
    )


def _unencodable() -> ReceivedBeacon:
    """A prop no JSON number can carry (validation refuses it first; this is the last guard)."""
    return ReceivedBeacon(
        "st_a",
        1.0,
        "192.0.2.1",
        "ua",
        "en",
        None,
        [CustomEvent(name="n", url="https://x/", props={"big": 2**70})],
    )


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.messages: list[tuple[bytes, str]] = []
        self.fail = fail

    async def __call__(self, payload: bytes, msg_id: str) -> None:
        await asyncio.sleep(0)
        if self.fail:
            raise ConnectionError("nats down")
        self.messages.append((payload, msg_id))


async def test_same_tick_submissions_share_one_message() -> None:
    published = Recorder()
    coalescer = Coalescer(published)
    waits = [coalescer.submit(_beacon(i), 100) for i in range(10)]
    await asyncio.gather(*waits)
    assert len(published.messages) == 1
    batch = decode_batch(published.messages[0][0])
    assert batch.batch_id == published.messages[0][1]
    assert [b.events[0].url for b in batch.beacons] == [f"https://x/{i}" for i in range(10)]  # type: ignore[union-attr]


async def test_count_and_byte_limits_split_batches() -> None:
    published = Recorder()
    coalescer = Coalescer(published, max_beacons=4, max_bytes=10_000)
    await asyncio.gather(*(coalescer.submit(_beacon(i), 10) for i in range(10)))
    assert [len(decode_batch(p).beacons) for p, _ in published.messages] == [4, 4, 2]

    published.messages.clear()
    coalescer = Coalescer(published, max_beacons=100, max_bytes=250)
    await asyncio.gather(*(coalescer.submit(_beacon(i), 100) for i in range(5)))
    assert [len(decode_batch(p).beacons) for p, _ in published.messages] == [3, 2]
    assert len({msg_id for _, msg_id in published.messages}) == 2


async def test_later_ticks_get_new_batches() -> None:
    published = Recorder()
    coalescer = Coalescer(published)
    await coalescer.submit(_beacon(1), 10)
    await coalescer.submit(_beacon(2), 10)
    assert len(published.messages) == 2


async def test_failed_publish_fails_every_waiter_with_503() -> None:
    coalescer = Coalescer(Recorder(fail=True))
    waits = [coalescer.submit(_beacon(i), 10) for i in range(3)]
    for wait in waits:
        with pytest.raises(ServiceUnavailable):
            await wait


async def test_drain_publishes_what_is_open() -> None:
    published = Recorder()
    coalescer = Coalescer(published)
    wait = coalescer.submit(_beacon(1), 10)
    await coalescer.drain()
    assert wait.done() and len(published.messages) == 1


async def test_an_unencodable_beacon_is_refused_alone_and_its_batch_is_published() -> None:
    """Validation refuses such values first; if one slips through, it must not fail (or hang)
    the requests that share its message."""
    published = Recorder()
    coalescer = Coalescer(published)
    bad = _unencodable()
    good = [_beacon(i) for i in range(3)]
    waits = [coalescer.submit(b, 10) for b in (good[0], bad, good[1], good[2])]
    results = await asyncio.wait_for(asyncio.gather(*waits), timeout=5)
    assert all(result == frozenset({id(bad)}) for result in results)
    [(payload, _)] = published.messages
    assert [b.events[0].url for b in decode_batch(payload).beacons] == [  # type: ignore[union-attr]
        "https://x/0",
        "https://x/1",
        "https://x/2",
    ]
    assert coalescer.beacons_published == 3


async def test_a_request_cancelled_while_waiting_leaves_its_batch_mates_answered() -> None:
    # A client that hangs up cancels its request's wait; the batch it shares with others is
    # still published and every other request still learns it was stored.
    published = Recorder()
    coalescer = Coalescer(published)

    async def send(i: int) -> frozenset[int]:
        return await coalescer.submit(_beacon(i), 10)

    tasks = [asyncio.create_task(send(i)) for i in range(3)]
    await asyncio.sleep(0)  # all three are in the open batch
    tasks[1].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[1], asyncio.CancelledError)
    assert results[0] == results[2] == frozenset()
    assert [len(decode_batch(p).beacons) for p, _ in published.messages] == [3]


async def test_a_batch_whose_every_beacon_is_unencodable_with_a_waiter_gone() -> None:
    published = Recorder()
    coalescer = Coalescer(published)
    unencodable = [_unencodable(), _unencodable()]
    gone = asyncio.ensure_future(coalescer.submit(unencodable[0], 10))
    stays = asyncio.ensure_future(coalescer.submit(unencodable[1], 10))
    await asyncio.sleep(0)
    gone.cancel()
    refused = await asyncio.wait_for(stays, 2)
    assert len(refused) == 2
    assert published.messages == []
