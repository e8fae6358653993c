"""The worker applies stored events: each lifecycle, out of order, retried after a failure."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from tests.billing.conftest import (
    PAYSTACK_SECRET,
    MakeMember,
    paystack_webhook,
    polar_webhook,
    post,
    running,
    settings_for,
    stored_plan,
)
from tests.billing.payloads import (
    paystack_charge_success,
    paystack_invoice_event,
    paystack_subscription,
    paystack_subscription_event,
    polar_order_paid,
    polar_subscription_event,
)
from tests.billing.providers import PaystackStub, PolarStub
from traytic.billing.providers.paystack_api import PaystackApi
from traytic.billing.worker import Worker
from traytic.db import Database
from traytic.db.models import Invoice, Organisation, Subscription, WebhookEvent


class Harness:
    def __init__(self, db: Database, worker: Worker, client: AsyncTestClient[Litestar]) -> None:
        self.db = db
        self.worker = worker
        self.client = client

    async def deliver_paystack(self, event: dict[str, Any]) -> None:
        response = await post(self.client, "/webhooks/paystack", paystack_webhook(event))
        assert response.status_code == 200, response.text

    async def deliver_polar(self, event: dict[str, Any]) -> None:
        response = await post(self.client, "/webhooks/polar", polar_webhook(event))
        assert response.status_code == 200, response.text

    async def plan(self, org_id: uuid.UUID) -> str:
        return await stored_plan(self.db, org_id)

    async def rows(self, model: Any) -> list[Any]:
        async with self.db.session() as session:
            return list((await session.exec(select(model))).all())


@pytest.fixture
async def paystack_api(paystack: PaystackStub) -> AsyncIterator[PaystackApi]:
    api = PaystackApi(PAYSTACK_SECRET, paystack.url, timeout_s=5)
    yield api
    await api.close()


@pytest.fixture
def harness(
    db: Database,
    client: AsyncTestClient[Litestar],
    paystack: PaystackStub,
    polar: PolarStub,
    paystack_api: PaystackApi,
) -> Harness:
    worker = Worker(db, settings_for(paystack, polar), paystack_api)
    return Harness(db, worker, client)


FUTURE = "2099-01-28T00:00:00.000Z"


async def test_polar_lifecycle(harness: Harness, make_member: MakeMember) -> None:
    member = await make_member()
    org = str(member.org_id)
    await harness.deliver_polar(
        polar_subscription_event(
            "subscription.created",
            status="incomplete",
            org_id=org,
            modified_at="2026-11-28T12:00:00Z",
            period_end=FUTURE,
        )
    )
    await harness.worker.run_once()
    assert await harness.plan(member.org_id) == "free"

    await harness.deliver_polar(
        polar_subscription_event(
            "subscription.active",
            status="active",
            org_id=org,
            modified_at="2026-11-28T12:00:01Z",
            period_end=FUTURE,
        )
    )
    await harness.deliver_polar(polar_order_paid(org_id=org))
    await harness.worker.run_once()
    assert await harness.plan(member.org_id) == "pro"
    [invoice] = await harness.rows(Invoice)
    assert (invoice.status, invoice.amount, invoice.currency) == ("paid", 900, "USD")
    assert invoice.paid_at is not None

    await harness.deliver_polar(
        polar_subscription_event(
            "subscription.canceled",
            status="active",
            org_id=org,
            modified_at="2026-11-28T13:00:00Z",
            period_end=FUTURE,
            cancel_at_period_end=True,
        )
    )
    await harness.worker.run_once()
    assert await harness.plan(member.org_id) == "pro", "cancelled at period end keeps the plan"

    await harness.deliver_polar(
        polar_subscription_event(
            "subscription.revoked",
            status="canceled",
            org_id=org,
            modified_at="2026-11-28T14:00:00Z",
            period_end=FUTURE,
        )
    )
    await harness.worker.run_once()
    assert await harness.plan(member.org_id) == "free"
    events = await harness.rows(WebhookEvent)
    assert all(event.processed_at is not None for event in events)


async def test_polar_events_in_reverse_order_reach_the_same_state(
    harness: Harness, make_member: MakeMember
) -> None:
    member = await make_member()
    org = str(member.org_id)
    events = [
        polar_subscription_event(
            "subscription.created",
            status="active",
            org_id=org,
            modified_at="2026-11-28T12:00:00Z",
            period_end=FUTURE,
            product_id="prod_team",
        ),
        polar_subscription_event(
            "subscription.updated",
            status="past_due",
            org_id=org,
            modified_at="2026-11-29T12:00:00Z",
            period_end=FUTURE,
            product_id="prod_team",
        ),
        polar_subscription_event(
            "subscription.revoked",
            status="canceled",
            org_id=org,
            modified_at="2026-11-30T12:00:00Z",
            period_end="2026-11-30T12:00:00Z",
            product_id="prod_team",
        ),
    ]
    for event in reversed(events):
        await harness.deliver_polar(event)
        await harness.worker.run_once()
    [subscription] = await harness.rows(Subscription)
    assert subscription.status == "canceled"
    assert await harness.plan(member.org_id) == "free"


async def test_paystack_lifecycle(
    harness: Harness, make_member: MakeMember, paystack: PaystackStub
) -> None:
    member = await make_member(country="NG")
    charge = paystack_charge_success(reference="tr_1", org_id=str(member.org_id))
    paystack.transactions["tr_1"] = charge["data"]
    paystack.subscriptions["SUB_1"] = paystack_subscription(code="SUB_1", next_payment=FUTURE)
    await harness.deliver_paystack(charge)
    await harness.deliver_paystack(
        paystack_subscription_event("subscription.create", code="SUB_1", next_payment=FUTURE)
    )
    assert await harness.worker.run_once() == 2
    assert await harness.plan(member.org_id) == "pro"
    [invoice] = await harness.rows(Invoice)
    assert (invoice.status, invoice.amount, invoice.currency) == ("paid", 10000, "NGN")

    # A failed renewal: the invoice fails, Paystack puts the subscription in `attention`,
    # which keeps the plan until the period ends.
    paystack.subscriptions["SUB_1"] = paystack_subscription(
        code="SUB_1", status="attention", next_payment=FUTURE
    )
    await harness.deliver_paystack(
        paystack_invoice_event(
            "invoice.payment_failed",
            code="INV_2",
            status="failed",
            paid=False,
            subscription_code="SUB_1",
        )
    )
    await harness.worker.run_once()
    invoices = {row.provider_invoice_id: row for row in await harness.rows(Invoice)}
    assert invoices["INV_2"].status == "failed"
    [subscription] = await harness.rows(Subscription)
    assert subscription.status == "attention"
    assert await harness.plan(member.org_id) == "pro"

    # The customer cancels: non-renewing (no next payment date any more) keeps the period.
    paystack.subscriptions["SUB_1"] = paystack_subscription(
        code="SUB_1", status="non-renewing", next_payment=None
    )
    await harness.deliver_paystack(
        paystack_subscription_event(
            "subscription.not_renew", code="SUB_1", status="non-renewing", next_payment=None
        )
    )
    await harness.worker.run_once()
    [subscription] = await harness.rows(Subscription)
    assert subscription.status == "non-renewing"
    assert subscription.current_period_end == datetime(2099, 1, 28, tzinfo=UTC)
    assert await harness.plan(member.org_id) == "pro"

    paystack.subscriptions["SUB_1"] = paystack_subscription(
        code="SUB_1", status="cancelled", next_payment=None
    )
    await harness.deliver_paystack(
        paystack_subscription_event(
            "subscription.disable", code="SUB_1", status="cancelled", next_payment=None
        )
    )
    await harness.worker.run_once()
    assert await harness.plan(member.org_id) == "free"


async def test_paystack_stale_event_applies_the_current_state(
    harness: Harness, make_member: MakeMember, paystack: PaystackStub
) -> None:
    """subscription.create arriving after subscription.disable cannot resurrect it: the worker
    applies what Paystack says now."""
    member = await make_member(country="NG")
    charge = paystack_charge_success(reference="tr_2", org_id=str(member.org_id))
    paystack.transactions["tr_2"] = charge["data"]
    paystack.subscriptions["SUB_2"] = paystack_subscription(
        code="SUB_2", status="complete", next_payment=None
    )
    await harness.deliver_paystack(charge)
    await harness.deliver_paystack(
        paystack_subscription_event(
            "subscription.disable", code="SUB_2", status="complete", next_payment=None
        )
    )
    await harness.deliver_paystack(
        paystack_subscription_event("subscription.create", code="SUB_2", next_payment=FUTURE)
    )
    await harness.worker.run_once()
    [subscription] = await harness.rows(Subscription)
    assert subscription.status == "complete"
    assert await harness.plan(member.org_id) == "free"


async def test_paid_invoice_is_not_regressed_by_an_older_event(
    harness: Harness, make_member: MakeMember, paystack: PaystackStub
) -> None:
    member = await make_member(country="NG")
    charge = paystack_charge_success(reference="tr_3", org_id=str(member.org_id))
    paystack.transactions["tr_3"] = charge["data"]
    paystack.subscriptions["SUB_3"] = paystack_subscription(code="SUB_3", next_payment=FUTURE)
    await harness.deliver_paystack(charge)
    await harness.worker.run_once()
    await harness.deliver_paystack(
        paystack_invoice_event("invoice.update", code="INV_3", subscription_code="SUB_3")
    )
    await harness.worker.run_once()
    await harness.deliver_paystack(
        paystack_invoice_event(
            "invoice.create", code="INV_3", status="pending", paid=False, subscription_code="SUB_3"
        )
    )
    await harness.worker.run_once()
    invoices = {row.provider_invoice_id: row for row in await harness.rows(Invoice)}
    assert invoices["INV_3"].status == "paid"


async def test_event_that_cannot_apply_yet_is_retried_with_its_error(
    harness: Harness,
    make_member: MakeMember,
    paystack: PaystackStub,
    db: Database,
    paystack_api: PaystackApi,
    polar: PolarStub,
) -> None:
    """subscription.create overtakes the first charge: the customer is unknown, so the event
    fails (attempt and error recorded) and applies on a later round once the charge is in."""
    member = await make_member(country="NG")
    paystack.subscriptions["SUB_4"] = paystack_subscription(code="SUB_4", next_payment=FUTURE)
    await harness.deliver_paystack(
        paystack_subscription_event("subscription.create", code="SUB_4", next_payment=FUTURE)
    )
    await harness.worker.run_once()
    [event] = await harness.rows(WebhookEvent)
    assert event.processed_at is None and event.attempts == 1
    assert event.last_error is not None and "no organisation known yet" in event.last_error
    assert await harness.rows(Subscription) == []

    charge = paystack_charge_success(reference="tr_4", org_id=str(member.org_id))
    paystack.transactions["tr_4"] = charge["data"]
    await harness.deliver_paystack(charge)
    # Rounds of fresh replicas (no back-off memory): the charge links the customer, then the
    # subscription applies.
    for _ in range(2):
        await Worker(db, settings_for(paystack, polar), paystack_api).run_once()
    events = await harness.rows(WebhookEvent)
    assert all(row.processed_at is not None and row.last_error is None for row in events)
    assert await harness.plan(member.org_id) == "pro"


async def test_paystack_api_failure_during_apply_is_retried(
    harness: Harness,
    make_member: MakeMember,
    paystack: PaystackStub,
    db: Database,
    paystack_api: PaystackApi,
    polar: PolarStub,
) -> None:
    member = await make_member(country="NG")
    charge = paystack_charge_success(reference="tr_5", org_id=str(member.org_id))
    paystack.transactions["tr_5"] = charge["data"]
    paystack.fail_next.append((500, b'{"status": false, "message": "Internal error"}'))
    await harness.deliver_paystack(charge)
    await harness.worker.run_once()
    [event] = await harness.rows(WebhookEvent)
    assert event.attempts == 1 and event.last_error is not None and "500" in event.last_error
    assert await harness.rows(Invoice) == []
    await Worker(db, settings_for(paystack, polar), paystack_api).run_once()
    [event] = await harness.rows(WebhookEvent)
    assert event.processed_at is not None
    assert len(await harness.rows(Invoice)) == 1


async def test_two_workers_share_the_queue_without_doubling(
    harness: Harness,
    make_member: MakeMember,
    dialect: str,
    db: Database,
    paystack: PaystackStub,
    polar: PolarStub,
    paystack_api: PaystackApi,
) -> None:
    if dialect != "postgresql":
        pytest.skip("SQLite has one writer: FOR UPDATE SKIP LOCKED is PostgreSQL's")
    member = await make_member()
    org = str(member.org_id)
    for n in range(30):
        await harness.deliver_polar(polar_order_paid(org_id=org, order_id=f"order-{n}"))
    workers = [Worker(db, settings_for(paystack, polar), paystack_api, batch_size=5) for _ in "ab"]
    while sum(await asyncio.gather(*(worker.run_once() for worker in workers))):
        pass
    events = await harness.rows(WebhookEvent)
    assert len(events) == 30
    assert all(event.processed_at is not None and event.attempts == 1 for event in events)
    assert len(await harness.rows(Invoice)) == 30


async def test_the_service_runs_the_worker_in_its_lifespan(
    db: Database,
    database_url: str,
    make_member: MakeMember,
    paystack: PaystackStub,
    polar: PolarStub,
) -> None:
    member = await make_member()
    event = polar_subscription_event(
        "subscription.created", status="active", org_id=str(member.org_id), period_end=FUTURE
    )
    settings = settings_for(paystack, polar, run_worker=True)
    async with running(settings, database_url) as client:
        assert (await post(client, "/webhooks/polar", polar_webhook(event))).status_code == 200
        for _ in range(100):
            async with db.session() as session:
                organisation = await session.get(
                    Organisation, member.org_id, populate_existing=True
                )
                assert organisation is not None
            if organisation.plan == "pro":
                break
            await asyncio.sleep(0.05)
    assert organisation.plan == "pro"
