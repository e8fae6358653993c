"""A paid period that ends with no webhook at all (cancelled at period end, non-renewing, past
due) falls back to Free when it ends: in `GET /api/billing` at once, in `organisations.plan`
at the worker's next plan check, and in the quota flags right after. Time is a FakeClock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient

from tests.billing.conftest import (
    PAYSTACK_SECRET,
    MakeMember,
    paystack_webhook,
    polar_webhook,
    post,
    settings_for,
    stored_plan,
)
from tests.billing.payloads import (
    paystack_charge_success,
    paystack_subscription,
    paystack_subscription_event,
    polar_subscription_event,
)
from tests.billing.providers import PaystackStub, PolarStub
from tests.billing.test_quotas import add_sites, rows
from traytic.billing.app import Billing
from traytic.billing.providers.paystack_api import PaystackApi
from traytic.billing.quotas import QuotaFlags
from traytic.billing.worker import Worker
from traytic.core import bus
from traytic.core.clock import FakeClock
from traytic.db import Database, DbSettings
from traytic.db.repositories import organisations
from traytic.http.errors import EXCEPTION_HANDLERS
from traytic.warehouse import Warehouse

PERIOD_END = datetime(2026, 12, 28, 12, tzinfo=UTC)
PERIOD_END_ISO = "2026-12-28T12:00:00Z"
BEFORE = (PERIOD_END - timedelta(days=10)).timestamp()


class Clocked:
    """The billing app and a worker on one FakeClock; webhooks signed at the clock's time."""

    def __init__(
        self, db: Database, client: AsyncTestClient[Litestar], worker: Worker, clock: FakeClock
    ) -> None:
        self.db = db
        self.client = client
        self.worker = worker
        self.clock = clock

    async def deliver(self, provider: str, event: dict[str, Any]) -> None:
        signed = (
            polar_webhook(event, timestamp=int(self.clock.time()))
            if provider == "polar"
            else paystack_webhook(event)
        )
        response = await post(self.client, f"/webhooks/{provider}", signed)
        assert response.status_code == 200, response.text

    async def stored_plan(self, org_id: uuid.UUID) -> str:
        return await stored_plan(self.db, org_id)

    async def shown_plan(self, member: Any) -> str:
        response = await self.client.get("/api/billing", headers=member.headers())
        assert response.status_code == 200, response.text
        plan: str = response.json()["plan"]
        return plan


@pytest.fixture
async def clocked(
    db: Database,
    database_url: str,
    paystack: PaystackStub,
    polar: PolarStub,
) -> AsyncIterator[Clocked]:
    clock = FakeClock(BEFORE)
    settings = settings_for(paystack, polar)
    billing = Billing(settings, DbSettings(database_url=database_url), clock=clock.time)
    app = Litestar(
        route_handlers=billing.route_handlers,
        lifespan=[billing.lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=None,
    )
    api = PaystackApi(PAYSTACK_SECRET, paystack.url, timeout_s=5)
    try:
        async with AsyncTestClient(app) as client:
            yield Clocked(db, client, Worker(db, settings, api, clock=clock.time), clock)
    finally:
        await api.close()


async def subscribe(clocked: Clocked, paystack: PaystackStub, org_id: uuid.UUID, kind: str) -> None:
    """Pay, then leave the subscription in the state `kind` names, which keeps the plan until
    the period ends; no further event follows."""
    org, sub_id = str(org_id), str(uuid.uuid4())
    if kind == "paystack_non_renewing":
        code, reference = f"SUB_{org_id.hex[:8]}", f"tr_{org_id.hex[:8]}"
        charge = paystack_charge_success(reference=reference, org_id=org)
        paystack.transactions[reference] = charge["data"]
        paystack.subscriptions[code] = paystack_subscription(code=code, next_payment=PERIOD_END_ISO)
        await clocked.deliver("paystack", charge)
        await clocked.deliver(
            "paystack",
            paystack_subscription_event(
                "subscription.create", code=code, next_payment=PERIOD_END_ISO
            ),
        )
        await clocked.worker.run_once()
        paystack.subscriptions[code] = paystack_subscription(
            code=code, status="non-renewing", next_payment=None
        )
        await clocked.deliver(
            "paystack",
            paystack_subscription_event(
                "subscription.not_renew", code=code, status="non-renewing", next_payment=None
            ),
        )
    else:
        status, cancel = {
            "polar_active": ("active", False),
            "polar_cancel_at_period_end": ("active", True),
            "polar_past_due": ("past_due", False),
        }[kind]
        await clocked.deliver(
            "polar",
            polar_subscription_event(
                "subscription.updated",
                status=status,
                org_id=org,
                subscription_id=sub_id,
                period_end=PERIOD_END_ISO,
                cancel_at_period_end=cancel,
                customer_id=str(uuid.uuid4()),
            ),
        )
    await clocked.worker.run_once()


@pytest.mark.parametrize(
    "kind", ["polar_cancel_at_period_end", "polar_past_due", "paystack_non_renewing"]
)
async def test_a_period_that_ends_without_a_webhook_lapses_to_free(
    clocked: Clocked, make_member: MakeMember, paystack: PaystackStub, db: Database, kind: str
) -> None:
    lapsing, renewing, comped = [await make_member(country="NG") for _ in range(3)]
    await subscribe(clocked, paystack, lapsing.org_id, kind)
    await subscribe(clocked, paystack, renewing.org_id, "polar_active")
    async with db.session() as session:  # a plan set by hand, no subscription behind it
        organisation = await organisations.get_organisation(session, comped.org_id)
        assert organisation is not None
        await organisations.update_organisation(session, organisation, plan="team")
    assert await clocked.stored_plan(lapsing.org_id) == "pro"
    assert await clocked.shown_plan(lapsing) == "pro"
    assert await clocked.worker.lapse_plans() == []

    clocked.clock.advance(PERIOD_END.timestamp() - clocked.clock.time() - 1)
    assert await clocked.worker.lapse_plans() == []  # one second left
    clocked.clock.advance(2)
    assert await clocked.shown_plan(lapsing) == "free"  # decided at read time
    assert await clocked.stored_plan(lapsing.org_id) == "pro"  # until the plan check
    assert await clocked.worker.lapse_plans() == [lapsing.org_id]
    assert await clocked.stored_plan(lapsing.org_id) == "free"
    assert await clocked.worker.lapse_plans() == []
    # An active subscription is renewed by the provider (its renewal event may be late);
    # a plan given by hand is the operator's.
    assert await clocked.stored_plan(renewing.org_id) == "pro"
    assert await clocked.shown_plan(renewing) == "pro"
    assert await clocked.stored_plan(comped.org_id) == "team"


async def test_the_worker_loop_lapses_the_plan_and_the_quota_flag_follows(
    clocked: Clocked,
    make_member: MakeMember,
    paystack: PaystackStub,
    polar: PolarStub,
    db: Database,
    warehouse: Warehouse,
    nc: NatsClient,
    bus_settings: bus.BusSettings,
) -> None:
    member = await make_member(country="US")
    [site] = await add_sites(db, member.org_id, 1)
    await warehouse.insert_events(rows(site, 12_000, int(BEFORE)))  # over Free's 10k + 10 %
    await subscribe(clocked, paystack, member.org_id, "polar_cancel_at_period_end")
    quotas = QuotaFlags(db, warehouse, grace=0.1, clock=clocked.clock.time)
    kv = quotas.kv = await bus.ensure_quotas_bucket(nc.jetstream(), bus_settings)
    assert (await quotas.sync_all()).flagged == set()  # Pro: unlimited

    clocked.clock.advance(PERIOD_END.timestamp() - clocked.clock.time() + 60)
    worker = Worker(
        db,
        settings_for(paystack, polar, plan_check_s=3600.0),
        None,
        clock=clocked.clock.time,
        after_commit=quotas.refresh_after_plan_change,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(200):  # the loop checks plans as it starts
            if await bus.kv_keys(kv) == {site}:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert await bus.kv_keys(kv) == {site}
    assert await clocked.stored_plan(member.org_id) == "free"
    overview = (await clocked.client.get("/api/billing", headers=member.headers())).json()
    assert overview["plan"] == "free"
    assert overview["subscription"]["cancelAtPeriodEnd"] is True
