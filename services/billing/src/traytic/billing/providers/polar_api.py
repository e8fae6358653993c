"""Polar's API through polar-sdk 1.x (`polar.v2026_10.PolarAsync`), which sets timeouts and
raises on every non-2xx answer; those errors become `ProviderError` here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import structlog
from polar.base import PolarError

from traytic.billing.errors import ProviderError

if TYPE_CHECKING:
    from polar.v2026_10 import PolarAsync

    PolarClient = PolarAsync
else:
    # Litestar resolves the annotations of what handlers receive (`BillingContext.polar`) when
    # they run: a name that exists without importing the SDK.
    PolarClient = Any

log = structlog.get_logger()


def polar_client(access_token: str, server: str, *, timeout_s: float) -> PolarClient:
    """`server` is `production`, `sandbox` or a base URL (a local stand-in in tests)."""
    # Imported here: the SDK's models take ~0.4 s to import, paid by every process (each CLI
    # command, `traytic dev`) when imported with the module, though only Polar billing needs it.
    from polar.v2026_10 import PolarAsync

    if server.startswith(("http://", "https://")):
        return PolarAsync(access_token, base_url=server.rstrip("/"), timeout=timeout_s)
    if server not in ("production", "sandbox"):
        raise ValueError("TRAYTIC_POLAR_SERVER must be production, sandbox or a URL")
    if server == "sandbox":
        return PolarAsync(access_token, environment="sandbox", timeout=timeout_s)
    return PolarAsync(access_token, environment="production", timeout=timeout_s)


async def create_checkout(
    polar: PolarClient,
    *,
    product_id: str,
    organisation_id: str,
    metadata: dict[str, str | int | float | bool],
    success_url: str,
    customer_email: str | None,
) -> str:
    """The hosted checkout URL for one product, tied to our organisation id."""
    try:
        checkout = await polar.checkouts.create(
            products=[product_id],
            external_customer_id=organisation_id,
            metadata=metadata,
            success_url=success_url,
            customer_email=customer_email,
        )
    except (PolarError, httpx.HTTPError) as exc:
        log.warning("polar_checkout_failed", error=type(exc).__name__, detail=str(exc)[:500])
        raise ProviderError(f"Polar refused the checkout: {str(exc)[:300]}") from exc
    url: str = checkout.url
    if not url.startswith("https://"):
        raise ProviderError("Polar returned no checkout URL")
    return url


async def customer_portal_url(
    polar: PolarClient, *, organisation_id: str, return_url: str | None
) -> str:
    """A short-lived link into Polar's customer portal (manage the subscription, payment
    method, invoices) for the customer whose external id is our organisation id."""
    try:
        session = await polar.customer_sessions.create(
            external_customer_id=organisation_id, return_url=return_url
        )
    except (PolarError, httpx.HTTPError) as exc:
        log.warning("polar_portal_failed", error=type(exc).__name__, detail=str(exc)[:500])
        raise ProviderError(f"Polar refused the customer session: {str(exc)[:300]}") from exc
    url: str = session.customer_portal_url
    if not url.startswith("https://"):
        raise ProviderError("Polar returned no customer portal URL")
    return url
