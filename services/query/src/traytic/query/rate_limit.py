"""A sliding-window counter of weighted requests per key, in this process's memory.

One process's memory: replicas count separately, so N replicas allow up to N times the limit
(the read limits; the login limits are shared, see `traytic.query.login_limits`).
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
        self._hits: dict[str, deque[tuple[float, int]]] = {}
        self._used: dict[str, int] = {}

    def retry_after(self, key: str, cost: int = 1) -> float | None:
        """Seconds until `key` may spend `cost` more, or None when it may now."""
        hits = self._live_hits(key)
        if hits is None or self._used[key] + cost <= self.limit:
            return None
        # Wait until enough of the oldest hits leave the window.
        need = self._used[key] + cost - self.limit
        freed = 0
        for moment, spent in hits:
            freed += spent
            if freed >= need:
                return max(0.0, moment + self.window_s - self._clock())
        return self.window_s

    def hit(self, key: str, cost: int = 1) -> None:
        if len(self._hits) >= _MAX_KEYS:
            self._forget_expired()
        self._hits.setdefault(key, deque()).append((self._clock(), cost))
        self._used[key] = self._used.get(key, 0) + cost

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)
        self._used.pop(key, None)

    def _live_hits(self, key: str) -> deque[tuple[float, int]] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        cutoff = self._clock() - self.window_s
        while hits and hits[0][0] <= cutoff:
            self._used[key] -= hits.popleft()[1]
        if not hits:
            self.reset(key)
            return None
        return hits

    def _forget_expired(self) -> None:
        for key in list(self._hits):
            self._live_hits(key)
        if len(self._hits) >= _MAX_KEYS:  # still full: drop the oldest keys, not memory
            for key in list(self._hits)[: _MAX_KEYS // 10]:
                self.reset(key)
