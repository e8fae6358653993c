"""A sliding-window counter of failed logins per key (email and client IP), in memory.

One process's memory: replicas count separately, so N replicas allow up to N times the limit.
That is enough to stop a password-guessing script; a shared limit would need a KV bucket.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

_MAX_KEYS = 100_000


class SlidingWindowLimiter:
    def __init__(self, limit: int, window_s: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may try again, or None when it may now."""
        hits = self._live_hits(key)
        if hits is None or len(hits) < self.limit:
            return None
        return hits[0] + self.window_s - self._clock()

    def hit(self, key: str) -> None:
        if len(self._hits) >= _MAX_KEYS:
            self._forget_expired()
        self._hits.setdefault(key, deque()).append(self._clock())

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    def _live_hits(self, key: str) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        cutoff = self._clock() - self.window_s
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def _forget_expired(self) -> None:
        for key in list(self._hits):
            self._live_hits(key)
        if len(self._hits) >= _MAX_KEYS:  # still full: drop the oldest keys, not memory
            for key in list(self._hits)[: _MAX_KEYS // 10]:
                del self._hits[key]
