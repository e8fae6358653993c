"""Each provider end to end: checkout → the provider's signed webhooks (from its stand-in, built
from what our checkout sent) → the worker in the service applies them → the plan in
`GET /api/billing` → the over-quota flag in the `quotas` KV bucket cleared, and set again when
the subscription ends. Real database, NATS and both ClickHouse engines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient

from tests.billing.conftest import MakeMember, Member, settings_for
from tests.billing.providers import Delivery, PaystackStub, PolarStub
from tests.billing.test_quotas import add_sites, rows
from traytic.billing.app import create_app
from traytic.billing.usage import month_bounds
from traytic.core import bus
from traytic.db import Database, DbSettings
from traytic.warehouse import Warehouse, WarehouseSettings

PERIOD_END = "2099-01-28T00:00:00.000Z"


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


class Billing:
    def __init__(self, client: AsyncTestClient[Litestar], member: Member) -> None:
        self.client = client
        self.member = member

    async def view(self) -> Any:
        response = await self.client.get("/api/billing", headers=self.member.headers())
        assert response.status_code == 200, response.text
        return response.json()

    async def deliver(self, provider: str, delivery: Delivery) -> None:
        body, headers = delivery
        response = await self.client.post(f"/webhooks/{provider}", content=body, headers=headers)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(("provider", "country"), [("paystack", "NG"), ("polar", "DE")])
async def test_checkout_webhook_plan_and_quota_flag(
    provider: str,
    country: str,
    db: Database,
    database_url: str,
    make_member: MakeMember,
    paystack: PaystackStub,
    polar: PolarStub,
    warehouse: Warehouse,
    warehouse_settings: WarehouseSettings,
    nc: NatsClient,
    bus_settings: bus.BusSettings,
) -> None:
    owner = await make_member(country=country)
    [site] = await add_sites(db, owner.org_id, 1)
    await warehouse.insert_events(rows(site, 10_000, month_bounds(time.time())[0] + 1))
    settings = settings_for(
        paystack, polar, run_worker=True, quota_grace=0.0, quota_interval_s=3600.0
    )
    server = warehouse_settings.clickhouse_url is not None
    app = create_app(
        settings,
        DbSettings(database_url=database_url),
        bus_settings=bus_settings,
        warehouse_settings=warehouse_settings if server else None,
    )
    if not server:  # chDB: one per process, shared as a host shares it
        app.state.warehouse = warehouse
    kv = await bus.ensure_quotas_bucket(nc.jetstream(), bus_settings)

    async def flagged() -> bool:
        return site in await bus.kv_keys(kv)

    async def unflagged() -> bool:
        return not await flagged()

    async with AsyncTestClient(app) as client:
        billing = Billing(client, owner)
        await eventually(flagged)  # Free and at 10k: over quota
        before = await billing.view()
        assert (before["plan"], before["status"], before["subscription"]) == ("free", "free", None)
        assert before["usage"] == {
            "eventsThisMonth": 10_000,
            "eventsLimit": 10_000,
            "overQuota": True,
        }

        response = await client.post(
            "/api/billing/checkout", json={"plan": "team"}, headers=owner.headers()
        )
        assert response.status_code == 200, response.text
        assert response.json()["provider"] == provider
        if provider == "paystack":
            deliveries = paystack.complete_checkout(
                subscription_code="SUB_life", next_payment=PERIOD_END
            )
        else:
            deliveries = polar.complete_checkout(period_end=PERIOD_END)
        for delivery in deliveries:
            await billing.deliver(provider, delivery)

        async def on_team() -> bool:  # both deliveries applied (one round or two)
            view = await billing.view()
            return bool(view["plan"] == "team" and view["invoices"])

        await eventually(on_team)
        await eventually(unflagged)  # the worker refreshed the flags after the change
        paid = await billing.view()
        assert paid["status"] == "active"
        assert paid["subscription"]["provider"] == provider
        assert paid["subscription"]["plan"] == "team"
        assert paid["currentPeriodEnd"].startswith("2099-01-28")
        assert paid["usage"] == {"eventsThisMonth": 10_000, "eventsLimit": None, "overQuota": False}
        assert [i["status"] for i in paid["invoices"]] == ["paid"]
        assert paid["manageUrl"]

        cancel = (
            paystack.cancel("SUB_life")
            if provider == "paystack"
            else polar.cancel(str(owner.org_id))
        )
        await billing.deliver(provider, cancel)

        async def on_free() -> bool:
            return bool((await billing.view())["plan"] == "free")

        await eventually(on_free)
        await eventually(flagged)
        ended = await billing.view()
        assert ended["usage"]["overQuota"] is True
