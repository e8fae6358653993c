"""Identify: which beacons are people, and which visitor and visit each one belongs to.

Bots are screened out first (pure, cached per user agent) and counted by reason. Then each
human beacon gets its visitor hash (the day's salt) and its session (`SessionTracker`): salts
and sessions live in JetStream KV, so this is the only step before the write that does I/O,
and most batches need little of it (both are cached).
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
from traytic.core.events import IngestBatch, ReceivedBeacon

DAY_S = 86_400


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
    ) -> None:
        self._salts = salts
        self._sessions = sessions
        self._metrics = metrics
        self._timeout = timeout_s

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
        for _, _, beacon in beacons:
            ts = int(beacon.received_at)
            day_number = ts // DAY_S
            visitor = visitor_id(
                await salt(day_number), beacon.site_id, beacon.ip, beacon.user_agent
            )
            previous = None
            if ts % DAY_S < self._timeout:  # just after midnight: yesterday's visit may go on
                yesterday = await salt(day_number - 1)
                previous = visitor_id(yesterday, beacon.site_id, beacon.ip, beacon.user_agent)
            visits.append(Visit(beacon.site_id, visitor, ts, previous))
        started = time.perf_counter()
        assigned = await self._sessions.assign(visits)
        self._metrics.seconds["sessions"] += time.perf_counter() - started
        return [
            Identified(batch_id, index, beacon, who.visitor_id, who.session_id, who.started_at)
            for (batch_id, index, beacon), who in zip(beacons, assigned, strict=True)
        ]
