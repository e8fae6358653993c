"""Billing upserts and the webhook inbox: idempotent, out-of-order safe, org-scoped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.db.factories import make_organisation
from traytic.core.errors import InvalidInput
from traytic.db import Database
from traytic.db.repositories import billing, webhooks

T0 = datetime(2025, 3, 1, tzinfo=UTC)


async def test_webhook_event_is_stored_once(session: AsyncSession) -> None:
    body = '{"event": "charge.success", "data": {"id": 1}}\n'
    event = {
        "provider": "paystack",
        "provider_event_id": "charge:1",
        "type": "charge.success",
        "payload": body,
        "signature_verified": True,
    }
    assert await webhooks.record_webhook_event(session, **event)  # type: ignore[arg-type]
    assert not await webhooks.record_webhook_event(session, **event)  # type: ignore[arg-type]
    assert await webhooks.record_webhook_event(  # same id, other provider: another event
        session,
        **{**event, "provider": "polar"},  # type: ignore[arg-type]
    )
    stored = await webhooks.get_webhook_event(session, "paystack", "charge:1")
    assert stored is not None and stored.payload == body and stored.attempts == 0


async def test_redelivery_after_commit_is_a_no_op(db: Database) -> None:
    for _ in range(2):
        async with db.session() as session:
            await webhooks.record_webhook_event(
                session,
                provider="polar",
                provider_event_id="msg_1",
                type="order.paid",
                payload="{}",
                signature_verified=True,
            )
    async with db.session() as session:
        assert len(await webhooks.claim_webhook_events(session)) == 1


async def test_claim_mark_processed_and_failed(session: AsyncSession) -> None:
    for number in range(3):
        await webhooks.record_webhook_event(
            session,
            provider="polar",
            provider_event_id=f"msg_{number}",
            type="order.paid",
            payload="{}",
            signature_verified=True,
            received_at=T0 + timedelta(seconds=number),
        )
    claimed = await webhooks.claim_webhook_events(session, limit=2)
    assert [event.provider_event_id for event in claimed] == ["msg_0", "msg_1"]
    await webhooks.mark_webhook_event_processed(session, claimed[0].id)
    await webhooks.mark_webhook_event_failed(session, claimed[1].id, "boom " * 2000)

    pending = await webhooks.claim_webhook_events(session, max_attempts=1)
    assert [event.provider_event_id for event in pending] == ["msg_2"]
    failed = await webhooks.get_webhook_event(session, "polar", "msg_1")
    assert failed is not None and failed.attempts == 1
    assert failed.last_error is not None and len(failed.last_error) == webhooks.MAX_ERROR_LENGTH
    done = await webhooks.get_webhook_event(session, "polar", "msg_0")
    assert done is not None and done.processed_at is not None


async def test_subscription_upsert_ignores_older_updates(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    common = {
        "provider": "polar",
        "provider_subscription_id": "sub_1",
        "plan": "pro",
        "currency": "USD",
        "amount": 900,
        "current_period_end": T0 + timedelta(days=30),
    }
    await billing.upsert_subscription(
        session,
        organisation.id,
        status="active",
        provider_modified_at=T0,
        **common,  # type: ignore[arg-type]
    )
    newer = await billing.upsert_subscription(
        session,
        organisation.id,
        status="canceled",
        cancel_at_period_end=True,
        provider_modified_at=T0 + timedelta(minutes=5),
        **common,  # type: ignore[arg-type]
    )
    assert (newer.status, newer.cancel_at_period_end) == ("canceled", True)
    stale = await billing.upsert_subscription(
        session,
        organisation.id,
        status="active",
        provider_modified_at=T0 + timedelta(minutes=1),
        **common,  # type: ignore[arg-type]
    )
    assert (stale.status, stale.id) == ("canceled", newer.id)
    assert await billing.list_subscriptions(session, organisation.id) == [newer]


async def test_invoice_and_customer_upserts(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    customer = await billing.upsert_customer(
        session, organisation.id, provider="paystack", provider_customer_id="CUS_1"
    )
    again = await billing.upsert_customer(
        session, organisation.id, provider="paystack", provider_customer_id="CUS_2"
    )
    assert (again.id, again.provider_customer_id) == (customer.id, "CUS_2")
    assert await billing.get_customer(session, organisation.id, "polar") is None

    invoice = {"provider": "paystack", "provider_invoice_id": "INV_1", "currency": "ngn"}
    unpaid = await billing.upsert_invoice(
        session, organisation.id, amount=1490000, status="pending", **invoice
    )
    assert (unpaid.currency, unpaid.paid_at) == ("NGN", None)
    paid = await billing.upsert_invoice(
        session, organisation.id, amount=1490000, status="success", paid_at=T0, **invoice
    )
    # A late, stale "pending" keeps the known payment time.
    late = await billing.upsert_invoice(
        session, organisation.id, amount=1490000, status="pending", **invoice
    )
    assert (paid.id, late.paid_at) == (unpaid.id, T0)
    other = await billing.upsert_invoice(
        session,
        organisation.id,
        provider="paystack",
        provider_invoice_id="INV_0",
        amount=1,
        currency="NGN",
        status="success",
        paid_at=T0 - timedelta(days=30),
    )
    open_one = await billing.upsert_invoice(
        session,
        organisation.id,
        provider="paystack",
        provider_invoice_id="INV_2",
        amount=1,
        currency="NGN",
        status="pending",
    )
    listed = await billing.list_invoices(session, organisation.id)
    assert [i.provider_invoice_id for i in listed] == ["INV_1", "INV_0", "INV_2"]
    assert other in listed and open_one in listed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 9.99}, "amount"),
        ({"amount": -1}, "amount"),
        ({"currency": "dollars"}, "currency"),
        ({"provider": "stripe"}, "provider"),
        ({"provider_invoice_id": "x" * 129}, "provider_invoice_id"),
        ({"status": "s" * 33}, "status"),
    ],
)
async def test_bad_billing_values_are_refused_before_the_database(
    session: AsyncSession, changes: dict[str, object], field: str
) -> None:
    organisation = await make_organisation(session)
    values: dict[str, object] = {
        "provider": "polar",
        "provider_invoice_id": "in_1",
        "amount": 900,
        "currency": "USD",
        "status": "paid",
    }
    with pytest.raises(InvalidInput) as caught:
        await billing.upsert_invoice(session, organisation.id, **{**values, **changes})  # type: ignore[arg-type]
    assert caught.value.field == field


async def test_two_workers_never_claim_the_same_event(db: Database, dialect: str) -> None:
    """`FOR UPDATE SKIP LOCKED`: PostgreSQL only (SQLite has a single writer)."""
    if dialect != "postgresql":
        pytest.skip("SQLite serialises writers instead")
    async with db.session() as session:
        for number in range(2):
            await webhooks.record_webhook_event(
                session,
                provider="polar",
                provider_event_id=f"msg_{number}",
                type="order.paid",
                payload="{}",
                signature_verified=True,
                received_at=T0 + timedelta(seconds=number),
            )
    async with db.session() as first, db.session() as second:
        mine = await webhooks.claim_webhook_events(first, limit=1)
        theirs = await webhooks.claim_webhook_events(second, limit=1)
        assert [e.provider_event_id for e in mine + theirs] == ["msg_0", "msg_1"]
