"""Single sign-on with OpenID Connect against a stand-in provider (`oidc_provider.py`) that
keeps the discovery, authorization-code-with-PKCE and JWKS contracts with real RS256 tokens:
a verified email signs in (a new person gets an account, the domain rule makes them a member),
and every token that does not hold is refused with a clear 4xx and no session."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pyotp
import pytest

from tests.query.conftest import Api, fast_settings
from tests.query.oidc_provider import CLIENT_ID, CLIENT_SECRET, StandInProvider
from traytic.query.settings import QuerySettings


@pytest.fixture
def provider() -> Iterator[StandInProvider]:
    stand_in = StandInProvider()
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def query_settings(provider: StandInProvider) -> QuerySettings:
    return fast_settings(
        oidc_issuer=provider.url,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_name="Acme ID",
        oidc_domain_orgs=["example.com=acme:viewer"],
    )


async def sso(api: Api, *, tamper: str | None = None) -> httpx.Response:
    """A browser's round trip: start (302 to the provider), the provider's page (302 back
    with a code), then the callback with the flow cookie the start set."""
    api.client.cookies.clear()
    started = await api.client.get("/api/auth/oidc/start", follow_redirects=False)
    assert started.status_code == 302, started.text
    flow = started.cookies["traytic_oidc"]
    query = parse_qs(urlparse(started.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    async with httpx.AsyncClient() as browser:
        authorized = await browser.get(started.headers["location"])
    assert authorized.status_code == 302, authorized.text
    back = urlparse(authorized.headers["location"])
    assert back.path == "/api/auth/oidc/callback"
    if tamper == "state":
        back = back._replace(query=back.query.replace("state=", "state=x"))
    if tamper == "verifier":
        flow = flow[:-4] + "AAAA"
    cookies = {} if tamper == "cookie" else {"traytic_oidc": flow}
    api.client.cookies.clear()
    return await api.client.get(
        f"{back.path}?{back.query}", cookies=cookies, follow_redirects=False
    )


def refused(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert "traytic_session" not in response.cookies
    if field is not None:
        assert response.json()["field"] == field, response.text


async def test_a_verified_email_signs_in_and_joins_by_domain(
    api: Api, provider: StandInProvider
) -> None:
    owner = await api.signup("owner@other.org")
    acme = await api.call("POST", "/api/orgs", owner, json={"name": "Acme", "slug": "acme"})
    assert acme.status_code == 201

    info = await api.call("GET", "/api/auth/oidc")
    assert info.json() == {"enabled": True, "name": "Acme ID"}
    signed_in = await sso(api)
    assert signed_in.status_code == 302 and signed_in.headers["location"] == "/"
    account = await api.account_from_cookies(signed_in)
    me = (await api.call("GET", "/api/auth/me", account)).json()
    assert me["user"]["email"] == "ann@example.com"
    roles = {org["slug"]: org["role"] for org in me["organisations"]}
    assert roles.pop("acme") == "viewer" and list(roles.values()) == ["owner"]  # + personal
    # No password works for an account made by single sign-on.
    login = {"email": "ann@example.com", "password": "!sso"}
    assert (await api.call("POST", "/api/auth/login", json=login)).status_code == 401

    again = await api.account_from_cookies(await sso(api))
    me_again = (await api.call("GET", "/api/auth/me", again)).json()
    assert me_again["user"]["id"] == me["user"]["id"]
    assert len(me_again["organisations"]) == 2

    # An existing password account is matched by its (verified) email, whatever its case.
    provider.user = {"sub": "u-2", "email": "OWNER@other.org", "email_verified": True}
    matched = await api.account_from_cookies(await sso(api))
    assert matched.user_id == owner.user_id


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"forge": True}, 401, "idToken"),
        ({"claims": {"aud": "another-client"}}, 401, "idToken"),
        ({"claims": {"nonce": "another-login"}}, 401, "idToken"),
        ({"claims": {"iss": "https://evil.example"}}, 401, "idToken"),
        ({"claims": {"exp": 1_000_000_000}}, 401, "idToken"),
        (
            {"user": {"sub": "u-3", "email": "eve@example.com", "email_verified": False}},
            403,
            "email",
        ),
        ({"user": {"sub": "u-4", "email": "eve@example.com"}}, 403, "email"),
    ],
    ids=["forged", "audience", "nonce", "issuer", "expired", "unverified", "no-verified-claim"],
)
async def test_tokens_that_do_not_hold_are_refused(
    api: Api, provider: StandInProvider, change: dict[str, object], status: int, field: str
) -> None:
    for name, value in change.items():
        setattr(provider, name, value)
    refused(await sso(api), status, field)
    assert (await api.call("GET", "/api/auth/me")).status_code == 401


async def test_a_callback_that_is_not_this_browsers_is_refused(api: Api) -> None:
    refused(await sso(api, tamper="state"), 400, "state")
    refused(await sso(api, tamper="cookie"), 400)
    refused(await sso(api, tamper="verifier"), 401, "code")  # PKCE: the provider says no
    refused(await api.client.get("/api/auth/oidc/callback?error=access_denied"), 403, "error")


async def test_a_person_with_two_factor_still_gives_a_code(
    api: Api, provider: StandInProvider
) -> None:
    account = await api.signup("two@example.com")
    setup = (await api.call("POST", "/api/auth/two-factor/setup", account)).json()
    totp = pyotp.TOTP(setup["secret"])
    enabled = await api.call(
        "POST", "/api/auth/two-factor/enable", account, json={"code": totp.now()}
    )
    assert enabled.status_code == 200
    provider.user = {"sub": "u-5", "email": "two@example.com", "email_verified": True}
    response = await sso(api)
    refused(response, 302)
    assert response.headers["location"].startswith("/login#twoFactor=")


@pytest.mark.parametrize("path", ["/api/auth/oidc/start", "/api/auth/oidc/callback?code=x"])
async def test_routes_answer_404_when_sso_is_off(
    db_settings,
    bus_settings,
    clean_database,
    path: str,  # type: ignore[no-untyped-def]
) -> None:
    from litestar.testing import AsyncTestClient

    from traytic.query.app import create_app

    app = create_app(fast_settings(), db_settings, bus_settings)
    async with AsyncTestClient(app) as client:
        assert (await client.get("/api/auth/oidc")).json() == {"enabled": False, "name": "SSO"}
        assert (await client.get(path)).status_code == 404
