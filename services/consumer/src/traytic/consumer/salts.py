"""Daily salts for visitor hashes, shared by every consumer replica through JetStream KV.

One random salt per UTC day, created by whichever replica needs it first (`create` fails for the
others, who then read the winner's). The bucket's TTL deletes each salt 48 hours after it was
written, so yesterday's is there for sessions across midnight and nothing older exists: a visitor
cannot be followed from one day to the next, not even by us.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import structlog
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from traytic.consumer.enrich.visitor import new_salt

log = structlog.get_logger()

SALT_TTL_S = 48 * 3600


def utc_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


class DailySalts:
    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv
        self._cache: dict[date, bytes] = {}

    def cached(self, day: date) -> bytes | None:
        """The salt if this process already has it (the hot path: no await)."""
        return self._cache.get(day)

    async def for_day(self, day: date) -> bytes:
        salt = self._cache.get(day)
        if salt is None:
            salt = await self._load_or_create(day)
            self._cache[day] = salt
            # Forget what the bucket has forgotten: no salt older than yesterday stays in memory.
            for old in [d for d in self._cache if d < day - timedelta(days=1)]:
                del self._cache[old]
        return salt

    async def _load_or_create(self, day: date) -> bytes:
        key = day.isoformat()
        try:
            entry = await self._kv.get(key)
            if entry.value:
                return entry.value
        except KeyNotFoundError:
            pass
        salt = new_salt()
        try:
            await self._kv.create(key, salt)
            log.info("salt_created", day=key)
            return salt
        except KeyWrongLastSequenceError:
            entry = await self._kv.get(key)  # another replica won the race: use its salt
            assert entry.value is not None
            return entry.value
