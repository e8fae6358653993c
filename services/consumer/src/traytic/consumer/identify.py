"""Identify: which beacons are people, and which visitor and visit each one belongs to.

Bots are screened out first (pure, cached per user agent) and counted by reason. Then each
human beacon gets its visitor hash (the day's salt) and its session (`SessionTracker`), and the
sessions of other replicas the batch will insert into are marked shared (`SharedVisits`): salts,
sessions and marks live in JetStream KV, so this is the only step before the write that does
I/O, and most batches need little of it (all three are cached).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import NamedTuple

from traytic.consumer.enrich.bots import BotReason
from traytic.consumer.enrich.visitor import visitor_id
from traytic.consumer.metrics import ConsumerMetrics
from traytic.consumer.salts import DailySalts, utc_day
from traytic.consumer.sessions import SessionTracker, Visit
from traytic.consumer.shared import SharedVisits
from traytic.core.events import IngestBatch, ReceivedBeacon

DAY_S = 86_400
VISITORS_REMEMBERED = 50_000


class Beacon(NamedTuple):
    """A beacon with its place in its message: the place gives its events stable ids."""

    batch_id: str
    beacon_index: int
    beacon: ReceivedBeacon


class Identified(NamedTuple):
    """A human beacon with the visitor and the visit it belongs to."""

    batch_id: str
    beacon_index: int
    beacon: ReceivedBeacon
    visitor_id: int
    session_id: int
    started_at: int
    """When the visit started (unix seconds): fixed once, it keys the visit's row."""
    owned: bool = False
    """The visit is this replica's own (see `SessionTracker`)."""
    new: bool = False
    """...and it started in this batch."""


def humans(
    batches: Sequence[IngestBatch],
    bot_reason: Callable[[ReceivedBeacon], BotReason | None],
    dropped: Counter[str],
) -> list[Beacon]:
    """The beacons of people; the events of the others are counted in `dropped` by reason."""
    kept = []
    for batch in batches:
        for index, beacon in enumerate(batch.beacons):
            reason = bot_reason(beacon)
            if reason is None:
                kept.append(Beacon(batch.batch_id, index, beacon))
            else:
                dropped[reason] += len(beacon.events)
    return kept


class Identifier:
    def __init__(
        self,
        salts: DailySalts,
        sessions: SessionTracker,
        metrics: ConsumerMetrics,
        *,
        timeout_s: int,
        shared: SharedVisits | None = None,
    ) -> None:
        self._salts = salts
        self._sessions = sessions
        self._metrics = metrics
        self._timeout = timeout_s
        self._shared = shared
        self._visitors: dict[tuple[int, str, str, str], int] = {}
        """(day, site, IP, user agent) → visitor hash: a visitor's beacons come in runs. Only
        in memory, only for a day (the key has it), and cleared when full."""

    async def identify(self, beacons: Sequence[Beacon]) -> list[Identified]:
        """Each beacon with its visitor and visit, in order."""
        salt_by_day: dict[int, bytes] = {}  # a date per beacon costs more than its hash

        async def salt(day_number: int) -> bytes:
            found = salt_by_day.get(day_number)
            if found is None:
                found = await self._salts.for_day(utc_day(day_number * DAY_S))
                salt_by_day[day_number] = found
            return found

        visits = []
        known = self._visitors
        for _, _, beacon in beacons:
            ts = int(beacon.received_at)
            day_number = ts // DAY_S
            site_id, ip, user_agent = beacon.site_id, beacon.ip, beacon.user_agent
            key = (day_number, site_id, ip, user_agent)
            visitor = known.get(key)
            if visitor is None:
                if len(known) >= VISITORS_REMEMBERED:
                    known.clear()
                visitor = known[key] = visitor_id(await salt(day_number), site_id, ip, user_agent)
            previous = None
            if ts % DAY_S < self._timeout:  # just after midnight: yesterday's visit may go on
                yesterday = await salt(day_number - 1)
                previous = visitor_id(yesterday, site_id, ip, user_agent)
            visits.append(Visit(site_id, visitor, ts, previous))
        started = time.perf_counter()
        assigned = await self._sessions.assign(visits)
        identified = [
            Identified(batch_id, index, beacon, *who)
            for (batch_id, index, beacon), who in zip(beacons, assigned, strict=True)
        ]
        if self._shared is not None:
            # Before the insert: the owner of each of these visits must see the mark first.
            await self._shared.mark(
                (who.beacon.site_id, who.session_id) for who in identified if not who.owned
            )
        self._metrics.seconds["sessions"] += time.perf_counter() - started
        return identified
