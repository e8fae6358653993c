"""The gateway's `/metrics` (on its metrics port only): /collect outcomes counted exactly,
publishes per batch."""

from __future__ import annotations

import json

from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient
from prometheus_client import CollectorRegistry

from tests.metrics.conftest import sample, scrape
from traytic.core import bus
from traytic.core.embedded_nats import free_port
from traytic.core.sites import create_site
from traytic.gateway.app import create_app
from traytic.gateway.settings import GatewaySettings


def _beacon(site_id: str, events: int = 2) -> bytes:
    pageview = {"type": "pageview", "url": "https://example.com/"}
    return json.dumps({"siteId": site_id, "events": [pageview] * events}).encode()


async def test_collect_outcomes_move_by_exactly_what_was_sent(
    nc: NatsClient, bus_settings: bus.BusSettings, registry: CollectorRegistry
) -> None:
    kv = await bus.ensure_sites_bucket(nc.jetstream(), bus_settings)
    site_id = (await create_site(kv, "example.com")).site_id
    settings = GatewaySettings(metrics_port=free_port())
    app = create_app(settings, bus_settings, metrics_registry=registry)
    async with AsyncTestClient(app) as client:
        before = await scrape(client)
        assert sample(before, "traytic_gateway_beacons_accepted_total") == 0
        assert sample(before, "traytic_gateway_beacons_rejected_total", reason="invalid") == 0

        for _ in range(3):
            assert (await client.post("/collect", content=_beacon(site_id))).status_code == 204
        for _ in range(2):
            response = await client.post("/collect", content=b'{"siteId": 1}')
            assert response.status_code == 400
        response = await client.post("/collect", content=_beacon("st_doesnotexist", events=4))
        assert response.status_code == 204
        response = await client.post(
            "/collect", content=_beacon(site_id), headers={"content-type": "image/png"}
        )
        assert response.status_code == 415

        text = await scrape(client)
    assert sample(text, "traytic_gateway_beacons_accepted_total") == 3
    assert sample(text, "traytic_gateway_events_accepted_total") == 6
    assert sample(text, "traytic_gateway_beacons_rejected_total", reason="invalid") == 2
    assert sample(text, "traytic_gateway_beacons_rejected_total", reason="unknown_site") == 1
    assert (
        sample(text, "traytic_gateway_beacons_rejected_total", reason="unsupported_media_type") == 1
    )
    assert sample(text, "traytic_gateway_beacons_rejected_total", reason="too_large") == 0
    assert sample(text, "traytic_gateway_events_dropped_total", reason="unknown_site") == 4
    assert sample(text, "traytic_gateway_beacons_published_total") == 3
    messages = sample(text, "traytic_gateway_messages_published_total")
    assert 1 <= messages <= 3
    assert sample(text, "traytic_gateway_publish_seconds_count") == messages
    assert sample(text, "traytic_gateway_beacons_per_message_sum") == 3
    assert sample(text, "traytic_gateway_publish_failures_total") == 0


async def test_collectors_leave_the_registry_with_the_app(
    bus_settings: bus.BusSettings, registry: CollectorRegistry
) -> None:
    app = create_app(GatewaySettings(metrics_port=0), bus_settings, metrics_registry=registry)
    async with AsyncTestClient(app):
        assert registry.get_sample_value("traytic_gateway_beacons_accepted_total") == 0
    assert registry.get_sample_value("traytic_gateway_beacons_accepted_total") is None
    # A second app on the same registry starts cleanly (tests, reloads).
    async with AsyncTestClient(
        create_app(GatewaySettings(metrics_port=0), bus_settings, metrics_registry=registry)
    ):
        pass
