"""Billing reads that `traytic.db.repositories.billing` does not have yet (candidates to move
there): a customer by its provider id, a subscription by its provider id."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import Customer, Invoice, Subscription


async def find_customer(
    session: AsyncSession, provider: str, provider_customer_id: str
) -> Customer | None:
    result = await session.exec(
        select(Customer).where(
            col(Customer.provider) == provider,
            col(Customer.provider_customer_id) == provider_customer_id,
        )
    )
    return result.first()


async def find_subscription(
    session: AsyncSession, provider: str, provider_subscription_id: str
) -> Subscription | None:
    result = await session.exec(
        select(Subscription)
        .where(
            col(Subscription.provider) == provider,
            col(Subscription.provider_subscription_id) == provider_subscription_id,
        )
        .execution_options(populate_existing=True)
    )
    return result.first()


async def find_invoice(
    session: AsyncSession, provider: str, provider_invoice_id: str
) -> Invoice | None:
    result = await session.exec(
        select(Invoice)
        .where(
            col(Invoice.provider) == provider,
            col(Invoice.provider_invoice_id) == provider_invoice_id,
        )
        .execution_options(populate_existing=True)
    )
    return result.first()
