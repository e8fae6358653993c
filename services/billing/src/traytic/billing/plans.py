"""The plan table, quotas, which provider serves a country, and which plan a set of
subscriptions grants. Pure: no I/O, every rule testable without a database.

Amounts are integer subunits (kobo, cents, pesewas). USD and NGN prices are the product's own
(the seed's plan table); GHS, KES and ZAR prices come from settings, as do provider ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from traytic.db.models import Plan, Provider

FREE_EVENTS_PER_MONTH = 10_000

PAYSTACK_COUNTRIES = frozenset({"NG", "GH", "KE", "ZA", "CI", "EG", "RW"})
"""Nigeria, Ghana, Kenya, South Africa, Côte d'Ivoire, Egypt, Rwanda: Paystack's markets."""

PAID_PLANS = (Plan.PRO, Plan.TEAM)
RANK = {Plan.FREE.value: 0, Plan.PRO.value: 1, Plan.TEAM.value: 2}


@dataclass(frozen=True, slots=True)
class PlanRules:
    plan: Plan
    events_per_month: int | None
    """None: unlimited."""
    retention_months: int
    max_members: int | None
    """None: unlimited (team features)."""


RULES: Mapping[str, PlanRules] = {
    Plan.FREE.value: PlanRules(Plan.FREE, FREE_EVENTS_PER_MONTH, 6, 1),
    Plan.PRO.value: PlanRules(Plan.PRO, None, 24, 1),
    Plan.TEAM.value: PlanRules(Plan.TEAM, None, 24, None),
}

BASE_PRICES: Mapping[str, Mapping[str, int]] = {
    "USD": {Plan.FREE.value: 0, Plan.PRO.value: 9_00, Plan.TEAM.value: 29_00},
    "NGN": {Plan.FREE.value: 0, Plan.PRO.value: 14_900_00, Plan.TEAM.value: 44_900_00},
}


def price(plan: str, currency: str, extra_prices: Mapping[str, Mapping[str, int]]) -> int | None:
    """The monthly price in subunits, or None when no price is known for that currency."""
    table = BASE_PRICES.get(currency) or extra_prices.get(currency)
    if table is None:
        return None
    if plan == Plan.FREE.value:
        return 0
    return table.get(plan)


def is_over_quota(plan: str, events_this_month: int, *, grace: float = 0.0) -> bool:
    """True when a plan with a quota has used it up (plus a grace margin, e.g. 0.1 = 10 %)."""
    limit = RULES[plan].events_per_month
    return limit is not None and events_this_month >= limit * (1 + grace)


def provider_for_country(country: str | None) -> Provider:
    """Paystack in its African markets, Polar (USD/EUR) everywhere else or when unknown."""
    if country is not None and country.strip().upper() in PAYSTACK_COUNTRIES:
        return Provider.PAYSTACK
    return Provider.POLAR


# Statuses are the providers' own: Paystack (active, non-renewing, attention, completed,
# cancelled) and Polar (incomplete, trialing, active, past_due, canceled, unpaid, ...).
RENEWING = frozenset({"active", "trialing"})
UNTIL_PERIOD_END = frozenset({"non-renewing", "attention", "past_due"})


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    plan: str
    status: str
    current_period_end: datetime | None
    cancel_at_period_end: bool = False


def grants_plan(subscription: SubscriptionState, now: datetime) -> bool:
    """Active and trialing subscriptions grant their plan; non-renewing, attention, past-due
    and cancelled-at-period-end ones until the period ends; anything else (completed,
    cancelled, revoked, incomplete) grants nothing."""
    status = subscription.status.lower()
    if status in RENEWING and not subscription.cancel_at_period_end:
        return True
    if status in RENEWING or status in UNTIL_PERIOD_END:
        end = subscription.current_period_end
        return end is not None and now < end
    return False


def effective_plan(subscriptions: Iterable[SubscriptionState], now: datetime) -> str:
    """The best plan any subscription grants now; Free when none does."""
    best = Plan.FREE.value
    for subscription in subscriptions:
        granted = subscription.plan in RANK and grants_plan(subscription, now)
        if granted and RANK[subscription.plan] > RANK[best]:
            best = subscription.plan
    return best
