"""`traytic dev`: one app, one metrics port, every service's metrics in the one registry, and no
`/metrics` on the public port."""

from __future__ import annotations

import asyncio

from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from tests.metrics.conftest import sample, scrape
from tests.query.conftest import fast_settings
from traytic.alerts import AlertsSettings
from traytic.billing.app import Billing
from traytic.billing.settings import BillingSettings
from traytic.cli.dev import DevServices, build_dev_app
from traytic.consumer.settings import ConsumerSettings
from traytic.core import bus
from traytic.core.embedded_nats import free_port
from traytic.core.sites import create_site
from traytic.db import DbSettings
from traytic.gateway.app import Gateway
from traytic.gateway.settings import GatewaySettings
from traytic.http.errors import EXCEPTION_HANDLERS
from traytic.http.metrics import metrics_lifespan
from traytic.query.app import Query
from traytic.warehouse import WarehouseSettings


def test_the_dev_app_has_no_metrics_route_on_its_public_port() -> None:
    services = DevServices(
        gateway=GatewaySettings(),
        query=fast_settings(),
        billing=BillingSettings(),
        consumer=ConsumerSettings(),
        warehouse=WarehouseSettings(),
        db=DbSettings(),
        alerts=AlertsSettings(),
    )
    app = build_dev_app(services, bus.BusSettings())
    assert [route for route in app.routes if route.path == "/metrics"] == []


async def test_services_mounted_together_share_one_exposition(
    nc: NatsClient, bus_settings: bus.BusSettings, tmp_path: object, registry: CollectorRegistry
) -> None:
    from litestar import Litestar

    db = DbSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/dev.db")
    gateway = Gateway(GatewaySettings(), bus_settings, metrics_registry=registry)
    query = Query(
        fast_settings(migrate_on_start=True),
        db,
        bus_settings,
        WarehouseSettings(chdb_path=f"{tmp_path}/chdb"),
        metrics_registry=registry,
    )
    billing = Billing(BillingSettings(), db, metrics_registry=registry)
    app = Litestar(
        route_handlers=[*gateway.route_handlers, *query.route_handlers, *billing.route_handlers],
        lifespan=[
            metrics_lifespan(registry, "127.0.0.1", free_port()),
            query.lifespan,
            billing.lifespan,
            gateway.lifespan,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    async with AsyncTestClient(app) as client:
        # After start-up: the query service rebuilds the sites bucket from its database.
        kv = await bus.ensure_sites_bucket(nc.jetstream(), bus_settings)
        site_id = (await create_site(kv, "example.com")).site_id
        for _ in range(100):
            if site_id in gateway.registry:
                break
            await asyncio.sleep(0.02)
        body = f'{{"siteId":"{site_id}","events":[{{"type":"pageview","url":"https://example.com/"}}]}}'
        assert (await client.post("/collect", content=body)).status_code == 204
        assert (await client.post("/webhooks/paystack", content=b"{}")).status_code == 404
        text = await scrape(client)
    names = [family.name for family in text_string_to_metric_families(text)]
    assert len(names) == len(set(names))  # each family once
    assert sample(text, "traytic_gateway_beacons_accepted_total") == 1
    assert sample(text, "traytic_query_sse_clients") == 0
    assert sample(text, "traytic_billing_webhook_events_total", provider="paystack") == 0
    labels = {"service": "billing", "route": "/webhooks/paystack", "status": "404"}
    assert sample(text, "traytic_http_requests_total", **labels) == 1
