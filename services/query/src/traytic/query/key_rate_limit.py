"""The per-API-key request limit of the stats and stream endpoints: a sliding window in this
process's memory (the login limiter's), so each replica counts on its own and N replicas allow
up to N times `api_key_rate_limit` a minute. Sessions and public readers are not limited here."""

from __future__ import annotations

from traytic.core.errors import RateLimited
from traytic.query.rate_limit import SlidingWindowLimiter


def charge_api_key(limiter: SlidingWindowLimiter, key_id: str) -> None:
    """Count one request of the key, or 429 with `Retry-After` when its window is full."""
    if limiter.limit <= 0:
        return
    retry_after = limiter.retry_after(key_id)
    if retry_after is not None:
        raise RateLimited(
            f"this API key may make {limiter.limit} requests per {limiter.window_s:g} s",
            retry_after=retry_after,
        )
    limiter.hit(key_id)
