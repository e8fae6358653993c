"""Every read of the stats and stream endpoints is charged: an API key against its own budget
(`api_key_rate_limit`), a signed-in person against theirs, an anonymous reader of a public site
or share page against their client address (`read_rate_limit`). A filtered query reads the raw
events instead of the rollups and costs `raw_scan_cost`; every other request costs 1.

Sliding windows in this process's memory: N replicas allow up to N times the limits. A request
that is refused, or that names an unknown site, still counts (a scraper pays for its guesses).
"""

from __future__ import annotations

from collections.abc import Mapping

from traytic.core.errors import RateLimited
from traytic.db.access import Caller
from traytic.query.rate_limit import SlidingWindowLimiter

FILTER_PARAMETERS = frozenset(
    {
        "path", "hostname", "source", "referrer", "channel", "utmSource", "utmMedium",
        "utmCampaign", "utmTerm", "utmContent", "country", "region", "city", "device",
        "browser", "os", "screen", "event", "prop", "segment",
    }
)  # fmt: skip
"""The stats API's filters: any of them sends the query to the raw events (see
`traytic.warehouse.stats.plan`)."""


def read_cost(query_parameters: Mapping[str, str], raw_scan_cost: int) -> int:
    if any(query_parameters.get(name) for name in FILTER_PARAMETERS):
        return raw_scan_cost
    return 1


def charge(limiter: SlidingWindowLimiter, key: str, cost: int, who: str) -> None:
    """Spend `cost` of `key`'s window, or 429 with `Retry-After` when it is spent."""
    if limiter.limit <= 0:
        return
    retry_after = limiter.retry_after(key, cost)
    if retry_after is not None:
        raise RateLimited(
            f"{who} may read {limiter.limit} units per {limiter.window_s:g} s (a filtered "
            "query costs more): wait and try again",
            retry_after=retry_after,
        )
    limiter.hit(key, cost)


def charge_read(
    *,
    key_limiter: SlidingWindowLimiter,
    read_limiter: SlidingWindowLimiter,
    caller: Caller | None,
    address: str,
    cost: int,
) -> None:
    if caller is not None and caller.api_key is not None:
        charge(key_limiter, str(caller.api_key.id), cost, "this API key")
    elif caller is not None:
        charge(read_limiter, caller.owner, cost, "you")
    else:
        charge(read_limiter, f"addr:{address}", cost, "this address")
