"""Billing reads that `traytic.db.repositories.billing` does not have yet: sites with plans,
subscribed organisations, every subscription by organisation."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import NamedTuple

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import Organisation, Plan, Site, Subscription


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


async def list_subscribed_paid_organisations(session: AsyncSession) -> list[uuid.UUID]:
    """Organisations on a paid plan that came from subscriptions (a plan set by hand, with no
    subscription behind it, is the operator's to change)."""
    subscribed = select(Subscription.organisation_id).where(
        col(Subscription.organisation_id) == col(Organisation.id)
    )
    result = await session.exec(
        select(Organisation.id)
        .where(col(Organisation.plan) != Plan.FREE.value, subscribed.exists())
        .order_by(col(Organisation.id))
    )
    return list(result.all())


async def subscriptions_by_organisation(
    session: AsyncSession,
) -> dict[uuid.UUID, list[Subscription]]:
    result = await session.exec(select(Subscription))
    grouped: dict[uuid.UUID, list[Subscription]] = defaultdict(list)
    for subscription in result.all():
        grouped[subscription.organisation_id].append(subscription)
    return dict(grouped)
