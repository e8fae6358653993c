"""`GET /api/billing` links to where the customer manages the subscription: Polar's customer
portal (a customer session for the organisation) or Paystack's manage page; none for Free, and
the page still answers when the provider cannot give one."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.billing.conftest import MakeMember
from tests.billing.payloads import (
    paystack_charge_success,
    paystack_subscription,
    paystack_subscription_event,
    polar_subscription_event,
)
from tests.billing.providers import PaystackStub, PolarStub
from tests.billing.test_worker import (  # noqa: F401 - fixtures, reused by name
    FUTURE,
    Harness,
    harness,
    paystack_api,
)


async def overview(client: AsyncTestClient[Litestar], headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    response = await client.get("/api/billing", headers=headers)
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


async def test_polar_subscriber_gets_a_customer_portal_link(
    harness: Harness,  # noqa: F811
    make_member: MakeMember,
    polar: PolarStub,
) -> None:
    owner = await make_member(country="US")
    org = str(owner.org_id)
    await harness.deliver_polar(
        polar_subscription_event(
            "subscription.active", status="active", org_id=org, period_end=FUTURE
        )
    )
    await harness.worker.run_once()
    polar.customers.add(org)
    body = await overview(harness.client, owner.headers())
    assert body["plan"] == "pro"
    assert body["manageUrl"].startswith(
        "https://sandbox.polar.sh/acme/portal?customer_session_token="
    )
    [(method, _, sent)] = [r for r in polar.requests if r[1] == "/v1/customer-sessions/"]
    assert method == "POST"
    assert sent["external_customer_id"] == org
    assert sent["return_url"].endswith("/settings/billing")

    polar.customers.clear()  # Polar refuses: the page still answers, without a link
    assert (await overview(harness.client, owner.headers()))["manageUrl"] is None


async def test_paystack_subscriber_gets_the_manage_link(
    harness: Harness,  # noqa: F811
    make_member: MakeMember,
    paystack: PaystackStub,
) -> None:
    owner = await make_member(country="NG")
    charge = paystack_charge_success(reference="tr_m", org_id=str(owner.org_id))
    paystack.transactions["tr_m"] = charge["data"]
    paystack.subscriptions["SUB_m"] = paystack_subscription(code="SUB_m", next_payment=FUTURE)
    await harness.deliver_paystack(charge)
    await harness.deliver_paystack(
        paystack_subscription_event("subscription.create", code="SUB_m", next_payment=FUTURE)
    )
    assert await harness.worker.run_once() == 2
    body = await overview(harness.client, owner.headers())
    assert body["plan"] == "pro"
    token = paystack.manage_tokens["SUB_m"]
    assert body["manageUrl"] == (
        f"https://paystack.com/manage/subscriptions/SUB_m?subscription_token={token}"
    )
    assert ("GET", "/subscription/SUB_m/manage/link", None) in paystack.requests


async def test_free_organisation_has_no_manage_link(
    client: AsyncTestClient[Litestar],
    make_member: MakeMember,
    paystack: PaystackStub,
    polar: PolarStub,
) -> None:
    owner = await make_member(country="US")
    assert (await overview(client, owner.headers()))["manageUrl"] is None
    assert paystack.requests == [] and polar.requests == []
