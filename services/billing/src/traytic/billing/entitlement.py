"""Keep `organisations.plan` equal to what the organisation's subscriptions grant now: after
each applied webhook event, and when a period ends with no event at all (a subscription
cancelled at period end, non-renewing or past due lapses to Free then; providers send nothing
at that moment)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.billing.plans import SubscriptionState, effective_plan
from traytic.billing.repository import list_subscribed_paid_organisations
from traytic.db.models import Subscription
from traytic.db.repositories import billing, organisations

log = structlog.get_logger()


def states(subscriptions: Sequence[Subscription]) -> list[SubscriptionState]:
    return [
        SubscriptionState(s.plan, s.status, s.current_period_end, s.cancel_at_period_end)
        for s in subscriptions
    ]


def plan_now(stored_plan: str, subscriptions: Sequence[Subscription], now: datetime) -> str:
    """What an organisation is entitled to at `now`: what its subscriptions grant, or the
    stored plan when it has none (a plan set by hand)."""
    if not subscriptions:
        return stored_plan
    return effective_plan(states(subscriptions), now)


async def refresh_plan(session: AsyncSession, organisation_id: uuid.UUID, now: datetime) -> str:
    subscriptions = await billing.list_subscriptions(session, organisation_id)
    plan = effective_plan(states(subscriptions), now)
    organisation = await organisations.get_organisation(session, organisation_id)
    if organisation is not None and organisation.plan != plan:
        log.info(
            "plan_changed", organisation_id=str(organisation_id), old=organisation.plan, new=plan
        )
        await organisations.update_organisation(session, organisation, plan=plan)
    return plan


async def lapse_ended_plans(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Re-decide every subscribed organisation on a paid plan; the ones whose plan changed
    (their period ended and nothing renewed it)."""
    changed = []
    for organisation_id in await list_subscribed_paid_organisations(session):
        organisation = await organisations.get_organisation(session, organisation_id)
        before = organisation.plan if organisation is not None else None
        if await refresh_plan(session, organisation_id, now) != before:
            changed.append(organisation_id)
    if changed:
        log.info("plans_lapsed", organisations=len(changed))
    return changed
