"""Token buckets per key (a client address, a site), kept in this process and charged with what
the other replicas spent (`rate_sync`), so a limit holds across replicas without a network
round trip on the hot path.

Each bucket refills `rate` tokens a second up to `burst`; a beacon takes one. Spending reported
by another replica is subtracted whenever it arrives and may push a bucket below zero (down to
`-burst`), so a flood spread over replicas waits for the whole of what it took. Buckets that
have refilled are swept away, so memory follows the clients of the last few seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from traytic.core.errors import TrayticError


class RateLimited(TrayticError):
    """Too many beacons from one address (or for one site): wait `Retry-After` seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(message, headers={"Retry-After": str(seconds)})


class TokenBuckets:
    """`take(key)` on the hot path; `spend()`, `report()` and `sweep()` for the sync loop."""

    __slots__ = ("_buckets", "_clock", "_due", "_hot", "_used", "burst", "rate", "report_min")

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float], *, report_min: int = 1
    ) -> None:
        self.rate = rate
        self.burst = float(max(burst, 1))
        self.report_min = report_min
        """A key is reported once it took this many tokens (its count carries over rounds
        until then), and from then on every token it takes: one-beacon visitors would
        otherwise fill every sync message, and a busy key loses nothing."""
        self._clock = clock
        self._buckets: dict[str, list[float]] = {}  # key -> [tokens, time of that count]
        self._used: dict[str, int] = {}  # tokens taken and not reported yet
        self._due: list[str] = []  # keys whose count reached `report_min`
        self._hot: set[str] = set()  # keys reported before and not swept since

    def __len__(self) -> int:
        return len(self._buckets)

    @property
    def unreported(self) -> bool:
        """Some key is due to be reported."""
        return bool(self._due)

    def _count(self, key: str) -> None:
        used = self._used.get(key, 0) + 1
        self._used[key] = used
        if used == self.report_min or (used == 1 and key in self._hot):
            self._due.append(key)

    def take(self, key: str) -> float:
        """Take a token: 0.0 when there was one, else the seconds until there will be."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._buckets[key] = [self.burst - 1.0, now]
            self._count(key)
            return 0.0
        tokens = min(bucket[0] + (now - bucket[1]) * self.rate, self.burst)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return (1.0 - tokens) / self.rate
        bucket[0] = tokens - 1.0
        self._count(key)
        return 0.0

    def spend(self, key: str, tokens: float) -> None:
        """Subtract what another replica took for `key`."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [self.burst, now]
        left = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate) - tokens
        bucket[0] = max(left, -self.burst)
        bucket[1] = now

    def report(self) -> dict[str, int]:
        """What this process took per key and has not reported, for the keys that reached
        `report_min`; those start counting afresh."""
        due, self._due = self._due, []
        report = {}
        for key in due:
            count = self._used.pop(key, 0)
            if count:
                report[key] = count
                self._hot.add(key)
        return report

    def spend_all(self, spent: Mapping[str, int]) -> None:
        for key, tokens in spent.items():
            self.spend(key, tokens)

    def sweep(self) -> int:
        """Forget the buckets that are full again (as good as absent); returns how many."""
        now = self._clock()
        full = [
            key
            for key, (tokens, stamp) in self._buckets.items()
            if tokens + (now - stamp) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
            # At most `report_min - 1` tokens per key and sweep go unreported: refilled anyway.
            self._used.pop(key, None)
            self._hot.discard(key)
        return len(full)
