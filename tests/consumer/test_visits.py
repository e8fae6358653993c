"""Visits written from memory are the rows a recomputation from the stored events gives, on both
engines; and with replicas sharing visitors, every visit ends whole."""

from __future__ import annotations

import random
import time
from typing import Any

import msgspec

from tests.consumer.conftest import CHROME_WINDOWS, FIREFOX_LINUX, SAFARI_IPHONE, Harness, beacon
from tests.warehouse.test_contract import make_row
from traytic.consumer.visits import VisitMemory
from traytic.core.events import CustomEvent, Pageview
from traytic.warehouse import EventRow, Warehouse
from traytic.warehouse.sessions import SESSION_COLUMNS

NOW = int(time.time()) // 60 * 60


def _visits(rnd: random.Random, count: int) -> dict[tuple[str, int], list[EventRow]]:
    """Visits of pageviews, custom events and vitals, with ties in time (events of one beacon,
    beacons in the same second) and attributes that change along the visit."""
    visits: dict[tuple[str, int], list[EventRow]] = {}
    n = 0
    for session in range(1, count + 1):
        started = NOW - rnd.randrange(3600)
        rows = []
        for _ in range(rnd.randrange(1, 8)):  # beacons
            ts = started + rnd.choice([0, 0, 1, 5, 60, 300])
            for kind in rnd.choices(["pageview", "event", "vital"], k=rnd.randrange(1, 4)):
                n += 1
                rows.append(
                    make_row(
                        n,
                        ts=ts,
                        type=kind,
                        event_id=rnd.getrandbits(64),
                        session_id=session,
                        visitor_id=session * 1000,
                        pathname=rnd.choice(["/", "/a", "/b"]),
                        referrer_source=rnd.choice(["", "Google", "GitHub"]),
                        country=rnd.choice(["NG", "GB"]),
                    )
                )
        visits[("st_demo", session)] = rows
    return visits


async def _session_rows(warehouse: Warehouse) -> dict[int, dict[str, Any]]:
    rows = await warehouse.query(f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions FINAL")
    return {int(row["session_id"]): row for row in rows}


async def test_memory_and_recomputation_give_the_same_rows(warehouse: Warehouse) -> None:
    rnd = random.Random(5)
    visits = _visits(rnd, 60)
    starts = {key: min(row.ts for row in rows) for key, rows in visits.items()}
    await warehouse.insert_events([row for rows in visits.values() for row in rows])

    memory = VisitMemory()
    written = []
    for key, rows in visits.items():
        shuffled = rows[:]
        rnd.shuffle(shuffled)  # batches arrive in any order
        cut = rnd.randrange(len(shuffled) + 1)
        for part, new in ((shuffled[:cut], True), (shuffled[cut:], False)):
            row = memory.apply(key, starts[key], part, new=new)
        if row is not None:
            written.append(row)
    await warehouse.insert_sessions(written)
    from_memory = await _session_rows(warehouse)

    await warehouse.execute("TRUNCATE TABLE sessions")
    await warehouse.refresh_sessions(starts, now=NOW)
    recomputed = await _session_rows(warehouse)
    assert from_memory == recomputed
    only_vitals = [key for key, rows in visits.items() if {r.type for r in rows} == {"vital"}]
    assert len(recomputed) == len(visits) - len(only_vitals)


def test_a_visit_without_pageviews_or_events_has_no_row_yet() -> None:
    memory = VisitMemory()
    key = ("st_demo", 9)
    assert memory.apply(key, NOW, [make_row(1, type="vital", session_id=9)], new=True) is None
    assert key in memory
    row = memory.apply(key, NOW, [make_row(2, type="event", session_id=9)], new=False)
    assert row is not None and (row.pageviews, row.events, row.version) == (0, 1, 1)
    assert (row.entry_page, row.exit_page) == ("", "")


def test_memory_forgets_the_least_recently_touched() -> None:
    memory = VisitMemory(max_visits=2)
    for session in (1, 2, 1, 3):
        memory.apply(("s", session), NOW, [make_row(session, session_id=session)], new=False)
    assert ("s", 2) not in memory and ("s", 1) in memory and ("s", 3) in memory
    memory.forget(("s", 1))
    assert len(memory) == 1


async def test_replicas_sharing_visitors_end_with_every_visit_whole(harness: Harness) -> None:
    """Two replicas take turns at the same visitors' messages: most visits get events from
    both, some from one alone. Whatever each wrote, every visit's row is the one its stored
    events give."""
    # A long ack wait: no redelivery from slowness (its race with the first insert is not
    # what this test is about).
    settings = msgspec.structs.replace(harness_settings(), batch_max_events=40, ack_wait_s=30.0)
    first = await harness.start_consumer(settings)
    second = await harness.start_consumer(settings)
    rnd = random.Random(3)
    people = [(f"81.2.69.{n}", ua) for n in range(10, 22) for ua in (CHROME_WINDOWS, SAFARI_IPHONE)]
    people.append(("89.160.20.112", FIREFOX_LINUX))
    start = NOW - 1800
    sent = 0
    for step in range(12):
        for ip, ua in rnd.sample(people, 10):
            events = [Pageview(url=f"https://example.com/{step}")]
            if rnd.random() < 0.4:
                events.append(CustomEvent(name="signup", url="https://example.com/", props={}))
            await harness.publisher.publish([beacon(events, ip=ip, ua=ua, at=start + step * 30)])
            sent += len(events)
    await harness.wait_for_rows(sent, settle=1.0)
    await harness.stop_all()
    assert first.metrics.events_inserted > 0 and second.metrics.events_inserted > 0
    both = first.metrics.visits_written + second.metrics.visits_written
    assert both["memory"] > 0 and both["recomputed"] > 0  # each way took part

    written = await _session_rows(harness.warehouse)
    [row] = await harness.warehouse.query(
        "SELECT count() AS n, uniqExact(session_id) AS visits FROM events"
    )
    assert int(row["n"]) == sent
    assert len(written) == int(row["visits"])
    starts = {("st_test", sid): int(r["started"].timestamp()) for sid, r in written.items()}
    await harness.warehouse.execute("TRUNCATE TABLE sessions")
    await harness.warehouse.refresh_sessions(starts)
    recomputed = await _session_rows(harness.warehouse)
    differing = {
        sid: {k: (v, recomputed[sid][k]) for k, v in row.items() if recomputed[sid][k] != v}
        for sid, row in written.items()
        if recomputed.get(sid) != row
    }
    assert differing == {}
    assert sum(int(r["version"]) for r in written.values()) == sent


async def test_one_replica_writes_every_visit_from_memory(harness: Harness) -> None:
    # A long ack wait: a redelivery (from slowness) rightly sends its visits the other way.
    consumer = await harness.start_consumer(
        msgspec.structs.replace(harness_settings(), ack_wait_s=30.0)
    )
    start = NOW - 1800
    sent = 0
    for step in range(6):  # each visit grows over several batches
        for n in range(5):
            await harness.publisher.publish(
                [
                    beacon(
                        [Pageview(url=f"https://example.com/{step}")],
                        ip=f"81.2.69.{n + 1}",
                        at=start + step * 60,
                    )
                ]
            )
            sent += 1
        await harness.wait_for_rows(sent)
    await harness.stop_all()
    assert consumer.metrics.visits_written["recomputed"] == 0
    assert consumer.metrics.visits_written["memory"] >= 5

    written = await _session_rows(harness.warehouse)
    assert len(written) == 5 and {int(r["pageviews"]) for r in written.values()} == {6}
    starts = {("st_test", sid): int(r["started"].timestamp()) for sid, r in written.items()}
    await harness.warehouse.execute("TRUNCATE TABLE sessions")
    await harness.warehouse.refresh_sessions(starts)
    assert await _session_rows(harness.warehouse) == written


def harness_settings() -> Any:
    from tests.consumer.conftest import TEST_SETTINGS

    return TEST_SETTINGS
