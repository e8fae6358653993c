"""Identify without NATS: bots screened out and counted, visitors hashed with the day's salt,
visits assigned from the session state (JetStream KV's contract, kept in memory here)."""

from __future__ import annotations

from collections import Counter

from tests.consumer.conftest import CHROME_WINDOWS, FIREFOX_LINUX, GOOGLEBOT, HEADLESS, beacon
from tests.consumer.stand_ins import MemoryKeyValue
from traytic.consumer.enricher import Enricher
from traytic.consumer.identify import Beacon, Identifier, humans
from traytic.consumer.metrics import ConsumerMetrics
from traytic.consumer.salts import DailySalts
from traytic.consumer.sessions import SessionTracker
from traytic.core.events import IngestBatch, Pageview

DAY = 86_400
NOON = 1_767_268_800  # 2026-01-01 12:00 UTC
PAGE = [Pageview(url="https://example.com/")]


def _identifier() -> tuple[Identifier, MemoryKeyValue, MemoryKeyValue]:
    salts, sessions = MemoryKeyValue(), MemoryKeyValue()
    identifier = Identifier(
        DailySalts(salts),  # type: ignore[arg-type]
        SessionTracker(sessions, timeout_s=1800),  # type: ignore[arg-type]
        ConsumerMetrics(),
        timeout_s=1800,
    )
    return identifier, salts, sessions


def test_humans_keeps_people_in_order_and_counts_bots_by_events() -> None:
    enricher = Enricher()
    people = [beacon(PAGE, ua=CHROME_WINDOWS), beacon(PAGE * 3, ua=FIREFOX_LINUX)]
    batches = [
        IngestBatch("m1", [people[0], beacon(PAGE * 2, ua=GOOGLEBOT)]),
        IngestBatch("m2", [beacon(PAGE, ua=HEADLESS), people[1]]),
    ]
    dropped: Counter[str] = Counter()
    kept = humans(batches, enricher.bot_reason, dropped)
    assert kept == [Beacon("m1", 0, people[0]), Beacon("m2", 1, people[1])]
    assert dropped == {"crawler": 2, "headless": 1}


async def test_one_visitor_one_visit_until_half_an_hour_of_silence() -> None:
    identifier, _, sessions = _identifier()
    at = [NOON, NOON + 600, NOON + 600 + 1801]
    found = await identifier.identify(
        [Beacon("m", i, beacon(PAGE, at=ts)) for i, ts in enumerate(at)]
    )
    assert len({who.visitor_id for who in found}) == 1
    first, second, third = found
    assert first.session_id == second.session_id != third.session_id
    assert (first.started_at, second.started_at, third.started_at) == (NOON, NOON, at[2])
    assert sessions.writes >= 1  # the state is shared through KV


async def test_visitors_differ_by_ip_agent_and_site() -> None:
    identifier, _, _ = _identifier()
    found = await identifier.identify(
        [
            Beacon("m", 0, beacon(PAGE, at=NOON)),
            Beacon("m", 1, beacon(PAGE, at=NOON, ip="89.160.20.112")),
            Beacon("m", 2, beacon(PAGE, at=NOON, ua=FIREFOX_LINUX)),
            Beacon("m", 3, beacon(PAGE, at=NOON, site_id="st_other")),
        ]
    )
    assert len({who.visitor_id for who in found}) == 4


async def test_a_new_day_is_a_new_salt_but_a_visit_across_midnight_goes_on() -> None:
    identifier, salts, _ = _identifier()
    midnight = NOON + 12 * 3600
    [late] = await identifier.identify([Beacon("m", 0, beacon(PAGE, at=midnight - 300))])
    [early] = await identifier.identify([Beacon("m", 1, beacon(PAGE, at=midnight + 300))])
    [next_noon] = await identifier.identify([Beacon("m", 2, beacon(PAGE, at=midnight + DAY // 2))])
    assert salts.writes == 2  # one salt per UTC day, created on first use
    assert (early.visitor_id, early.session_id) == (late.visitor_id, late.session_id)
    assert next_noon.visitor_id != late.visitor_id  # a day later nobody can be followed


async def test_replicas_sharing_the_state_agree() -> None:
    salts, sessions = MemoryKeyValue(), MemoryKeyValue()

    def replica() -> Identifier:
        return Identifier(
            DailySalts(salts),  # type: ignore[arg-type]
            SessionTracker(sessions, timeout_s=1800),  # type: ignore[arg-type]
            ConsumerMetrics(),
            timeout_s=1800,
        )

    [first] = await replica().identify([Beacon("m", 0, beacon(PAGE, at=NOON))])
    [later] = await replica().identify([Beacon("m", 0, beacon(PAGE, at=NOON + 900))])
    assert (later.visitor_id, later.session_id, later.started_at) == (
        first.visitor_id,
        first.session_id,
        NOON,
    )
