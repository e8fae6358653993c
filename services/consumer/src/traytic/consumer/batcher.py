"""Batch by size or time: a batch is written when it is full, old, or the stream went quiet.

Pure and clock-injected (`traytic.core.clock`), so every rule is tested without sleeping:

| rule  | a batch is ready when                                         | setting              |
|-------|---------------------------------------------------------------|----------------------|
| size  | it holds `max_events` events or more                          | `batch_max_events`   |
| age   | its first item came `max_wait_s` ago                          | `batch_max_wait_s`   |
| idle  | a fetch that waited (at most `idle_s`) brought no message     | `batch_idle_s`       |

A busy stream fills batches; a trickle of beacons is written within `idle_s`, so the live view
stays live.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from traytic.core.clock import Clock

T = TypeVar("T")

MIN_FETCH_WAIT_S = 0.01


class Batcher(Generic[T]):
    def __init__(self, clock: Clock, *, max_events: int, max_wait_s: float, idle_s: float) -> None:
        self._clock = clock
        self._max_events = max_events
        self._max_wait = max_wait_s
        self._idle = idle_s
        self._items: list[T] = []
        self._events = 0
        self._started = 0.0

    @property
    def events(self) -> int:
        return self._events

    def __len__(self) -> int:
        return len(self._items)

    def fetch_timeout(self) -> float:
        """How long the next fetch may wait for messages without delaying a batch."""
        if not self._items:
            return self._max_wait
        left = self._started + self._max_wait - self._clock.monotonic()
        return min(max(MIN_FETCH_WAIT_S, left), self._idle)

    def add(self, item: T, events: int) -> None:
        if not self._items:
            self._started = self._clock.monotonic()
        self._items.append(item)
        self._events += events

    def ready(self, *, fetched: bool) -> bool:
        """After a fetch: is the batch due? `fetched` says whether the fetch brought messages."""
        if not self._items:
            return False
        if self._events >= self._max_events or not fetched:
            return True
        return self._clock.monotonic() - self._started >= self._max_wait

    def take(self) -> list[T]:
        """The batch's items; the batcher starts a new batch."""
        items, self._items, self._events = self._items, [], 0
        return items
