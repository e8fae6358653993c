"""`POST /api/billing/checkout` and `GET /api/billing`: the dashboard's billing page.

Both answer 404 `billing_not_configured` when no provider is set up (the product is free).
Who may do what is the shared role table's (`traytic.db.access`): any member or API key of the
organisation reads the plan, usage and invoices; only owners and admins start a checkout or
receive the provider's manage link, which cancels the subscription or changes the card.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from traytic.billing import plans
from traytic.billing.caller import resolve_org_caller
from traytic.billing.checkout import CheckoutRequest, CheckoutStarted, start_checkout
from traytic.billing.context import BillingContext
from traytic.billing.entitlement import plan_now
from traytic.billing.errors import BillingNotConfigured
from traytic.billing.manage import manage_url
from traytic.db.access import Permission
from traytic.db.repositories import billing as billing_rows


class SubscriptionView(msgspec.Struct, rename="camel"):
    provider: str
    plan: str
    status: str
    currency: str
    amount: int
    current_period_end: datetime | None
    cancel_at_period_end: bool


class InvoiceView(msgspec.Struct, rename="camel"):
    provider: str
    id: str
    status: str
    currency: str
    amount: int
    paid_at: datetime | None
    hosted_url: str | None


class UsageView(msgspec.Struct, rename="camel"):
    events_this_month: int
    events_limit: int | None
    over_quota: bool


class BillingView(msgspec.Struct, rename="camel"):
    organisation_id: str
    plan: str
    status: str
    """The main subscription's provider status, or `free`."""
    current_period_end: datetime | None
    subscription: SubscriptionView | None
    usage: UsageView
    invoices: list[InvoiceView]
    manage_url: str | None = None
    """Polar's customer portal or Paystack's manage page for the current subscription; only
    for owners and admins."""


def _require_enabled(billing: BillingContext) -> None:
    if not billing.settings.enabled:
        raise BillingNotConfigured("billing is not configured on this server: every plan is free")


@post("/api/billing/checkout", status_code=200)
async def checkout(
    request: Request[Any, Any, Any],
    data: JSONBody[CheckoutRequest],
    billing: NamedDependency[BillingContext],
) -> CheckoutStarted:
    """Start a Pro or Team subscription for the organisation; returns the hosted payment page."""
    _require_enabled(billing)
    async with billing.db.session() as session:
        access = await resolve_org_caller(
            request, session, billing.settings, data.organisation_id, Permission.MANAGE_BILLING
        )
    return await start_checkout(billing, access, data)


@get("/api/billing")
async def billing_overview(
    request: Request[Any, Any, Any],
    billing: NamedDependency[BillingContext],
    organisation_id: Annotated[str | None, QueryParameter(name="organisationId")] = None,
) -> BillingView:
    """The organisation's plan, subscription, usage this month and invoices."""
    _require_enabled(billing)
    async with billing.db.session() as session:
        access = await resolve_org_caller(
            request, session, billing.settings, organisation_id, Permission.READ_BILLING
        )
        org = access.organisation
        subscriptions = await billing_rows.list_subscriptions(session, org.id)
        invoices = await billing_rows.list_invoices(session, org.id)
    now = datetime.fromtimestamp(billing.clock(), UTC)
    current = next(
        (
            s
            for s in subscriptions
            if plans.grants_plan(
                plans.SubscriptionState(
                    s.plan, s.status, s.current_period_end, s.cancel_at_period_end
                ),
                now,
            )
        ),
        subscriptions[0] if subscriptions else None,
    )
    events = await billing.usage.events_this_month(org.id)
    # Decided now, not read back: a period that just ended shows Free before the worker's
    # next plan check writes it down.
    plan = plan_now(org.plan, subscriptions, now)
    rules = plans.RULES[plan]
    return BillingView(
        organisation_id=str(org.id),
        plan=plan,
        status=current.status if current is not None else "free",
        current_period_end=current.current_period_end if current is not None else None,
        subscription=(
            SubscriptionView(
                current.provider,
                current.plan,
                current.status,
                current.currency,
                current.amount,
                current.current_period_end,
                current.cancel_at_period_end,
            )
            if current is not None
            else None
        ),
        usage=UsageView(
            events,
            rules.events_per_month,
            plans.is_over_quota(plan, events, grace=billing.settings.quota_grace),
        ),
        invoices=[
            InvoiceView(
                i.provider,
                i.provider_invoice_id,
                i.status,
                i.currency,
                i.amount,
                i.paid_at,
                i.hosted_url,
            )
            for i in invoices
        ],
        manage_url=(
            await manage_url(billing, org.id, current)
            if access.allows(Permission.MANAGE_BILLING)
            else None
        ),
    )


DASHBOARD_HANDLERS = [checkout, billing_overview]
