"""The batcher's three rules (size, age, idle) on an injected clock: no sleeping."""

from __future__ import annotations

import pytest

from traytic.consumer.batcher import MIN_FETCH_WAIT_S, Batcher
from traytic.core.clock import FakeClock


def _batcher(clock: FakeClock) -> Batcher[str]:
    return Batcher(clock, max_events=100, max_wait_s=1.0, idle_s=0.1)


def test_an_empty_batcher_waits_the_whole_age_and_is_never_ready() -> None:
    clock = FakeClock()
    batcher = _batcher(clock)
    assert batcher.fetch_timeout() == 1.0
    clock.advance(5)
    assert not batcher.ready(fetched=False)
    assert batcher.take() == []


def test_size_a_full_batch_is_ready_at_once() -> None:
    batcher = _batcher(FakeClock())
    batcher.add("a", 60)
    assert not batcher.ready(fetched=True)
    batcher.add("b", 40)
    assert batcher.events == 100 and len(batcher) == 2
    assert batcher.ready(fetched=True)
    assert batcher.take() == ["a", "b"]
    assert batcher.events == 0 and len(batcher) == 0


def test_age_a_busy_stream_is_written_once_the_first_item_is_old_enough() -> None:
    clock = FakeClock()
    batcher = _batcher(clock)
    batcher.add("first", 1)
    for _ in range(3):
        clock.advance(0.25)
        batcher.add("more", 1)  # messages keep coming: never idle
        assert not batcher.ready(fetched=True)
    clock.advance(0.25)
    assert batcher.ready(fetched=True)  # 1.0 s after the first item, not the last
    assert len(batcher.take()) == 4


def test_idle_a_fetch_that_brought_nothing_makes_the_batch_due() -> None:
    clock = FakeClock()
    batcher = _batcher(clock)
    batcher.add("only", 1)
    assert batcher.fetch_timeout() == pytest.approx(0.1)  # wait no longer than idle
    clock.advance(0.1)
    assert batcher.ready(fetched=False)


def test_the_fetch_never_waits_past_the_batch_age() -> None:
    clock = FakeClock()
    batcher = _batcher(clock)
    batcher.add("x", 1)
    clock.advance(0.95)
    assert batcher.fetch_timeout() == pytest.approx(0.05)
    clock.advance(0.5)  # overdue: still a short positive wait, never zero or negative
    assert batcher.fetch_timeout() == MIN_FETCH_WAIT_S
    assert batcher.ready(fetched=True)


def test_a_new_batch_starts_its_age_at_its_own_first_item() -> None:
    clock = FakeClock()
    batcher = _batcher(clock)
    batcher.add("old", 1)
    clock.advance(2)
    batcher.take()
    batcher.add("new", 1)
    clock.advance(0.5)
    assert not batcher.ready(fetched=True)
