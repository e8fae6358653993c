"""Checkout routing and provider calls, and the billing overview."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.billing.conftest import (
    PAYSTACK_SECRET,
    POLAR_TOKEN,
    MakeMember,
    Member,
    polar_webhook,
    post,
    running,
    settings_for,
)
from tests.billing.payloads import polar_order_paid, polar_subscription_event
from tests.billing.providers import PaystackStub, PolarStub
from traytic.billing.providers.paystack_api import PaystackApi
from traytic.billing.worker import Worker
from traytic.db import Database


async def start(client: AsyncTestClient[Litestar], member: Member, **body: Any) -> Any:
    return await client.post("/api/billing/checkout", json=body, headers=member.headers())


async def test_african_country_goes_to_paystack(
    client: AsyncTestClient[Litestar], make_member: MakeMember, paystack: PaystackStub
) -> None:
    owner = await make_member(country="NG")
    response = await start(client, owner, plan="pro")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["provider"] == "paystack"
    assert body["url"].startswith("https://checkout.paystack.com/")
    [(method, path, sent)] = paystack.requests
    assert (method, path) == ("POST", "/transaction/initialize")
    assert sent["plan"] == "PLN_pro_ngn"
    assert sent["amount"] == "1490000"
    assert sent["currency"] == "NGN"
    assert sent["channels"] == ["card"]
    assert sent["email"] == owner.email
    assert sent["metadata"]["organisation_id"] == str(owner.org_id)
    assert sent["reference"] == body["reference"]


async def test_other_countries_go_to_polar(
    client: AsyncTestClient[Litestar], make_member: MakeMember, polar: PolarStub
) -> None:
    owner = await make_member(country="DE")
    response = await start(client, owner, plan="team")
    assert response.status_code == 200, response.text
    assert response.json()["provider"] == "polar"
    assert response.json()["url"].startswith("https://sandbox.polar.sh/checkout/")
    [(method, path, sent)] = polar.requests
    assert (method, path) == ("POST", "/v1/checkouts/")
    assert sent["products"] == ["prod_team"]
    assert sent["external_customer_id"] == str(owner.org_id)
    assert sent["metadata"] == {"organisation_id": str(owner.org_id), "plan": "team"}
    assert sent["success_url"].endswith("/settings/billing")


async def test_country_in_the_request_overrides_the_organisation(
    client: AsyncTestClient[Litestar],
    make_member: MakeMember,
    paystack: PaystackStub,
    polar: PolarStub,
) -> None:
    owner = await make_member(country="US")
    for country, provider in (("ke", "paystack"), ("GH", "paystack"), ("FR", "polar")):
        response = await start(client, owner, plan="pro", country=country)
        assert response.json()["provider"] == provider, (country, response.text)
    no_country = await make_member()
    response = await start(client, no_country, plan="pro")
    assert response.json()["provider"] == "polar"


async def test_only_owners_and_admins_start_checkouts(
    client: AsyncTestClient[Litestar], make_member: MakeMember, paystack: PaystackStub
) -> None:
    owner = await make_member(country="NG")
    admin = await make_member(role="admin", org_id=owner.org_id)
    viewer = await make_member(role="viewer", org_id=owner.org_id)
    assert (await start(client, viewer, plan="pro")).status_code == 403
    anonymous = await client.post("/api/billing/checkout", json={"plan": "pro"})
    assert anonymous.status_code == 401
    no_csrf = await client.post(
        "/api/billing/checkout",
        json={"plan": "pro"},
        headers={"Cookie": admin.headers()["Cookie"]},
    )
    assert no_csrf.status_code == 403
    assert (await start(client, admin, plan="pro")).status_code == 200
    bad_plan = await start(client, owner, plan="gold")
    assert bad_plan.status_code == 400 and bad_plan.json()["field"] == "plan"
    assert len(paystack.requests) == 1


async def test_paystack_errors_become_clear_502s(
    client: AsyncTestClient[Litestar], make_member: MakeMember, paystack: PaystackStub
) -> None:
    owner = await make_member(country="NG")
    paystack.fail_next += [
        (400, b'{"status": false, "message": "Invalid plan code"}'),
        (500, b"<html>Bad gateway</html>"),
        (200, b'{"status": false, "message": "Currency not supported by merchant"}'),
        (200, b'{"status": true, "message": "ok", "data": {}}'),
    ]
    messages = []
    for _ in range(4):
        response = await start(client, owner, plan="pro")
        assert response.status_code == 502, response.text
        assert response.json()["error"] == "provider_error"
        messages.append(response.json()["message"])
    assert "Invalid plan code" in messages[0]
    assert "500" in messages[1]
    assert "Currency not supported" in messages[2]
    assert "authorization_url" in messages[3]


async def test_provider_rejecting_our_credentials_is_a_502(
    db: Database,
    database_url: str,
    make_member: MakeMember,
    paystack: PaystackStub,
    polar: PolarStub,
) -> None:
    settings = settings_for(
        paystack, polar, paystack_secret_key="sk_test_revoked", polar_access_token="polar_oat_old"
    )
    async with running(settings, database_url) as client:
        for country in ("NG", "US"):
            owner = await make_member(country=country)
            response = await start(client, owner, plan="pro")
            assert response.status_code == 502, response.text
    assert [path for _, path, _ in paystack.requests] == ["/transaction/initialize"]
    assert [path for _, path, _ in polar.requests] == ["/v1/checkouts/"]


async def test_billing_off_answers_not_configured(
    db: Database, database_url: str, make_member: MakeMember
) -> None:
    owner = await make_member()
    async with running(settings_for(None, None), database_url) as client:
        checkout = await start(client, owner, plan="pro")
        overview = await client.get("/api/billing", headers=owner.headers())
    for response in (checkout, overview):
        assert response.status_code == 404
        assert response.json()["error"] == "billing_not_configured"


async def test_overview_after_a_polar_checkout_and_webhooks(
    client: AsyncTestClient[Litestar],
    make_member: MakeMember,
    db: Database,
    paystack: PaystackStub,
    polar: PolarStub,
) -> None:
    owner = await make_member(country="US")
    before = await client.get("/api/billing", headers=owner.headers())
    assert before.status_code == 200, before.text
    assert before.json()["plan"] == "free" and before.json()["status"] == "free"
    assert before.json()["usage"] == {
        "eventsThisMonth": 0,
        "eventsLimit": 10000,
        "overQuota": False,
    }

    assert (await start(client, owner, plan="pro")).status_code == 200
    org = str(owner.org_id)
    for event in (
        polar_subscription_event(
            "subscription.active", status="active", org_id=org, period_end="2099-01-01T00:00:00Z"
        ),
        polar_order_paid(org_id=org),
    ):
        assert (await post(client, "/webhooks/polar", polar_webhook(event))).status_code == 200
    api = PaystackApi(PAYSTACK_SECRET, paystack.url, timeout_s=5)
    try:
        await Worker(db, settings_for(paystack, polar), api).run_once()
    finally:
        await api.close()

    after = (await client.get("/api/billing", headers=owner.headers())).json()
    assert after["plan"] == "pro"
    assert after["status"] == "active"
    assert after["currentPeriodEnd"].startswith("2099-01-01")
    assert after["subscription"]["provider"] == "polar"
    assert after["usage"]["eventsLimit"] is None
    [invoice] = after["invoices"]
    assert (invoice["status"], invoice["amount"], invoice["currency"]) == ("paid", 900, "USD")
    viewer = await make_member(role="viewer", org_id=owner.org_id)
    assert (await client.get("/api/billing", headers=viewer.headers())).status_code == 200
    stranger = await make_member()
    hidden = await client.get(f"/api/billing?organisationId={org}", headers=stranger.headers())
    assert hidden.status_code == 404
    assert POLAR_TOKEN  # the stub checked our bearer token on the checkout call


async def test_checkout_saves_the_country_it_was_given_when_none_was_set(
    client: AsyncTestClient[Litestar], make_member: MakeMember, db: Database
) -> None:
    from traytic.db.models import Organisation

    async def country_of(member: Member) -> str | None:
        async with db.session() as session:
            org = await session.get(Organisation, member.org_id, populate_existing=True)
            assert org is not None
            return org.billing_country

    newcomer = await make_member()
    assert (await start(client, newcomer, plan="pro", country="ke")).status_code == 200
    assert await country_of(newcomer) == "KE"
    assert (await start(client, newcomer, plan="pro", country="FR")).status_code == 200
    assert await country_of(newcomer) == "KE"  # set once: later checkouts only route
    settled = await make_member(country="US")
    assert (await start(client, settled, plan="pro", country="NG")).status_code == 200
    assert await country_of(settled) == "US"
    refused = await make_member()
    assert (await start(client, refused, plan="gold", country="GH")).status_code == 400
    assert await country_of(refused) is None
