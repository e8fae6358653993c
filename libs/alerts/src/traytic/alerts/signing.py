"""Webhook signatures: HMAC-SHA256 over `"<timestamp>.<body>"` with the recipient's secret.

Sent as `Traytic-Signature: t=<unix seconds>,v1=<hex digest>`. A receiver recomputes the
digest over the raw body it got, compares in constant time, and refuses a timestamp more than
five minutes old (a replayed request); the README shows how.
"""

from __future__ import annotations

import hashlib
import hmac

TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float) -> bool:
    """What a receiver does (the tests use it as one would)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > TOLERANCE_S:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, header)
