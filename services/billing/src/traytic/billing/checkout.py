"""Starting a subscription: pick the provider for the organisation's country and ask it for a
hosted checkout page. Paystack serves its African markets (NG, GH, KE, ZA, CI, EG, RW), Polar
everyone else; when only one provider is configured it serves every country. A country given
with the checkout becomes the organisation's billing country when it has none yet."""

from __future__ import annotations

import uuid

import msgspec

from traytic.billing import plans
from traytic.billing.context import BillingContext
from traytic.billing.errors import BillingNotConfigured
from traytic.billing.providers.polar_api import create_checkout
from traytic.core.errors import InvalidInput
from traytic.db.access import OrgAccess
from traytic.db.models import Plan, Provider
from traytic.db.repositories import organisations


class CheckoutRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    plan: str
    country: str | None = None
    """ISO 3166-1 alpha-2; defaults to the organisation's billing country."""
    organisation_id: str | None = None


class CheckoutStarted(msgspec.Struct, rename="camel"):
    provider: str
    url: str
    reference: str | None = None


def choose_provider(context: BillingContext, country: str | None) -> Provider:
    settings = context.settings
    provider = plans.provider_for_country(country)
    if provider is Provider.PAYSTACK and not settings.paystack_enabled:
        provider = Provider.POLAR
    elif provider is Provider.POLAR and not settings.polar_access_token:
        provider = Provider.PAYSTACK
    if provider is Provider.PAYSTACK and not settings.paystack_enabled:
        raise BillingNotConfigured("no payment provider is configured for checkout")
    if provider is Provider.POLAR and not settings.polar_access_token:
        raise BillingNotConfigured("no payment provider is configured for checkout")
    return provider


def _check_country(country: str | None) -> str | None:
    if country is None:
        return None
    value = country.strip().upper()
    if len(value) != 2 or not value.isalpha():
        raise InvalidInput("country must be an ISO 3166-1 alpha-2 code", field="country")
    return value


async def start_checkout(
    context: BillingContext, caller: OrgAccess, request: CheckoutRequest
) -> CheckoutStarted:
    if request.plan not in (Plan.PRO.value, Plan.TEAM.value):
        raise InvalidInput("plan must be pro or team", field="plan")
    organisation = caller.organisation
    given = _check_country(request.country)
    country = given or organisation.billing_country
    provider = choose_provider(context, country)
    started = await _ask_provider(context, caller, request, provider)
    if given is not None and organisation.billing_country is None:
        await _save_billing_country(context, organisation.id, given)
    return started


async def _save_billing_country(
    context: BillingContext, organisation_id: uuid.UUID, country: str
) -> None:
    async with context.db.session() as session:
        organisation = await organisations.get_organisation(session, organisation_id)
        # Re-read: a concurrent checkout or the settings page may have set one meanwhile.
        if organisation is not None and organisation.billing_country is None:
            await organisations.update_organisation(session, organisation, billing_country=country)


async def _ask_provider(
    context: BillingContext, caller: OrgAccess, request: CheckoutRequest, provider: Provider
) -> CheckoutStarted:
    organisation = caller.organisation
    metadata: dict[str, str | int | float | bool] = {
        "organisation_id": str(organisation.id),
        "plan": request.plan,
    }
    settings = context.settings
    email = caller.user.email if caller.user is not None else None
    if provider is Provider.PAYSTACK:
        assert context.paystack is not None
        plan_code = settings.paystack_plan_code(request.plan)
        currency = settings.paystack_currency.upper()
        amount = plans.price(request.plan, currency, settings.extra_prices())
        if not plan_code or not amount:
            raise BillingNotConfigured(
                f"the {request.plan} plan has no Paystack plan code or {currency} price"
            )
        if email is None:
            raise InvalidInput("Paystack needs the payer's email: sign in to subscribe")
        reference = f"trc_{uuid.uuid4().hex}"
        url = await context.paystack.initialize_transaction(
            email=email,
            amount=amount,
            currency=currency,
            plan=plan_code,
            reference=reference,
            callback_url=settings.success_url,
            metadata=dict(metadata),
        )
        return CheckoutStarted(provider.value, url, reference)
    assert context.polar is not None
    product_id = settings.polar_product_id(request.plan)
    if not product_id:
        raise BillingNotConfigured(f"the {request.plan} plan has no Polar product id")
    url = await create_checkout(
        context.polar,
        product_id=product_id,
        organisation_id=str(organisation.id),
        metadata=metadata,
        success_url=settings.success_url,
        customer_email=email,
    )
    return CheckoutStarted(provider.value, url)
