"""Customers, subscriptions and invoices as the billing worker learns them from providers.

Each write is an upsert keyed on the provider's own id (`INSERT ... ON CONFLICT` in each
dialect), so applying the same webhook twice changes nothing the second time.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Table, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import Customer, Invoice, Subscription, utcnow
from traytic.db.models.billing import PROVIDERS
from traytic.db.repositories.statements import dialect_insert, first_by_provider_id
from traytic.db.validation import (
    check_amount,
    check_choice,
    check_currency,
    check_row,
    check_text,
)

_CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
_SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[attr-defined]
_INVOICES: Table = Invoice.__table__  # type: ignore[attr-defined]


async def upsert_customer(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    *,
    provider: str,
    provider_customer_id: str,
) -> Customer:
    """The organisation's customer at `provider`, created or pointed at the new provider id."""
    values = {
        "id": uuid.uuid4(),
        "organisation_id": organisation_id,
        "provider": check_choice("provider", provider, PROVIDERS),
        "provider_customer_id": check_text(
            "provider_customer_id", provider_customer_id, max_length=128
        ),
        "created_at": utcnow(),
    }
    check_row(_CUSTOMERS, values)
    insert = dialect_insert(session, _CUSTOMERS).values(values)
    insert = insert.on_conflict_do_update(
        index_elements=["organisation_id", "provider"],
        set_={"provider_customer_id": insert.excluded.provider_customer_id},
    )
    await session.exec(insert)
    customer = await get_customer(session, organisation_id, provider)
    assert customer is not None
    return customer


async def get_customer(
    session: AsyncSession, organisation_id: uuid.UUID, provider: str
) -> Customer | None:
    result = await session.exec(
        select(Customer)
        .where(col(Customer.organisation_id) == organisation_id, col(Customer.provider) == provider)
        .execution_options(populate_existing=True)
    )
    return result.first()


async def upsert_subscription(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    *,
    provider: str,
    provider_subscription_id: str,
    plan: str,
    status: str,
    currency: str,
    amount: int,
    current_period_end: datetime | None,
    cancel_at_period_end: bool = False,
    provider_modified_at: datetime | None = None,
) -> Subscription:
    """Insert or update by (provider, provider id). An update carrying an older
    `provider_modified_at` than the stored one is ignored: webhooks arrive out of order."""
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "organisation_id": organisation_id,
        "provider": check_choice("provider", provider, PROVIDERS),
        "provider_subscription_id": check_text(
            "provider_subscription_id", provider_subscription_id, max_length=128
        ),
        "plan": check_text("plan", plan, max_length=16),
        "status": check_text("status", status, max_length=32),
        "currency": check_currency(currency),
        "amount": check_amount(amount),
        "current_period_end": current_period_end,
        "cancel_at_period_end": cancel_at_period_end,
        "provider_modified_at": provider_modified_at,
        "created_at": now,
        "updated_at": now,
    }
    check_row(_SUBSCRIPTIONS, values)
    insert = dialect_insert(session, _SUBSCRIPTIONS).values(values)
    changing = (
        "organisation_id",
        "plan",
        "status",
        "currency",
        "amount",
        "current_period_end",
        "cancel_at_period_end",
        "provider_modified_at",
        "updated_at",
    )
    # Without a provider time (Paystack), the caller re-read the state, so the latest call wins.
    stored = _SUBSCRIPTIONS.c.provider_modified_at
    newer = None
    if provider_modified_at is not None:
        newer = stored.is_(None) | (stored <= insert.excluded.provider_modified_at)
    insert = insert.on_conflict_do_update(
        index_elements=["provider", "provider_subscription_id"],
        set_={name: insert.excluded[name] for name in changing},
        where=newer,
    )
    await session.exec(insert)
    result = await session.exec(
        select(Subscription)
        .where(
            col(Subscription.provider) == values["provider"],
            col(Subscription.provider_subscription_id) == values["provider_subscription_id"],
        )
        .execution_options(populate_existing=True)
    )
    return result.one()


async def list_subscriptions(
    session: AsyncSession, organisation_id: uuid.UUID
) -> list[Subscription]:
    """Newest period end first; a subscription without one (incomplete) last."""
    result = await session.exec(
        select(Subscription)
        .where(col(Subscription.organisation_id) == organisation_id)
        .order_by(col(Subscription.current_period_end).desc().nulls_last())
    )
    return list(result.all())


async def upsert_invoice(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    *,
    provider: str,
    provider_invoice_id: str,
    amount: int,
    currency: str,
    status: str,
    paid_at: datetime | None = None,
    hosted_url: str | None = None,
) -> Invoice:
    """Insert or update by (provider, provider id); a known `paid_at` is never cleared."""
    values = {
        "id": uuid.uuid4(),
        "organisation_id": organisation_id,
        "provider": check_choice("provider", provider, PROVIDERS),
        "provider_invoice_id": check_text(
            "provider_invoice_id", provider_invoice_id, max_length=128
        ),
        "amount": check_amount(amount),
        "currency": check_currency(currency),
        "status": check_text("status", status, max_length=32),
        "paid_at": paid_at,
        "hosted_url": check_text("hosted_url", hosted_url, max_length=2048) if hosted_url else None,
        "created_at": utcnow(),
    }
    check_row(_INVOICES, values)
    insert = dialect_insert(session, _INVOICES).values(values)
    insert = insert.on_conflict_do_update(
        index_elements=["provider", "provider_invoice_id"],
        set_={
            "amount": insert.excluded.amount,
            "currency": insert.excluded.currency,
            "status": insert.excluded.status,
            "paid_at": func.coalesce(_INVOICES.c.paid_at, insert.excluded.paid_at),
            "hosted_url": func.coalesce(insert.excluded.hosted_url, _INVOICES.c.hosted_url),
        },
    )
    await session.exec(insert)
    result = await session.exec(
        select(Invoice)
        .where(
            col(Invoice.provider) == values["provider"],
            col(Invoice.provider_invoice_id) == values["provider_invoice_id"],
        )
        .execution_options(populate_existing=True)
    )
    return result.one()


async def list_invoices(
    session: AsyncSession, organisation_id: uuid.UUID, *, limit: int = 50
) -> list[Invoice]:
    """Paid invoices newest first, unpaid ones (no `paid_at`) after them."""
    result = await session.exec(
        select(Invoice)
        .where(col(Invoice.organisation_id) == organisation_id)
        .order_by(col(Invoice.paid_at).desc().nulls_last(), col(Invoice.created_at).desc())
        .limit(limit)
    )
    return list(result.all())


async def find_customer(
    session: AsyncSession, provider: str, provider_customer_id: str
) -> Customer | None:
    return await first_by_provider_id(
        session, Customer, Customer.provider_customer_id, provider, provider_customer_id
    )


async def find_subscription(
    session: AsyncSession, provider: str, provider_subscription_id: str
) -> Subscription | None:
    return await first_by_provider_id(
        session,
        Subscription,
        Subscription.provider_subscription_id,
        provider,
        provider_subscription_id,
    )


async def find_invoice(
    session: AsyncSession, provider: str, provider_invoice_id: str
) -> Invoice | None:
    return await first_by_provider_id(
        session, Invoice, Invoice.provider_invoice_id, provider, provider_invoice_id
    )
