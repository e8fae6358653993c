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
    """`take(key)` on the hot path; `spend()`, `report()` and `sweep()` for the sync loop.

    Kept as GCRA: per key one float, the time at which its bucket will be full again
    (`full_at`), instead of a count and its time. A bucket holds
    `burst - max(full_at - now, 0) * rate` tokens; taking one moves `full_at` by `1 / rate`.
    The arithmetic and every answer are the token bucket's, with one dict read and one write.
    """

    __slots__ = (
        "_capacity_s",
        "_clock",
        "_debt_s",
        "_due",
        "_full_at",
        "_hot",
        "_interval",
        "_used",
        "burst",
        "rate",
        "report_min",
    )

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
        self._interval = 1.0 / rate  # seconds one token takes to come back
        self._capacity_s = (self.burst - 1.0) / rate  # a take succeeds while full_at - now <= this
        self._debt_s = 2.0 * self.burst / rate  # spending elsewhere: at most a burst of debt
        self._full_at: dict[str, float] = {}  # key -> when its bucket is full again
        self._used: dict[str, int] = {}  # tokens taken and not reported yet
        self._due: list[str] = []  # keys whose count reached `report_min`
        self._hot: set[str] = set()  # keys reported before and not swept since

    def __len__(self) -> int:
        return len(self._full_at)

    @property
    def unreported(self) -> bool:
        """Some key is due to be reported."""
        return bool(self._due)

    def take(self, key: str) -> float:
        """Take a token: 0.0 when there was one, else the seconds until there will be."""
        now = self._clock()
        full_at = self._full_at.get(key, now)
        ahead = full_at - now  # tokens missing from the bucket, in seconds of refill
        if ahead > self._capacity_s:
            return ahead - self._capacity_s
        self._full_at[key] = (full_at if ahead > 0.0 else now) + self._interval
        used = self._used.get(key, 0) + 1
        self._used[key] = used
        if used == self.report_min or (used == 1 and key in self._hot):
            self._due.append(key)
        return 0.0

    def spend(self, key: str, tokens: float) -> None:
        """Subtract what another replica took for `key`."""
        now = self._clock()
        full_at = max(self._full_at.get(key, now), now) + tokens * self._interval
        self._full_at[key] = min(full_at, now + self._debt_s)

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
        full = [key for key, full_at in self._full_at.items() if full_at <= now]
        for key in full:
            del self._full_at[key]
            # At most `report_min - 1` tokens per key and sweep go unreported: refilled anyway.
            self._used.pop(key, None)
            self._hot.discard(key)
        return len(full)
