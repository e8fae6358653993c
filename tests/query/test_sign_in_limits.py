"""Sign-in that strangers cannot abuse: login CSRF (JSON only, no unknown fields), failed
logins backing off per address and per account without locking the real user out, sign-ups
limited per address, each counted at the client's real address behind a trusted proxy, and
shared by replicas through NATS KV."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.query.conftest import PASSWORD, confirmed_signup, fast_settings
from traytic.core.bus import BusSettings
from traytic.db import DbSettings
from traytic.query.app import create_app

PROXY = "10.1.2.3"

Client = Callable[[str], httpx.AsyncClient]
"""A client whose requests come through the trusted proxy on behalf of an address."""


@contextlib.asynccontextmanager
async def running(
    db_settings: DbSettings, bus_settings: BusSettings
) -> AsyncIterator[tuple[Client, Client]]:
    """Two query replicas behind one trusted proxy, on one database and one NATS namespace
    (a context in the test's own task: the lifespans' task groups must close where opened)."""
    settings = fast_settings(
        trusted_proxies=[f"{PROXY}/32"],
        login_rate_limit=3,
        login_account_limit=5,
        login_account_max_wait_s=1.0,
        signup_rate_limit=3,
    )
    apps: list[Litestar] = [create_app(settings, db_settings, bus_settings) for _ in range(2)]
    async with apps[0].lifespan(), apps[1].lifespan():

        def through(app: Litestar) -> Client:
            def client(address: str) -> httpx.AsyncClient:
                return httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, client=(PROXY, 40000)),
                    base_url="http://testserver",
                    headers={"X-Forwarded-For": f"{address}, {PROXY}"},
                )

            return client

        yield through(apps[0]), through(apps[1])


Replicas = Callable[[], contextlib.AbstractAsyncContextManager[tuple[Client, Client]]]


@pytest.fixture
def replicas(db_settings: DbSettings, bus_settings: BusSettings, clean_database: None) -> Replicas:
    return lambda: running(db_settings, bus_settings)


async def _signup(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def test_auth_routes_take_json_only_and_no_unknown_fields(
    replicas: Replicas,
) -> None:
    """A form on another site can post `text/plain` without a preflight: it must not sign
    anyone in (login CSRF)."""
    async with replicas() as (one, _), one("198.51.100.7") as client:
        assert (await confirmed_signup(client, "csrf@example.com")).status_code == 201
        body = f'{{"email": "csrf@example.com", "password": "{PASSWORD}"}}'
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            headers = {"content-type": content_type} if content_type else {}
            client.cookies.clear()
            sent = await client.post("/api/auth/login", content=body, headers=headers)
            assert sent.status_code == 415, sent.text
            assert "set-cookie" not in sent.headers
            signup = await client.post(
                "/api/auth/signup",
                content=body.replace("csrf@", "csrf2@"),
                headers=headers,
            )
            assert signup.status_code == 415
            confirm = await client.post(
                "/api/auth/signup/confirm", content='{"token": "x"}', headers=headers
            )
            assert confirm.status_code == 415
        extra: dict[str, Any] = {"email": "csrf@example.com", "password": PASSWORD, "admin": 1}
        unknown = await client.post("/api/auth/login", json=extra)
        assert unknown.status_code == 400
        assert "set-cookie" not in unknown.headers
        good = await client.post(
            "/api/auth/login",
            content=body,
            headers={"content-type": "application/json; charset=utf-8"},
        )
        assert good.status_code == 200


async def test_a_stranger_cannot_lock_the_owner_out(replicas: Replicas) -> None:
    async with replicas() as (one, two):
        await _stranger_then_owner(one, two)


async def _stranger_then_owner(one: Client, two: Client) -> None:
    async with one("198.51.100.1") as owner, one("203.0.113.66") as guesser:
        assert (await confirmed_signup(owner, "victim@example.com")).status_code == 201
        statuses = [
            (await _login(guesser, "victim@example.com", f"guess {n}")).status_code
            for n in range(8)
        ]
        # The guesser's own address backs off after its three free tries...
        assert statuses[:3] == [401, 401, 401]
        assert statuses[3:] == [429] * 5
        blocked = await _login(guesser, "victim@example.com", PASSWORD)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
    # ...and the owner, elsewhere and on the other replica, waits at most the account's cap.
    async with two("198.51.100.1") as owner:
        answer = await _login(owner, "victim@example.com", PASSWORD)
        if answer.status_code == 429:
            wait = float(answer.headers["retry-after"])
            assert wait <= 1
            await asyncio.sleep(wait)
            answer = await _login(owner, "victim@example.com", PASSWORD)
        assert answer.status_code == 200, answer.text


async def test_failures_count_across_replicas(replicas: Replicas) -> None:
    """Three failures spread over two replicas are three, not one and a half per replica."""
    async with replicas() as (one, two), one("192.0.2.5") as a, two("192.0.2.5") as b:
        assert (await confirmed_signup(a, "shared@example.com")).status_code == 201
        for client in (a, b, a):
            assert (await _login(client, "shared@example.com", "nope nope")).status_code == 401
        assert (await _login(b, "shared@example.com", PASSWORD)).status_code == 429


async def test_signups_are_limited_per_address(replicas: Replicas) -> None:
    async with (
        replicas() as (one, two),
        one("192.0.2.77") as first,
        two("192.0.2.77") as again,
        one("192.0.2.78") as other,
    ):
        for n in range(3):
            assert (await _signup(first, f"s{n}@example.com")).status_code == 202
        limited = await _signup(again, "s3@example.com")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert (await _signup(other, "s4@example.com")).status_code == 202


async def test_signups_are_limited_per_email_whether_registered_or_not(
    replicas: Replicas,
) -> None:
    """Every sign-up mails the address: one address cannot be flooded from many clients, and
    the limit falls alike on a registered address and a new one (it tells nothing)."""
    async with replicas() as (one, two), one("192.0.2.90") as setup:
        assert (await confirmed_signup(setup, "taken@example.com")).status_code == 201
        assert (await _signup(setup, "fresh@example.com")).status_code == 202
        answers: dict[str, list[int]] = {}
        for email in ("taken@example.com", "fresh@example.com"):
            codes = []
            for n in range(3):  # signup_email_limit=3 an hour: the fourth attempt waits
                async with (one if n % 2 else two)(f"203.0.113.{n}") as client:
                    codes.append((await _signup(client, email)).status_code)
            answers[email] = codes
        assert answers["taken@example.com"] == answers["fresh@example.com"] == [202, 202, 429]
