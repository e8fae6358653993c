"""Sessions: 30 minutes of inactivity end one; replicas and restarts agree on them."""

from __future__ import annotations

import asyncio
import time

from tests.consumer.conftest import CHROME_WINDOWS, FIREFOX_LINUX, SAFARI_IPHONE, Harness, beacon
from traytic.core.events import Pageview

MINUTE = 60


def _partition(rows: list[dict[str, object]]) -> set[frozenset[str]]:
    """Sessions as sets of page paths: comparable across runs whose salts (ids) differ."""
    sessions: dict[object, set[str]] = {}
    for row in rows:
        sessions.setdefault(row["session_id"], set()).add(str(row["pathname"]))
    return {frozenset(paths) for paths in sessions.values()}


# Three visitors; minutes at which each views a page. Gaps over 30 minutes start a new session.
TIMELINE = {
    ("81.2.69.142", CHROME_WINDOWS): [0, 5, 20, 49, 100, 101],  # 0-49 one session; 100-101 another
    ("89.160.20.112", FIREFOX_LINUX): [1, 40, 41, 75],  # three: [1], [40, 41], [75]
    ("216.160.83.56", SAFARI_IPHONE): [2, 3, 4, 33, 34],  # 4 -> 33 is 29 minutes: one session
}
EXPECTED_SESSIONS = 6  # chrome 2, firefox 3, safari 1


async def _play(harness: Harness, start: float, replicas: int) -> list[dict[str, object]]:
    for _ in range(replicas):
        await harness.start_consumer()
    steps = sorted({m for minutes in TIMELINE.values() for m in minutes})
    expected = 0
    for step in steps:
        # Each step is several beacons in separate messages, so replicas share the visitors.
        for (ip, ua), minutes in TIMELINE.items():
            if step in minutes:
                for part in range(3):
                    path = f"/{ua[:12]}/{step}/{part}"
                    at = start + step * MINUTE + part
                    await harness.publisher.publish(
                        [beacon([Pageview(url=f"https://example.com{path}")], ip=ip, ua=ua, at=at)]
                    )
                    expected += 1
        await harness.wait_for_rows(expected)
    return await harness.rows()


def _day_start() -> float:
    now = time.time()
    return now - now % 86_400 + 3 * 3600  # 03:00 UTC today: far from midnight


async def test_inactivity_splits_sessions(harness: Harness) -> None:
    rows = await _play(harness, _day_start(), replicas=1)
    assert len({r["session_id"] for r in rows}) == EXPECTED_SESSIONS
    by_visitor: dict[object, set[object]] = {}
    for row in rows:
        by_visitor.setdefault(row["visitor_id"], set()).add(row["session_id"])
    assert sorted(len(s) for s in by_visitor.values()) == [1, 2, 3]


async def test_two_replicas_give_the_same_sessions_as_one(
    harness: Harness, nats_server, warehouse
) -> None:  # type: ignore[no-untyped-def]
    from traytic.core import bus

    single = _partition(await _play(harness, _day_start(), replicas=1))
    await harness.stop_all()

    other_ns = bus.BusSettings(
        nats_url=harness.bus_settings.nats_url, namespace=harness.bus_settings.namespace + "b"
    )
    await warehouse.execute("TRUNCATE TABLE events")
    nc = await bus.connect(other_ns, name="test-harness-2")
    await bus.ensure_stream(nc.jetstream(), other_ns)
    double_harness = Harness(nc, other_ns, warehouse)
    try:
        double = _partition(await _play(double_harness, _day_start(), replicas=2))
    finally:
        await double_harness.stop_all()
        await nc.close()
    assert double == single
    assert len(single) == EXPECTED_SESSIONS


async def test_a_restart_continues_open_sessions(harness: Harness) -> None:
    start = _day_start()
    consumer = await harness.start_consumer()
    await harness.publisher.publish([beacon([Pageview(url="https://example.com/a")], at=start)])
    await harness.wait_for_rows(1)
    await harness.stop_all()
    assert consumer is not None
    await harness.start_consumer()  # a fresh process: empty cache, state from KV
    await harness.publisher.publish(
        [beacon([Pageview(url="https://example.com/b")], at=start + 10 * MINUTE)]
    )
    await harness.wait_for_rows(2)
    rows = await harness.rows()
    assert len({r["session_id"] for r in rows}) == 1


async def test_session_survives_midnight(harness: Harness) -> None:
    now = time.time()
    midnight = now - now % 86_400
    await harness.start_consumer()
    await harness.publisher.publish(
        [beacon([Pageview(url="https://example.com/late")], at=midnight - 5 * MINUTE)]
    )
    await harness.wait_for_rows(1)
    await harness.publisher.publish(
        [beacon([Pageview(url="https://example.com/early")], at=midnight + 5 * MINUTE)]
    )
    await harness.wait_for_rows(2)
    await asyncio.sleep(0.1)
    late, early = await harness.rows()
    assert late["session_id"] == early["session_id"]
    assert late["visitor_id"] == early["visitor_id"]  # counted once, not as a new visitor
