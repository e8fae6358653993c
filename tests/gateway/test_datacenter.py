"""Beacons sent from hosting networks (servers, not visitors) are dropped with 204 and counted
`datacenter`, unless the site turned the filter off; people behind VPNs and Apple's Private
Relay are kept. The networks come from the table the `iporigin` package ships."""

from __future__ import annotations

import json
from collections.abc import Callable

from litestar.testing import AsyncTestClient
from nats.js.kv import KeyValue
from tests.gateway.conftest import StreamReader, from_address, until

from traytic.core.sites import create_site
from traytic.gateway.datacenter import DatacenterRanges

AWS = "52.95.110.1"
HETZNER_V6 = "2a01:4f8::1"
GOOGLEBOT = "66.249.66.1"
PRIVATE_RELAY = "172.224.226.1"
HOME = "81.2.69.142"


def test_the_shipped_table_knows_hosting_networks_from_people() -> None:
    ranges = DatacenterRanges()
    assert ranges.load()["ranges"] > 10_000  # type: ignore[operator]
    assert AWS in ranges and HETZNER_V6 in ranges and GOOGLEBOT in ranges
    assert PRIVATE_RELAY not in ranges and HOME not in ranges
    assert "127.0.0.1" not in ranges and "" not in ranges and "not an ip" not in ranges


def pageview(site_id: str, n: int) -> bytes:
    url = f"https://example.com/{n}"
    return json.dumps({"siteId": site_id, "events": [{"type": "pageview", "url": url}]}).encode()


async def test_hosting_networks_are_dropped_and_people_are_kept(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
) -> None:
    sends = [(AWS, {}), (HETZNER_V6, {}), (GOOGLEBOT, {})]
    # The same through a trusted proxy (10.0.0.0/8 in these tests): the forwarded client counts.
    sends += [("10.0.0.5", {"x-forwarded-for": AWS}), ("10.0.0.5", {"x-forwarded-for": HOME})]
    sends += [(PRIVATE_RELAY, {})]
    for n, (peer, headers) in enumerate(sends):
        response = await client.post(
            "/collect", content=pageview(site_id, n), headers=from_address(peer, **headers)
        )
        assert response.status_code == 204

    landed = await reader.beacons(expect=2)
    assert sorted((b.ip, b.events[0].url) for b in landed) == [
        (PRIVATE_RELAY, "https://example.com/5"),
        (HOME, "https://example.com/4"),
    ]
    stats = client.app.state.gateway.metrics
    assert stats.rejected_by_reason["datacenter"] == 4
    assert stats.events_dropped["datacenter"] == 4


async def test_a_site_that_turns_the_filter_off_keeps_servers(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    sites_kv: KeyValue,
) -> None:
    monitored = await create_site(sites_kv, "example.com", filter_datacenter=False)
    registry = client.app.state.gateway.registry
    await until(lambda: monitored.site_id in registry)
    response = await client.post(
        "/collect", content=pageview(monitored.site_id, 1), headers=from_address(AWS)
    )
    assert response.status_code == 204
    [landed] = await reader.beacons(expect=1)
    assert landed.ip == AWS


async def test_the_gateway_setting_turns_the_filter_off_everywhere(
    gateway_with: Callable[..., AsyncTestClient],  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
) -> None:
    async with gateway_with(filter_datacenter=False) as client:
        response = await client.post(
            "/collect", content=pageview(site_id, 1), headers=from_address(AWS)
        )
        assert response.status_code == 204
    assert [b.ip for b in await reader.beacons(expect=1)] == [AWS]
