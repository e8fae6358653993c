"""Applying Paystack webhooks. Paystack events carry no version and arrive out of order, so
subscription changes are applied from a fresh read of the subscription (`GET
/subscription/:code`) and charges from `GET /transaction/verify/:reference`: whatever order
the events come in, the last applied state is Paystack's current one.

The organisation comes from our checkout's metadata on the first charge, which also links
Paystack's customer code to it; later events find the organisation by that customer code
(an event that overtakes the first charge is retried until the link exists).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.billing.providers.events import (
    IGNORED,
    Applied,
    member,
    organisation_id,
    parse_time,
    record_invoice,
    require,
)
from traytic.billing.providers.paystack_api import PaystackApi
from traytic.billing.settings import BillingSettings
from traytic.db.models import Provider
from traytic.db.repositories import billing
from traytic.db.repositories.billing import find_customer, find_subscription

log = structlog.get_logger()
PAYSTACK = Provider.PAYSTACK.value
SUBSCRIPTION_EVENTS = {"subscription.create", "subscription.not_renew", "subscription.disable"}
INVOICE_EVENTS = {"invoice.create", "invoice.update", "invoice.payment_failed"}


def _customer_code(data: dict[str, Any]) -> str | None:
    customer = data.get("customer")
    code = customer.get("customer_code") if isinstance(customer, dict) else None
    return code if isinstance(code, str) and code else None


async def _organisation_of(session: AsyncSession, data: dict[str, Any]) -> Any:
    code = _customer_code(data)
    customer = await find_customer(session, PAYSTACK, code) if code else None
    return require(customer.organisation_id if customer else None, f"Paystack customer {code}")


async def apply_paystack_event(
    session: AsyncSession,
    kind: str,
    data: dict[str, Any],
    api: PaystackApi,
    settings: BillingSettings,
) -> Applied:
    if kind == "charge.success":
        return await _charge(session, data, api)
    if kind in SUBSCRIPTION_EVENTS:
        return await _subscription(session, str(data["subscription_code"]), api, settings)
    if kind in INVOICE_EVENTS:
        return await _invoice(session, kind, data, api, settings)
    return IGNORED


async def _charge(session: AsyncSession, data: dict[str, Any], api: PaystackApi) -> Applied:
    metadata = data.get("metadata")
    org = organisation_id(metadata.get("organisation_id")) if isinstance(metadata, dict) else None
    if org is None:
        return IGNORED  # a renewal charge (its invoice event records it) or not ours
    verified = await api.verify_transaction(str(data["reference"]))
    if verified.get("status") != "success":
        log.warning("paystack_charge_not_successful", reference=data.get("reference"))
        return IGNORED
    code = _customer_code(verified) or _customer_code(data)
    if code:
        await billing.upsert_customer(session, org, provider=PAYSTACK, provider_customer_id=code)
    await record_invoice(
        session,
        org,
        provider=PAYSTACK,
        provider_invoice_id=f"charge:{verified['reference']}",
        amount=int(verified["amount"]),
        currency=str(verified["currency"]),
        status="paid",
        paid_at=parse_time(verified.get("paid_at") or verified.get("paidAt")),
    )
    return Applied(org)


async def _subscription(
    session: AsyncSession, code: str, api: PaystackApi, settings: BillingSettings
) -> Applied:
    current = await api.fetch_subscription(code)
    org = await _organisation_of(session, current)
    plan_info = member(current, "plan")
    plan = settings.plan_for_paystack_code(str(plan_info.get("plan_code", "")))
    if plan is None:
        log.warning("paystack_unknown_plan", plan_code=plan_info.get("plan_code"))
        return IGNORED
    period_end: datetime | None = parse_time(current.get("next_payment_date"))
    if period_end is None:
        # Paystack clears the next payment date once a subscription stops renewing; the paid
        # period still ends when that payment would have been due.
        stored = await find_subscription(session, PAYSTACK, code)
        period_end = stored.current_period_end if stored else None
    status = str(current["status"])
    await billing.upsert_subscription(
        session,
        org,
        provider=PAYSTACK,
        provider_subscription_id=code,
        plan=plan,
        status=status,
        currency=str(plan_info.get("currency") or settings.paystack_currency),
        amount=int(current.get("amount") or plan_info.get("amount") or 0),
        current_period_end=period_end,
        cancel_at_period_end=status == "non-renewing",
    )
    return Applied(org)


async def _invoice(
    session: AsyncSession,
    kind: str,
    data: dict[str, Any],
    api: PaystackApi,
    settings: BillingSettings,
) -> Applied:
    org = await _organisation_of(session, data)
    transaction = member(data, "transaction")
    paid = data.get("paid") is True
    status = "paid" if paid else "failed" if kind == "invoice.payment_failed" else "open"
    await record_invoice(
        session,
        org,
        provider=PAYSTACK,
        provider_invoice_id=str(data["invoice_code"]),
        amount=int(data["amount"]),
        currency=str(transaction.get("currency") or settings.paystack_currency),
        status=status,
        paid_at=parse_time(data.get("paid_at")) if paid else None,
    )
    subscription = data.get("subscription")
    if isinstance(subscription, dict) and subscription.get("subscription_code"):
        # A failed renewal moves the subscription to `attention`: take Paystack's word for it.
        await _subscription(session, str(subscription["subscription_code"]), api, settings)
    return Applied(org)
