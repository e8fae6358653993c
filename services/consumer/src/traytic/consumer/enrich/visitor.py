"""Visitor, session and event ids: keyed or stable 64-bit hashes, never reversible to an IP.

The visitor id is a BLAKE2b MAC (key = the site's daily salt) over site id, IP and user agent:
without the salt, which is deleted after 48 h, nobody (us included) can recompute it from an IP.
Fields are joined with NUL, which none of them can contain (HTTP headers forbid it), so two
different field tuples never hash the same bytes. Ids are unsigned 64-bit (ClickHouse UInt64).
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

SALT_BYTES = 32
"""BLAKE2b accepts keys up to 64 bytes; 32 random bytes is already far beyond guessing."""


def new_salt() -> bytes:
    """A fresh random salt for one site-day (or one day for every site)."""
    return secrets.token_bytes(SALT_BYTES)


def _uint64(data: bytes, key: bytes = b"") -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8, key=key).digest(), "big")


def visitor_id(salt: bytes, site_id: str, ip: str, user_agent: str) -> int:
    """The daily visitor hash of (salt, site, IP, UA) as an unsigned 64-bit int."""
    data = b"\0".join((site_id.encode(), ip.encode(), user_agent.encode(errors="surrogatepass")))
    return _uint64(data, key=salt)


def session_id(visitor: int, started_at: int) -> int:
    """The id of the session a visitor started at `started_at` (Unix seconds).

    Derived rather than random so every consumer replica that reads the same session start from
    the shared KV computes the same id, and a redelivered batch writes the same rows.
    """
    return _uint64(b"s\0%d\0%d" % (visitor, started_at))


UINT64 = 0xFFFF_FFFF_FFFF_FFFF


def beacon_base(batch_id: str, beacon_index: int) -> int:
    """The id of a beacon's first event; its others follow (see `event_id`)."""
    return _uint64(b"e\0%s\0%d" % (batch_id.encode(), beacon_index))


_cached_base = lru_cache(maxsize=4096)(beacon_base)


def event_id(batch_id: str, beacon_index: int, event_index: int) -> int:
    """A stable id for one event of one JetStream message: redeliveries give the same id.

    One hash per beacon, plus the event's position (a beacon holds at most a few dozen events,
    so ids of one beacon never wrap into another's by more than chance allows 64-bit hashes).
    """
    return (_cached_base(batch_id, beacon_index) + event_index) & UINT64
