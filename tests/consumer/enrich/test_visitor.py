"""Visitor, session and event ids: keyed, stable, 64-bit, and separated by every input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from traytic.consumer.enrich.visitor import (
    SALT_BYTES,
    event_id,
    new_salt,
    session_id,
    visitor_id,
)

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SALT = bytes(range(32))

UINT64 = st.integers(min_value=0, max_value=2**64 - 1)


def test_new_salt_is_random_and_sized() -> None:
    salts = {new_salt() for _ in range(10)}
    assert len(salts) == 10
    assert all(len(salt) == SALT_BYTES for salt in salts)


def test_visitor_id_is_stable_within_a_salt() -> None:
    assert visitor_id(SALT, "st_a", "203.0.113.7", UA) == visitor_id(
        SALT, "st_a", "203.0.113.7", UA
    )


def test_visitor_id_changes_with_every_input() -> None:
    base = visitor_id(SALT, "st_a", "203.0.113.7", UA)
    assert visitor_id(new_salt(), "st_a", "203.0.113.7", UA) != base
    assert visitor_id(SALT, "st_b", "203.0.113.7", UA) != base
    assert visitor_id(SALT, "st_a", "203.0.113.8", UA) != base
    assert visitor_id(SALT, "st_a", "203.0.113.7", UA + " ") != base


def test_fields_cannot_shift_into_each_other() -> None:
    assert visitor_id(SALT, "st_a1", "2.3.4.5", UA) != visitor_id(SALT, "st_a", "12.3.4.5", UA)


@given(
    salt=st.binary(min_size=1, max_size=64),
    site=st.text(max_size=64),
    ip=st.text(max_size=45),
    ua=st.text(max_size=1000),
)
def test_visitor_id_is_uint64(salt: bytes, site: str, ip: str, ua: str) -> None:
    assert 0 <= visitor_id(salt, site, ip, ua) < 2**64


@given(visitor=UINT64, started_at=st.integers(min_value=0, max_value=2**40))
def test_session_id_is_uint64_and_deterministic(visitor: int, started_at: int) -> None:
    sid = session_id(visitor, started_at)
    assert 0 <= sid < 2**64
    assert sid == session_id(visitor, started_at)


def test_session_id_depends_on_visitor_and_start() -> None:
    assert session_id(1, 1_700_000_000) != session_id(2, 1_700_000_000)
    assert session_id(1, 1_700_000_000) != session_id(1, 1_700_001_800)


def test_event_ids_are_distinct_within_and_across_batches() -> None:
    ids = {event_id(batch, b, e) for batch in ("a-1", "a-2") for b in range(20) for e in range(20)}
    assert len(ids) == 2 * 20 * 20
    assert event_id("a-1", 1, 11) != event_id("a-1", 11, 1)
    assert all(0 <= i < 2**64 for i in ids)


def test_event_id_is_stable_across_processes() -> None:
    """Not Python's randomised `hash()`: a redelivery in another process must give the same id.
    The expected value is BLAKE2b-64 of the beacon's documented byte layout plus the event's
    position, recomputed here."""
    import hashlib

    base = int.from_bytes(hashlib.blake2b(b"e\0batch-7\x003", digest_size=8).digest(), "big")
    assert event_id("batch-7", 3, 5) == (base + 5) % 2**64
    assert event_id("batch-7", 3, 0) != event_id("batch-7", 4, 0)
