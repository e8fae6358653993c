"""Where a customer manages their subscription: Polar's customer portal or Paystack's manage
page, for `GET /api/billing`.

The link is a convenience on the billing page: when the provider cannot give one right now
the page still answers, with no link (the failure is logged).
"""

from __future__ import annotations

import uuid

import structlog

from traytic.billing.context import BillingContext
from traytic.billing.errors import ProviderError
from traytic.billing.providers.polar_api import customer_portal_url
from traytic.db.models import Provider, Subscription

log = structlog.get_logger()


async def manage_url(
    context: BillingContext, organisation_id: uuid.UUID, subscription: Subscription | None
) -> str | None:
    if subscription is None:
        return None
    try:
        if subscription.provider == Provider.POLAR.value and context.polar is not None:
            return await customer_portal_url(
                context.polar,
                organisation_id=str(organisation_id),
                return_url=context.settings.success_url,
            )
        if subscription.provider == Provider.PAYSTACK.value and context.paystack is not None:
            return await context.paystack.subscription_manage_link(
                subscription.provider_subscription_id
            )
    except ProviderError as exc:
        log.warning(
            "manage_link_unavailable",
            provider=subscription.provider,
            organisation_id=str(organisation_id),
            error=str(exc),
        )
    return None
