"""Over-quota sites: the gateway learns flags from the `quotas` bucket and drops their beacons
(still 204, counted under `over_quota`); a cleared flag lets beacons through again."""

from __future__ import annotations

import json
import time

from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient
from tests.gateway.conftest import StreamReader, until
from tests.gateway.test_collect import beacon

from traytic.core import bus
from traytic.gateway.registry import OverQuotaSites


def flag(over: bool) -> bytes:
    return bus.QUOTA_ENCODER.encode(bus.QuotaFlag(over_quota=over, until=time.time() + 3600))


async def test_over_quota_site_is_dropped_then_accepted_when_cleared(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    nc: NatsClient,
    bus_settings: bus.BusSettings,
    site_id: str,
) -> None:
    quotas = await bus.ensure_quotas_bucket(nc.jetstream(), bus_settings)
    gateway = client.app.state.gateway
    over_quota: OverQuotaSites = gateway.over_quota

    await quotas.put(site_id, flag(True))
    await until(lambda: site_id in over_quota)
    response = await client.post("/collect", content=json.dumps(beacon(site_id)))
    assert response.status_code == 204
    assert gateway.metrics.rejected_by_reason["over_quota"] == 1
    assert gateway.metrics.events_over_quota == 4
    assert gateway.metrics.beacons_accepted == 0
    assert await reader.beacons(timeout=0.3) == []

    await quotas.put(site_id, flag(False))  # under quota again: present but not flagged
    await until(lambda: site_id not in over_quota)
    response = await client.post("/collect", content=json.dumps(beacon(site_id)))
    assert response.status_code == 204
    assert [b.site_id for b in await reader.beacons(expect=1)] == [site_id]

    await quotas.put(site_id, flag(True))
    await until(lambda: site_id in over_quota)
    await quotas.delete(site_id)
    await until(lambda: site_id not in over_quota)
    assert gateway.metrics.beacons_accepted == 1


async def test_flags_present_at_start_are_loaded_before_ready(
    nc: NatsClient, bus_settings: bus.BusSettings, site_id: str, gateway_settings: object
) -> None:
    from traytic.gateway.app import create_app

    quotas = await bus.ensure_quotas_bucket(nc.jetstream(), bus_settings)
    await quotas.put(site_id, flag(True))
    await quotas.put("st_unreadable", b"not json")
    app = create_app(gateway_settings, bus_settings)  # type: ignore[arg-type]
    async with AsyncTestClient(app) as test_client:
        over_quota = test_client.app.state.gateway.over_quota
        assert site_id in over_quota
        assert "st_unreadable" not in over_quota
        response = await test_client.post("/collect", content=json.dumps(beacon(site_id)))
        assert response.status_code == 204
        assert test_client.app.state.gateway.metrics.events_over_quota == 4
