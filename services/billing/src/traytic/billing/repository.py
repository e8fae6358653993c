"""Billing reads that `traytic.db.repositories.billing` does not have yet: sites with plans."""

from __future__ import annotations

import uuid
from typing import NamedTuple

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import Organisation, Site


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
