"""Two-factor sign-in (TOTP): enrolment confirmed with a code, sign-in that asks for the code
after the password, codes that work once, recovery codes shown once and stored hashed, turning
it off with a code, and organisations whose owner requires it. Every route's access too."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from sqlmodel import select

from tests.query.conftest import PASSWORD, Account, Api, fast_settings
from traytic.db import Database, DbSettings, create_engine
from traytic.db.models import RecoveryCode
from traytic.query.settings import QuerySettings


@pytest.fixture
def query_settings() -> QuerySettings:
    return fast_settings(two_factor_code_limit=5)


def code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def now_step() -> int:
    return pyotp.TOTP(pyotp.random_base32()).timecode(time.time())


async def enrol(api: Api, account: Account, step: int) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on with the code of `step`; the secret and recovery codes."""
    setup = await api.call("POST", "/api/auth/two-factor/setup", account)
    assert setup.status_code == 201, setup.text
    secret = setup.json()["secret"]
    enabled = await api.call(
        "POST", "/api/auth/two-factor/enable", account, json={"code": code(secret, step)}
    )
    assert enabled.status_code == 200, enabled.text
    codes: list[str] = enabled.json()["recoveryCodes"]
    return secret, codes


async def login(api: Api, email: str) -> str:
    response = await api.call(
        "POST", "/api/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 202, response.text
    assert "set-cookie" not in response.headers  # a pending login, not a session
    body: dict[str, Any] = response.json()
    assert body["twoFactorRequired"] is True
    return str(body["pendingToken"])


async def login_code(api: Api, pending: str, value: str) -> Any:
    return await api.call(
        "POST", "/api/auth/login/code", json={"pendingToken": pending, "code": value}
    )


async def test_enrol_then_sign_in_with_a_code_that_works_once(api: Api) -> None:
    step = now_step()  # codes of `step` and `step + 1` stay valid for the whole test
    account = await api.signup("totp@example.com")
    setup = await api.call("POST", "/api/auth/two-factor/setup", account)
    body = setup.json()
    assert "otpauth://totp/Traytic:totp%40example.com?secret=" in body["otpauthUri"]
    assert "issuer=Traytic" in body["otpauthUri"] and body["qrSvg"].startswith("<svg")
    wrong = await api.call("POST", "/api/auth/two-factor/enable", account, json={"code": "000000"})
    assert wrong.status_code == 400 and wrong.json()["field"] == "code"
    assert (await api.call("GET", "/api/auth/two-factor", account)).json()["enabled"] is False

    secret, recovery = await enrol(api, account, step)
    assert len(recovery) == 10 and len(set(recovery)) == 10
    status = (await api.call("GET", "/api/auth/two-factor", account)).json()
    assert status == {"enabled": True, "recoveryCodesLeft": 10}
    assert (await api.call("GET", "/api/auth/me", account)).json()["twoFactor"] is True

    pending = await login(api, "totp@example.com")
    assert (await login_code(api, pending, "123456")).status_code == 401
    # The code used to enable is spent: the same code again is refused within its window.
    replay = await login_code(api, pending, code(secret, step))
    assert replay.status_code == 401 and replay.json()["field"] == "code"
    signed_in = await login_code(api, pending, code(secret, step + 1))
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["email"] == "totp@example.com"
    assert "traytic_session" in signed_in.cookies
    # The pending login is used up, and the code too.
    assert (await login_code(api, pending, code(secret, step + 1))).status_code == 401
    again = await login(api, "totp@example.com")
    assert (await login_code(api, again, code(secret, step + 1))).status_code == 401

    # A recovery code stands in for the app, once.
    assert (await login_code(api, again, recovery[0].upper())).status_code == 200
    third = await login(api, "totp@example.com")
    assert (await login_code(api, third, recovery[0])).status_code == 401
    status = (await api.call("GET", "/api/auth/two-factor", account)).json()
    assert status["recoveryCodesLeft"] == 9


async def test_recovery_codes_are_stored_hashed(api: Api, db_settings: DbSettings) -> None:
    account = await api.signup()
    _, recovery = await enrol(api, account, now_step())
    database = Database(create_engine(db_settings))
    try:
        async with database.session() as session:
            rows = (await session.exec(select(RecoveryCode))).all()
    finally:
        await database.dispose()
    stored = {row.code_hash for row in rows}
    assert len(stored) == 10
    assert not stored & {c.replace("-", "") for c in recovery} and not stored & set(recovery)


async def test_wrong_codes_back_off_and_pending_logins_expire(api: Api) -> None:
    account = await api.signup("slow@example.com")
    secret, _ = await enrol(api, account, now_step())
    pending = await login(api, "slow@example.com")
    for _ in range(5):  # two_factor_code_limit=5
        assert (await login_code(api, pending, "000000")).status_code == 401
    limited = await login_code(api, pending, code(secret, now_step() + 1))
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    unknown = await login_code(api, "not-a-pending-login", "000000")
    assert unknown.status_code == 401 and unknown.json()["field"] == "pendingToken"
    extra = await api.call(
        "POST",
        "/api/auth/login/code",
        json={"pendingToken": pending, "code": "1", "remember": True},
    )
    assert extra.status_code == 400


async def test_disable_needs_a_code(api: Api) -> None:
    account = await api.signup("off@example.com")
    step = now_step()
    secret, recovery = await enrol(api, account, step)
    again = await api.call("POST", "/api/auth/two-factor/setup", account)
    assert again.status_code == 409
    wrong = await api.call("POST", "/api/auth/two-factor/disable", account, json={"code": "1"})
    assert wrong.status_code == 400 and wrong.json()["field"] == "code"
    renewed = await api.call(
        "POST", "/api/auth/two-factor/recovery-codes", account, json={"code": recovery[1]}
    )
    assert renewed.status_code == 200
    fresh = renewed.json()["recoveryCodes"]
    old = await api.call(
        "POST", "/api/auth/two-factor/disable", account, json={"code": recovery[2]}
    )
    assert old.status_code == 400  # the old codes stopped working
    off = await api.call(
        "POST", "/api/auth/two-factor/disable", account, json={"code": code(secret, step + 1)}
    )
    assert off.status_code == 204
    assert (await api.call("GET", "/api/auth/two-factor", account)).json()["enabled"] is False
    response = await api.call(
        "POST", "/api/auth/login", json={"email": "off@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200  # straight in again
    not_on = await api.call(
        "POST", "/api/auth/two-factor/disable", account, json={"code": fresh[0]}
    )
    assert not_on.status_code == 409


async def test_two_factor_routes_are_for_signed_in_people(api: Api) -> None:
    account = await api.signup()
    key = (await api.create_key(account))["key"]
    routes = [
        ("GET", "/api/auth/two-factor", None),
        ("POST", "/api/auth/two-factor/setup", None),
        ("POST", "/api/auth/two-factor/enable", {"code": "123456"}),
        ("POST", "/api/auth/two-factor/recovery-codes", {"code": "123456"}),
        ("POST", "/api/auth/two-factor/disable", {"code": "123456"}),
    ]
    for method, url, body in routes:
        assert (await api.call(method, url, json=body)).status_code == 401, url
        assert (await api.call(method, url, key=key, json=body)).status_code == 403, url
        if method == "POST":
            no_csrf = await api.call(method, url, account, csrf=False, json=body)
            assert no_csrf.status_code == 403, url


async def test_an_owner_requires_two_factor_of_every_member(api: Api) -> None:
    owner, admin, viewer, stranger = [await api.signup() for _ in range(4)]
    await api.add_member(owner, admin, "admin")
    await api.add_member(owner, viewer, "viewer")
    site = await api.create_site(owner)
    key = (await api.create_key(owner))["key"]
    org = f"/api/orgs/{owner.org_id}"
    require = {"requireTwoFactor": True}

    # Only an owner, and only one who has it on (else they would lock themselves out).
    assert (await api.call("PATCH", org, admin, json=require)).status_code == 403
    assert (await api.call("PATCH", org, viewer, json=require)).status_code == 403
    assert (await api.call("PATCH", org, stranger, json=require)).status_code == 404
    assert (await api.call("PATCH", org, key=key, json=require)).status_code == 403
    refused = await api.call("PATCH", org, owner, json=require)
    assert refused.status_code == 409 and refused.json()["field"] == "requireTwoFactor"
    await enrol(api, owner, now_step())
    done = await api.call("PATCH", org, owner, json=require)
    assert done.status_code == 200 and done.json()["requireTwoFactor"] is True

    # Members without it are told to turn it on; their own settings and /me still work.
    for member in (admin, viewer):
        for url in (org, f"{org}/sites", f"/api/events/{site['id']}/overview"):
            response = await api.call("GET", url, member)
            assert response.status_code == 403, url
            assert response.json()["error"] == "two_factor_required"
            assert "turn it on" in response.json()["message"]
        me = await api.call("GET", "/api/auth/me", member)
        assert me.status_code == 200
        flags = {o["id"]: o["requireTwoFactor"] for o in me.json()["organisations"]}
        assert flags[owner.org_id] is True and flags[member.org_id] is False
    assert (await api.call("GET", f"{org}/sites", owner)).status_code == 200
    # API keys are the organisation's own, not people: they keep reading.
    assert (await api.call("GET", f"{org}/sites", key=key)).status_code == 200

    await enrol(api, viewer, now_step())
    assert (await api.call("GET", f"{org}/sites", viewer)).status_code == 200
    assert (await api.call("GET", f"{org}/sites", admin)).status_code == 403
