"""Keep `organisations.plan` equal to what the organisation's subscriptions grant now."""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.billing.plans import SubscriptionState, effective_plan
from traytic.db.repositories import billing, organisations

log = structlog.get_logger()


async def refresh_plan(session: AsyncSession, organisation_id: uuid.UUID, now: datetime) -> str:
    subscriptions = await billing.list_subscriptions(session, organisation_id)
    plan = effective_plan(
        (
            SubscriptionState(s.plan, s.status, s.current_period_end, s.cancel_at_period_end)
            for s in subscriptions
        ),
        now,
    )
    organisation = await organisations.get_organisation(session, organisation_id)
    if organisation is not None and organisation.plan != plan:
        log.info(
            "plan_changed", organisation_id=str(organisation_id), old=organisation.plan, new=plan
        )
        await organisations.update_organisation(session, organisation, plan=plan)
    return plan
