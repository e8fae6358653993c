"""Rate limits at the edge, per client address and per site, held across gateway replicas: a
flood from one address gets 429 with Retry-After and never starves other senders, and a site's
limit counts only beacons that passed every other check."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from litestar.testing import AsyncTestClient
from tests.gateway.conftest import StreamReader, from_address, until

from traytic.gateway.rate_limit import TokenBuckets

# ---- the buckets alone, on a clock the test moves


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_gives_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(2.0, 3, clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # one token comes in half a second
    assert buckets.take("b") == 0.0  # another key has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    clock.now += 60
    assert [buckets.take("a") for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # capped at the burst


def test_spending_elsewhere_is_charged_and_can_run_into_debt() -> None:
    clock = Clock()
    buckets = TokenBuckets(1.0, 5, clock)
    buckets.spend("a", 4)
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(1.0)
    buckets.spend("a", 100)  # a flood through other replicas: at most a burst of debt
    assert buckets.take("a") == pytest.approx(6.0)
    clock.now += 6
    assert buckets.take("a") == 0.0


def test_reports_wait_for_keys_to_reach_the_minimum_and_start_afresh() -> None:
    clock = Clock()
    buckets = TokenBuckets(10.0, 100, clock, report_min=2)
    for key in ("flood", "flood", "flood", "visitor", "slow"):
        buckets.take(key)
    assert buckets.report() == {"flood": 3}
    assert buckets.report() == {}
    buckets.take("slow")  # one a round: carried over until it reaches the minimum
    assert buckets.report() == {"slow": 2}
    assert not buckets.unreported
    buckets.take("flood")  # reported before: each token is reported from now on
    assert buckets.report() == {"flood": 1}


def test_sweep_forgets_full_buckets_only() -> None:
    clock = Clock()
    buckets = TokenBuckets(1.0, 10, clock)
    buckets.take("old")
    clock.now += 2
    for _ in range(5):
        buckets.take("busy")
    assert buckets.sweep() == 1
    assert len(buckets) == 1


# ---- through the gateway


def pageview(site_id: str, n: int, host: str = "example.com") -> bytes:
    event = {"type": "pageview", "url": f"https://{host}/{n}"}
    return json.dumps({"siteId": site_id, "events": [event]}).encode()


async def send(
    client: AsyncTestClient,  # type: ignore[type-arg]
    site_id: str,
    address: str,
    n: int,
    host: str = "example.com",
) -> int:
    """POST one pageview from `address`; the status code."""
    body = pageview(site_id, n, host)
    response = await client.post("/collect", content=body, headers=from_address(address))
    return response.status_code


FLOOD = "198.51.100.66"
VISITOR = "203.0.113.7"


async def test_a_flood_from_one_address_gets_429_and_others_are_served(
    gateway_with: Callable[..., AsyncTestClient],  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
) -> None:
    async with gateway_with(rate_limit_ip_per_s=0.5, rate_limit_ip_burst=5) as client:
        flood = [
            client.post("/collect", content=pageview(site_id, n), headers=from_address(FLOOD))
            for n in range(40)
        ]
        visitors = [
            client.post(
                "/collect",
                content=pageview(site_id, 100 + n),
                headers=from_address(f"{VISITOR}{n}"),
            )
            for n in range(3)
        ]
        responses = await asyncio.gather(*flood, *visitors)
        stats = client.app.state.gateway.metrics
        assert stats.rejected_by_reason["rate_limited_ip"] == 35
    flood_codes = [r.status_code for r in responses[:40]]
    assert flood_codes.count(204) == 5 and flood_codes.count(429) == 35
    refused = next(r for r in responses[:40] if r.status_code == 429)
    assert refused.json()["error"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["access-control-allow-origin"] == "*"
    assert [r.status_code for r in responses[40:]] == [204] * 3
    landed = await reader.beacons(expect=8)
    assert len(landed) == 8
    assert sum(b.ip == FLOOD for b in landed) == 5


async def test_a_site_limit_counts_only_beacons_that_passed_the_other_checks(
    gateway_with: Callable[..., AsyncTestClient],  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
) -> None:
    async with gateway_with(rate_limit_site_per_s=0.1, rate_limit_site_burst=3) as client:
        # Copied snippets and servers: dropped before the site's limit, so they spend none of it.
        for n in range(20):
            assert await send(client, site_id, VISITOR, n, host="copycat.test") == 204
            assert await send(client, site_id, "3.5.140.1", n) == 204  # AWS
        codes = [await send(client, site_id, f"192.0.2.{n}", n) for n in range(5)]
        stats = client.app.state.gateway.metrics
    assert codes == [204, 204, 204, 429, 429]
    assert stats.rejected_by_reason["rate_limited_site"] == 2
    assert len(await reader.beacons(expect=3)) == 3


async def test_limits_hold_across_replicas(
    gateway_with: Callable[..., AsyncTestClient],  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
) -> None:
    limits = {
        "rate_limit_ip_per_s": 0.05,
        "rate_limit_ip_burst": 4,
        "rate_limit_site_per_s": 0.05,
        "rate_limit_site_burst": 6,
        "rate_limit_sync_s": 0.05,
    }
    one, two = gateway_with(**limits), gateway_with(**limits)
    async with one, two:

        async def shared(sender: AsyncTestClient, receiver: AsyncTestClient) -> None:  # type: ignore[type-arg]
            """Wait until `receiver` applied every round `sender` published (and it has none
            left to publish)."""
            out = sender.app.state.gateway.rate_sync
            into = receiver.app.state.gateway.rate_sync
            await until(lambda: not out.pending and into.rounds_applied == out.rounds_published)

        # The flooding address spends its burst on replica one...
        assert [await send(one, site_id, FLOOD, n) for n in range(4)] == [204] * 4
        await shared(one, two)
        # ...and replica two knows: without sharing, it would give the address a burst of its own.
        assert await send(two, site_id, FLOOD, 4) == 429
        assert await send(two, site_id, VISITOR, 5) == 204
        # The site's limit (6) is shared too: 5 spent so far, one left in the whole cluster.
        await shared(two, one)
        assert await send(one, site_id, "192.0.2.1", 6) == 204
        await shared(one, two)
        assert await send(two, site_id, "192.0.2.2", 7) == 429
    assert len(await reader.beacons(expect=6)) == 6


async def test_own_networks_are_exempt_from_the_address_limit_unless_configured(
    gateway_with: Callable[..., AsyncTestClient],  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
) -> None:
    async with gateway_with(rate_limit_ip_per_s=0.1, rate_limit_ip_burst=2) as client:
        for address in ("127.0.0.1", "192.168.1.20", "::1"):
            codes = [await send(client, site_id, address, n) for n in range(4)]
            assert codes == [204] * 4, address
    strict = {"rate_limit_ip_per_s": 0.1, "rate_limit_ip_burst": 2, "rate_limit_exempt": []}
    async with gateway_with(**strict) as client:
        codes = [await send(client, site_id, "127.0.0.1", n) for n in range(4)]
    assert codes == [204, 204, 429, 429]
    assert len(await reader.beacons(expect=14)) == 14
