"""Signup, login, logout, me; cookies; CSRF; the login rate limit; API keys as callers."""

from __future__ import annotations

import contextlib
import io

from tests.query.conftest import PASSWORD, Api, confirmed_signup


async def test_signup_mails_a_link_that_creates_the_account(api: Api) -> None:
    response = await api.call(
        "POST",
        "/api/auth/signup",
        json={"email": "Ann@Example.com", "password": PASSWORD, "name": "Ann"},
    )
    assert response.status_code == 202, response.text
    assert "set-cookie" not in response.headers  # nobody is signed in before the link
    assert response.json()["email"] == "ann@example.com"
    # No account yet: the password does not sign in until the link is used.
    login = {"email": "ann@example.com", "password": PASSWORD}
    assert (await api.call("POST", "/api/auth/login", json=login)).status_code == 401

    token = await api.request_signup("ann@example.com")
    confirmed = await api.call("POST", "/api/auth/signup/confirm", json={"token": token})
    assert confirmed.status_code == 201, confirmed.text
    body = confirmed.json()
    assert body["kind"] == "user"
    assert body["user"]["email"] == "ann@example.com"
    assert [org["role"] for org in body["organisations"]] == ["owner"]
    assert "passwordHash" not in confirmed.text and PASSWORD not in confirmed.text
    me = await api.call("GET", "/api/auth/me", api.account_from(confirmed))
    assert me.json()["user"]["email"] == "ann@example.com"
    assert (await api.call("POST", "/api/auth/login", json=login)).status_code == 200

    # The link works once, and the first sign-up's link died with the account's creation.
    again = await api.call("POST", "/api/auth/signup/confirm", json={"token": token})
    assert again.status_code == 404 and again.json()["field"] == "token"
    unknown = await api.call("POST", "/api/auth/signup/confirm", json={"token": "nope"})
    assert unknown.status_code == 404


async def test_signup_answers_alike_for_a_registered_email(api: Api) -> None:
    """A stranger learns nothing: the same status and body; the address's owner gets a mail
    saying someone tried, and nothing changed (their password still works, no session)."""
    await api.signup("dup@example.com")
    printed = io.StringIO()
    answers = []
    with contextlib.redirect_stdout(printed):
        for email in ("DUP@example.com", "new@example.com"):
            response = await api.call(
                "POST", "/api/auth/signup", json={"email": email, "password": "another one!"}
            )
            assert "set-cookie" not in response.headers
            answers.append((response.status_code, sorted(response.json())))
    assert answers[0] == answers[1] == (202, ["email", "message"])
    mails = printed.getvalue()
    assert "dup@example.com, which already has an account" in mails
    assert "http://localhost:3001/login" in mails
    assert mails.count("/signup/confirm#token=") == 1  # only the new address got a link
    old = {"email": "dup@example.com", "password": PASSWORD}
    assert (await api.call("POST", "/api/auth/login", json=old)).status_code == 200


async def test_a_strangers_signup_with_my_address_holds_nothing(api: Api) -> None:
    """The stranger's link reaches me, not them; mine makes the account with my password,
    and theirs is void from then on."""
    strangers = await api.request_signup("mine@example.com", "stranger's password")
    mine = await api.request_signup("mine@example.com", PASSWORD)
    made = await api.call("POST", "/api/auth/signup/confirm", json={"token": mine})
    assert made.status_code == 201
    late = await api.call("POST", "/api/auth/signup/confirm", json={"token": strangers})
    assert late.status_code == 404
    bad = {"email": "mine@example.com", "password": "stranger's password"}
    assert (await api.call("POST", "/api/auth/login", json=bad)).status_code == 401


async def test_cookie_flags(api: Api) -> None:
    token = await api.request_signup("c@example.com")
    response = await api.call("POST", "/api/auth/signup/confirm", json={"token": token})
    cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
    session, csrf = cookies["traytic_session"], cookies["traytic_csrf"]
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    assert "httponly" not in csrf and "samesite=lax" in csrf
    assert "secure" not in session  # dev default: http://localhost must work


async def test_secure_cookies_setting(db_settings, bus_settings, clean_database) -> None:  # type: ignore[no-untyped-def]
    from litestar.testing import AsyncTestClient

    from tests.query.conftest import fast_settings
    from traytic.query.app import create_app

    app = create_app(fast_settings(secure_cookies=True), db_settings, bus_settings)
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        response = await confirmed_signup(client, "s@example.com")
    assert response.status_code == 201
    for cookie in response.headers.get_list("set-cookie"):
        assert "secure" in cookie.lower()


async def test_cookies_are_secure_wherever_the_public_url_is_https(  # type: ignore[no-untyped-def]
    db_settings, bus_settings, clean_database
) -> None:
    """Behind a TLS terminator the app itself sees http: the public URL says what people use."""
    from litestar.testing import AsyncTestClient

    from tests.query.conftest import fast_settings
    from traytic.query.app import create_app

    settings = fast_settings(public_url="https://analytics.example.com")
    assert not settings.secure_cookies
    app = create_app(settings, db_settings, bus_settings)
    async with AsyncTestClient(app) as client:
        response = await confirmed_signup(client, "https@example.com")
    assert response.status_code == 201
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 2 and all("; secure" in cookie.lower() for cookie in cookies)


async def test_password_rules_are_400_naming_password(api: Api) -> None:
    for password in ("short", " " * 20, "p@example.com", "x" * 300):
        response = await api.call(
            "POST", "/api/auth/signup", json={"email": "p@example.com", "password": password}
        )
        assert response.status_code == 400, password
        assert response.json()["field"] == "password"


async def test_login_logout_me(api: Api) -> None:
    account = await api.signup("l@example.com")
    response = await api.call(
        "POST", "/api/auth/login", json={"email": "L@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    fresh = api.account_from(response)
    assert fresh.session != account.session

    out = await api.call("POST", "/api/auth/logout", fresh)
    assert out.status_code == 204
    assert (await api.call("GET", "/api/auth/me", fresh)).status_code == 401
    # The other browser's session is untouched.
    assert (await api.call("GET", "/api/auth/me", account)).status_code == 200


async def test_wrong_password_and_unknown_user_answer_alike(api: Api) -> None:
    await api.signup("w@example.com")
    wrong = await api.call(
        "POST", "/api/auth/login", json={"email": "w@example.com", "password": "not it at all"}
    )
    unknown = await api.call(
        "POST", "/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers


async def test_login_rate_limit_per_email_and_ip(api: Api) -> None:
    await api.signup("r@example.com")
    bad = {"email": "r@example.com", "password": "wrong password"}
    for _ in range(3):  # login_rate_limit=3 in the test settings
        assert (await api.call("POST", "/api/auth/login", json=bad)).status_code == 401
    limited = await api.call(
        "POST", "/api/auth/login", json={"email": "r@example.com", "password": PASSWORD}
    )
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    other = await api.call(
        "POST", "/api/auth/login", json={"email": "else@example.com", "password": PASSWORD}
    )
    assert other.status_code == 401  # another email is not limited


async def test_no_credentials_is_401(api: Api) -> None:
    assert (await api.call("GET", "/api/auth/me")).status_code == 401
    assert (await api.call("GET", "/api/orgs")).status_code == 401
    response = await api.client.get("/api/auth/me", headers={"Cookie": "traytic_session=forged"})
    assert response.status_code == 401


async def test_csrf_needed_for_cookie_writes(api: Api) -> None:
    account = await api.signup()
    url = f"/api/orgs/{account.org_id}/sites"
    missing = await api.call("POST", url, account, csrf=False, json={"domain": "a.com"})
    assert missing.status_code == 403
    assert missing.json()["error"] == "csrf_rejected"
    forged = await api.client.post(
        url,
        headers={**account.headers(csrf=False), "X-CSRF-Token": "0" * 64},
        json={"domain": "a.com"},
    )
    assert forged.status_code == 403
    # Reads need no token; a write with the cookie's value in the header goes through.
    assert (await api.call("GET", url, account, csrf=False)).status_code == 200
    assert (await api.call("POST", url, account, json={"domain": "a.com"})).status_code == 201
    # Logout is a write too.
    assert (await api.call("POST", "/api/auth/logout", account, csrf=False)).status_code == 403


async def test_api_key_authenticates_without_csrf_and_revoked_key_is_rejected(api: Api) -> None:
    account = await api.signup()
    site = await api.create_site(account)
    created = await api.create_key(account)
    key = created["key"]
    assert key.startswith(created["prefix"] + "_")

    me = await api.call("GET", "/api/auth/me", key=key)
    assert me.status_code == 200, me.text
    assert me.json()["kind"] == "api_key"
    assert me.json()["organisations"][0]["id"] == account.org_id
    sites = await api.call("GET", f"/api/orgs/{account.org_id}/sites", key=key)
    assert [s["id"] for s in sites.json()] == [site["id"]]
    # A key reads; it does not manage (and needs no CSRF token to be told so).
    write = await api.call(
        "POST", f"/api/orgs/{account.org_id}/sites", key=key, json={"domain": "b.com"}
    )
    assert write.status_code == 403
    assert write.json()["error"] == "forbidden"
    assert (await api.call("GET", "/api/orgs", key=key)).status_code == 403

    listed = await api.call("GET", f"/api/orgs/{account.org_id}/keys", account)
    assert [k["prefix"] for k in listed.json()] == [created["prefix"]]
    assert "key" not in listed.json()[0]
    revoked = await api.call("DELETE", f"/api/orgs/{account.org_id}/keys/{created['id']}", account)
    assert revoked.status_code == 204
    assert (await api.call("GET", "/api/auth/me", key=key)).status_code == 401
    assert (await api.call("GET", f"/api/orgs/{account.org_id}/keys", account)).json() == []
    assert (await api.call("GET", "/api/auth/me", key="tk_live_nonsense")).status_code == 401
    malformed = await api.client.get("/api/auth/me", headers={"Authorization": "Basic eA=="})
    assert malformed.status_code == 401


async def test_docs_are_served(api: Api) -> None:
    response = await api.client.get("/docs/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/auth/signup" in paths
    assert "/api/orgs/{org_id}/sites" in paths
    assert (await api.client.get("/docs")).status_code == 200
