"""The pure plan rules: prices, quotas, routing and what a subscription grants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from traytic.billing.plans import (
    PAYSTACK_COUNTRIES,
    SubscriptionState,
    effective_plan,
    is_over_quota,
    price,
    provider_for_country,
)
from traytic.billing.settings import BillingSettings
from traytic.db.models import Provider

NOW = datetime(2026, 11, 28, tzinfo=UTC)
LATER = NOW + timedelta(days=10)
EARLIER = NOW - timedelta(days=1)


def test_prices_are_integer_subunits() -> None:
    extra = BillingSettings(price_ghs_pro=150_00).extra_prices()
    assert price("pro", "USD", extra) == 900
    assert price("team", "NGN", extra) == 4_490_000
    assert price("pro", "GHS", extra) == 15_000
    assert price("team", "GHS", extra) is None
    assert price("pro", "KES", extra) is None
    assert price("free", "USD", extra) == 0


def test_free_quota_is_ten_thousand_events_a_month() -> None:
    assert not is_over_quota("free", 9_999)
    assert is_over_quota("free", 10_000)
    assert not is_over_quota("free", 10_500, grace=0.1)
    assert not is_over_quota("pro", 10**9)


def test_routing_by_country() -> None:
    for country in ("NG", "gh", "KE", "ZA", "CI", "EG", "RW"):
        assert provider_for_country(country) is Provider.PAYSTACK
    for country in ("US", "DE", "IN", "MA", None, ""):
        assert provider_for_country(country) is Provider.POLAR


@given(st.text(max_size=4))
def test_routing_never_fails(country: str) -> None:
    expected = country.strip().upper() in PAYSTACK_COUNTRIES
    assert (provider_for_country(country) is Provider.PAYSTACK) == expected


def test_what_each_status_grants() -> None:
    def plan(status: str, end: datetime | None, cancel: bool = False) -> str:
        return effective_plan([SubscriptionState("pro", status, end, cancel)], NOW)

    assert plan("active", EARLIER) == "pro"
    assert plan("trialing", None) == "pro"
    for status in ("non-renewing", "attention", "past_due"):
        assert plan(status, LATER) == "pro"
        assert plan(status, EARLIER) == "free"
    assert plan("active", LATER, cancel=True) == "pro"
    assert plan("active", EARLIER, cancel=True) == "free"
    for status in ("complete", "completed", "cancelled", "canceled", "incomplete", "unpaid"):
        assert plan(status, LATER) == "free"


def test_best_plan_wins() -> None:
    subscriptions = [
        SubscriptionState("pro", "active", LATER),
        SubscriptionState("team", "non-renewing", LATER),
        SubscriptionState("team", "cancelled", LATER),
    ]
    assert effective_plan(subscriptions, NOW) == "team"
    assert effective_plan([], NOW) == "free"
