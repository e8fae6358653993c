"""The backoff rule behind the login limits, without services: free failures, then waits that
double up to a cap, forgotten after a while; and the per-replica store's counting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from traytic.query.backoff import BackoffRule, Failures, LocalFailures, key_for

RULE = BackoffRule(free=3, base_s=1.0, cap_s=30.0, forget_s=300.0)


def test_waits_double_after_the_free_failures_up_to_the_cap() -> None:
    now = 1000.0
    waits = [RULE.wait(Failures(count, now), now) for count in range(10)]
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16, 30, 30]
    assert RULE.wait(Failures(5, now), now + 3) == 1  # four seconds, three of them gone
    assert RULE.wait(Failures(50, now), now + 301) == 0  # forgotten
    assert RULE.wait(None, now) == 0


@given(count=st.integers(0, 10_000), elapsed=st.floats(0, 10_000))
def test_a_wait_is_never_longer_than_the_cap(count: int, elapsed: float) -> None:
    assert 0 <= RULE.wait(Failures(count, 0.0), elapsed) <= RULE.cap_s


async def test_the_local_store_counts_and_forgets() -> None:
    store = LocalFailures()
    key = key_for("acct", "someone@example.com")
    assert "someone" not in key and key.startswith("acct.")
    for moment in (0.0, 1.0, 2.0):
        await store.add(key, moment, forget_s=10)
    assert await store.get(key) == Failures(3, 2.0)
    await store.add(key, 20.0, forget_s=10)  # the old ones were forgotten
    assert await store.get(key) == Failures(1, 20.0)
    await store.clear(key)
    assert await store.get(key) is None
