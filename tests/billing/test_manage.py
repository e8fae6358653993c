"""`GET /api/billing` links to where the customer manages the subscription: Polar's customer
portal (a customer session for the organisation) or Paystack's manage page; none for Free, and
the page still answers when the provider cannot give one."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.billing.conftest import MakeMember, Member
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
from traytic.db.repositories import api_keys


async def overview(client: AsyncTestClient[Litestar], headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    response = await client.get("/api/billing", headers=headers)
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


async def polar_subscriber(harness: Harness, make_member: MakeMember, polar: PolarStub) -> Member:  # noqa: F811
    """The owner of an organisation on Pro through Polar, which knows it as a customer."""
    owner: Member = await make_member(country="US")
    org = str(owner.org_id)
    await harness.deliver_polar(
        polar_subscription_event(
            "subscription.active", status="active", org_id=org, period_end=FUTURE
        )
    )
    await harness.worker.run_once()
    polar.customers.add(org)
    return owner


async def test_polar_subscriber_gets_a_customer_portal_link(
    harness: Harness,  # noqa: F811
    make_member: MakeMember,
    polar: PolarStub,
) -> None:
    owner = await polar_subscriber(harness, make_member, polar)
    org = str(owner.org_id)
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


async def test_only_owners_and_admins_get_the_manage_link(
    harness: Harness,  # noqa: F811
    make_member: MakeMember,
    polar: PolarStub,
) -> None:
    """The link cancels the subscription or changes the card: a viewer, and a read-only API
    key, see the plan and usage but no link, and the provider is not even asked for one."""
    owner = await polar_subscriber(harness, make_member, polar)
    org = str(owner.org_id)
    admin = await make_member(role="admin", org_id=owner.org_id)
    viewer = await make_member(role="viewer", org_id=owner.org_id)
    async with harness.db.session() as session:
        _, key = await api_keys.create_api_key(session, owner.org_id, name="ci")

    def portal_requests() -> int:
        return sum(1 for r in polar.requests if r[1] == "/v1/customer-sessions/")

    for reader in (viewer.headers(), {"Authorization": f"Bearer {key}"}):
        body = await overview(harness.client, reader)
        assert body["plan"] == "pro"
        assert body["status"] == "active"
        assert body["manageUrl"] is None
    assert portal_requests() == 0
    for manager in (admin, owner):
        body = await overview(harness.client, manager.headers())
        assert body["manageUrl"].startswith("https://sandbox.polar.sh/acme/portal?")
    assert portal_requests() == 2

    # The key reads as a viewer: starting a checkout is refused like a viewer's.
    refused = await harness.client.post(
        "/api/billing/checkout",
        json={"plan": "team", "organisationId": org},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
