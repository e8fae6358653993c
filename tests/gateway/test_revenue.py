"""Revenue on custom events at `POST /collect`: what is accepted lands on the stream as sent,
and every bad amount or currency is a 400 naming `revenue.amount` or `revenue.currency`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from tests.gateway.conftest import StreamReader

from traytic.core.events import CustomEvent
from traytic.core.revenue import CURRENCIES, amount_micros


def purchase(site_id: str, revenue: object) -> dict[str, Any]:
    return {
        "siteId": site_id,
        "events": [
            {"type": "pageview", "url": "https://shop.example.com/checkout"},
            {
                "type": "event",
                "name": "purchase",
                "url": "https://shop.example.com/checkout",
                "props": {"plan": "pro"},
                "revenue": revenue,
            },
        ],
    }


@pytest.mark.parametrize(
    ("revenue", "micros"),
    [
        ({"amount": 29.99, "currency": "EUR"}, 29_990_000),
        ({"amount": "1499.5", "currency": "ngn"}, 1_499_500_000),
        ({"amount": 0, "currency": "JPY"}, 0),
        ({"amount": 0.1 + 0.2, "currency": "USD"}, 300_000),
    ],
)
async def test_revenue_lands_as_sent(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
    revenue: dict[str, Any],
    micros: int,
) -> None:
    response = await client.post("/collect", content=json.dumps(purchase(site_id, revenue)))
    assert response.status_code == 204, response.text

    [received] = await reader.beacons(expect=1)
    event = received.events[1]
    assert isinstance(event, CustomEvent) and event.revenue is not None
    assert event.revenue.amount == revenue["amount"]
    assert event.revenue.currency == revenue["currency"]
    assert amount_micros(event.revenue.amount) == micros


@pytest.mark.parametrize(
    ("revenue", "field"),
    [
        ({"amount": -5, "currency": "EUR"}, "$.events[1].revenue.amount"),
        ({"amount": "12,50", "currency": "EUR"}, "$.events[1].revenue.amount"),
        ({"amount": "NaN", "currency": "EUR"}, "$.events[1].revenue.amount"),
        ({"amount": 1e15, "currency": "EUR"}, "$.events[1].revenue.amount"),
        ({"amount": "9999999999999", "currency": "EUR"}, "$.events[1].revenue.amount"),
        ({"amount": True, "currency": "EUR"}, "$.events[1].revenue.amount"),
        ({"currency": "EUR"}, "$.events[1].revenue.amount"),
        ({"amount": 5, "currency": "ZZZ"}, "$.events[1].revenue.currency"),
        ({"amount": 5, "currency": "XAU"}, "$.events[1].revenue.currency"),
        ({"amount": 5, "currency": "EURO"}, "$.events[1].revenue.currency"),
        ({"amount": 5}, "$.events[1].revenue.currency"),
        ("29.99 EUR", "$.events[1].revenue"),
    ],
)
async def test_bad_revenue_is_400_naming_the_field(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
    revenue: object,
    field: str,
) -> None:
    response = await client.post("/collect", content=json.dumps(purchase(site_id, revenue)))
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert await reader.pending() == 0


amounts = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(),
    st.text(max_size=16),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.none(),
    st.booleans(),
)
currencies = st.one_of(st.sampled_from(sorted(CURRENCIES)), st.text(max_size=5), st.integers())


def accepted(amount: object, currency: object) -> bool:
    """What the gateway should accept, worked out from `traytic.core.revenue` alone."""
    if isinstance(amount, bool) or not isinstance(currency, str) or amount is None:
        return False
    if len(currency) != 3 or not currency.isascii() or currency.upper() not in CURRENCIES:
        return False
    if isinstance(amount, str):
        whole, _, fraction = amount.partition(".")
        digits_ok = whole.isdigit() and whole.isascii() and len(whole) <= 13
        if not digits_ok or ("." in amount and not (fraction.isdigit() and fraction.isascii())):
            return False
        if len(fraction) > 20:
            return False
    elif isinstance(amount, int | float) and not -(2**63) <= amount <= 1e12:
        return False
    try:
        amount_micros(amount)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amount=amounts, currency=currencies)
async def test_any_revenue_is_accepted_or_refused_by_name(
    client: AsyncTestClient,  # type: ignore[type-arg]
    site_id: str,
    amount: object,
    currency: object,
) -> None:
    body = json.dumps(purchase(site_id, {"amount": amount, "currency": currency}))
    response = await client.post("/collect", content=body)
    if accepted(amount, currency):
        assert response.status_code == 204, response.text
    else:
        assert response.status_code == 400, (amount, currency)
        assert response.json()["field"].startswith("$.events[1].revenue")
