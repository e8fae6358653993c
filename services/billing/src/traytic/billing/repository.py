"""Billing reads that `traytic.db.repositories.billing` does not have yet (candidates to move
there): a customer by its provider id, a subscription by its provider id, sites with plans."""

from __future__ import annotations

import uuid
from typing import NamedTuple

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import Customer, Invoice, Organisation, Site, Subscription


class SitePlan(NamedTuple):
    site_id: str
    organisation_id: uuid.UUID
    plan: str


async def list_site_plans(
    session: AsyncSession, organisation_id: uuid.UUID | None = None
) -> list[SitePlan]:
    """Every site (soft-deleted ones too: their events this month still count) with its
    organisation's plan; one organisation's only when `organisation_id` is given."""
    statement = select(Site.id, Site.organisation_id, Organisation.plan).join(
        Organisation, col(Organisation.id) == col(Site.organisation_id)
    )
    if organisation_id is not None:
        statement = statement.where(col(Site.organisation_id) == organisation_id)
    result = await session.exec(statement.order_by(col(Site.id)))
    return [SitePlan(site_id, org_id, plan) for site_id, org_id, plan in result.all()]


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
