"""The billing service's `/metrics` (on its metrics port only): webhook events by provider and status, requests by route."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from prometheus_client import CollectorRegistry

from tests.billing.conftest import (
    PAYSTACK_SECRET,
    paystack_webhook,
    polar_webhook,
    post,
    settings_for,
)
from tests.billing.payloads import paystack_charge_success, polar_subscription_event
from tests.db.conftest import (  # noqa: F401 - fixtures, reused by name
    _empty_tables,
    database_url,
    db,
    dialect,
    postgres_available,
    postgresql_url,
    sqlite_url,
)
from tests.metrics.conftest import sample, scrape
from traytic.billing.app import create_app
from traytic.core.embedded_nats import free_port
from traytic.db import Database, DbSettings


async def test_webhook_events_and_requests_are_counted(
    db: Database,  # noqa: F811 - empties the tables afterwards
    database_url: str,  # noqa: F811
    registry: CollectorRegistry,
) -> None:
    settings = settings_for(
        None, None, paystack_secret_key=PAYSTACK_SECRET, metrics_port=free_port()
    )
    app = create_app(settings, DbSettings(database_url=database_url), metrics_registry=registry)
    async with AsyncTestClient(app) as client:
        signed = paystack_webhook(paystack_charge_success())
        assert (await post(client, "/webhooks/paystack", signed)).status_code == 200
        assert (await post(client, "/webhooks/paystack", signed)).status_code == 200
        forged = paystack_webhook(paystack_charge_success(), secret="sk_test_wrong")
        assert (await post(client, "/webhooks/paystack", forged)).status_code == 401
        # Polar is not configured here: 404, and no webhook event counted for it.
        response = await post(
            client,
            "/webhooks/polar",
            polar_webhook(polar_subscription_event("subscription.created", status="active")),
        )
        assert response.status_code == 404
        text = await scrape(client)

    def events(provider: str, status: str) -> float:
        labels = {"provider": provider, "status": status}
        return sample(text, "traytic_billing_webhook_events_total", **labels)

    assert events("paystack", "verified") == 1
    assert events("paystack", "duplicate") == 1
    assert events("paystack", "rejected") == 1
    assert events("polar", "verified") == events("polar", "rejected") == 0

    def requests(route: str, status: str) -> float:
        labels = {"service": "billing", "method": "POST", "route": route, "status": status}
        return sample(text, "traytic_http_requests_total", **labels)

    assert requests("/webhooks/paystack", "200") == 2
    assert requests("/webhooks/paystack", "401") == 1
    assert requests("/webhooks/polar", "404") == 1
