"""Applying Polar webhooks (shapes: polar-sdk `v2026_10.webhooks`). Subscriptions carry
`modified_at`, which orders them: an older state never overwrites a newer one. The
organisation is our checkout's metadata (Polar copies it onto the order and subscription) or
the customer's `external_id`, which our checkout sets to the organisation id.

Only the fields used here are decoded, so fields Polar adds later change nothing.
"""

from __future__ import annotations

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
from traytic.billing.settings import BillingSettings
from traytic.db.models import Provider
from traytic.db.repositories import billing

log = structlog.get_logger()
POLAR = Provider.POLAR.value


def _organisation(data: dict[str, Any], what: str) -> Any:
    metadata = member(data, "metadata")
    customer = member(data, "customer")
    org = organisation_id(metadata.get("organisation_id")) or organisation_id(
        customer.get("external_id") or data.get("external_customer_id")
    )
    return require(org, what)


async def apply_polar_event(
    session: AsyncSession, kind: str, data: dict[str, Any], settings: BillingSettings
) -> Applied:
    if kind.startswith("subscription."):
        return await _subscription(session, data, settings)
    if kind.startswith("order."):
        return await _order(session, data)
    if (
        kind.startswith("checkout.")
        and data.get("customer_id")
        and data.get("status")
        in (
            "confirmed",
            "succeeded",
        )
    ):
        org = _organisation(data, f"checkout {data.get('id')}")
        await billing.upsert_customer(
            session, org, provider=POLAR, provider_customer_id=str(data["customer_id"])
        )
        return IGNORED
    return IGNORED


async def _subscription(
    session: AsyncSession, data: dict[str, Any], settings: BillingSettings
) -> Applied:
    plan = settings.plan_for_polar_product(str(data.get("product_id", "")))
    if plan is None:
        log.warning("polar_unknown_product", product_id=data.get("product_id"))
        return IGNORED
    org = _organisation(data, f"subscription {data.get('id')}")
    await billing.upsert_customer(
        session, org, provider=POLAR, provider_customer_id=str(data["customer_id"])
    )
    await billing.upsert_subscription(
        session,
        org,
        provider=POLAR,
        provider_subscription_id=str(data["id"]),
        plan=plan,
        status=str(data["status"]),
        currency=str(data["currency"]),
        amount=int(data["amount"]),
        current_period_end=parse_time(data.get("current_period_end")),
        cancel_at_period_end=data.get("cancel_at_period_end") is True,
        provider_modified_at=parse_time(data.get("modified_at") or data.get("created_at")),
    )
    return Applied(org)


async def _order(session: AsyncSession, data: dict[str, Any]) -> Applied:
    org = _organisation(data, f"order {data.get('id')}")
    status = str(data["status"])
    paid = status in ("paid", "refunded", "partially_refunded")
    await record_invoice(
        session,
        org,
        provider=POLAR,
        provider_invoice_id=str(data["id"]),
        amount=int(data["total_amount"]),
        currency=str(data["currency"]),
        status=status,
        paid_at=parse_time(data.get("modified_at") or data.get("created_at")) if paid else None,
    )
    return IGNORED
