"""Query service fixtures: the app on a real NATS namespace and a real database, run once on
SQLite (a temp file) and once on PostgreSQL (a fresh database for the session, skipped when
unreachable; see tests/db/conftest.py, whose fixtures are reused here)."""

from __future__ import annotations

import contextlib
import io
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient
from nats.js.kv import KeyValue

from tests.db.conftest import (  # noqa: F401 - fixtures, reused by name
    _empty_tables,
    database_url,
    dialect,
    postgres_available,
    postgresql_url,
    sqlite_url,
)
from traytic.core import bus
from traytic.db import Database, DbSettings, create_engine
from traytic.query.app import create_app
from traytic.query.settings import QuerySettings

PASSWORD = "correct horse battery"


def fast_settings(**overrides: Any) -> QuerySettings:
    """Cheap argon2 (tests hash hundreds of passwords) and quick registry retries."""
    values: dict[str, Any] = {
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
        "migrate_on_start": False,
        "registry_retry_s": 0.05,
        "registry_timeout_s": 1.0,
        "login_rate_limit": 3,
        "metrics_port": 0,  # no listener per test app; tests/metrics give one a free port
    }
    values.update(overrides)
    return QuerySettings(**values)


@pytest.fixture
def query_settings() -> QuerySettings:
    return fast_settings()


SECRET_KEY = "test-key-" + "k" * 32
"""What the tests' services seal TOTP secrets and queued mails with (`TRAYTIC_SECRET_KEY`)."""


@pytest.fixture
def db_settings(database_url: str) -> DbSettings:  # noqa: F811
    return DbSettings(database_url=database_url, secret_key=SECRET_KEY)


@pytest.fixture
async def clean_database(db_settings: DbSettings) -> AsyncIterator[None]:
    yield
    database = Database(create_engine(db_settings))
    try:
        await _empty_tables(database)
    finally:
        await database.dispose()


@dataclass
class Account:
    """A signed-in user as a browser holds them: the two cookies, their personal org."""

    email: str
    user_id: str
    org_id: str
    session: str
    csrf: str

    def headers(self, *, csrf: bool = True) -> dict[str, str]:
        headers = {"Cookie": f"traytic_session={self.session}; traytic_csrf={self.csrf}"}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return headers


async def signup_token(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """The sign-up form (202); returns the token of the link that console mail mode printed.
    The mail goes out before the response does, so stdout is caught around the call."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        response = await client.post(
            "/api/auth/signup", json={"email": email, "password": password}
        )
    assert response.status_code == 202, response.text
    links = [line for line in printed.getvalue().splitlines() if "/signup/confirm#token=" in line]
    assert links, printed.getvalue()
    return links[-1].rsplit("#token=", 1)[1].strip()


async def confirmed_signup(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    """Sign up and follow the emailed link: the 201 that signs the new account in."""
    token = await signup_token(client, email, password)
    return await client.post("/api/auth/signup/confirm", json={"token": token})


class Api:
    """Requests as a given account (or anonymous, or with an API key) over one test client."""

    def __init__(
        self, client: AsyncTestClient[Litestar], capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.client = client
        self.capsys = capsys

    def last_invitation_token(self) -> str:
        """Console mail mode prints the link to stdout: read it back as the operator would."""
        out = self.capsys.readouterr().out
        links = [line for line in out.splitlines() if "#token=" in line]
        assert links, out
        return links[-1].rsplit("#token=", 1)[1].strip()

    async def call(
        self,
        method: str,
        url: str,
        as_: Account | None = None,
        *,
        key: str | None = None,
        csrf: bool = True,
        json: Any = None,
    ) -> httpx.Response:
        self.client.cookies.clear()
        headers = as_.headers(csrf=csrf) if as_ is not None else {}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return await self.client.request(method, url, headers=headers, json=json)

    async def signup(self, email: str | None = None, password: str = PASSWORD) -> Account:
        """As a person signs up: the form (202), then the emailed link (201, signed in)."""
        email = email or f"u{secrets.token_hex(5)}@example.com"
        token = await self.request_signup(email, password)
        response = await self.call("POST", "/api/auth/signup/confirm", json={"token": token})
        assert response.status_code == 201, response.text
        return self.account_from(response)

    async def request_signup(self, email: str, password: str = PASSWORD) -> str:
        self.client.cookies.clear()
        return await signup_token(self.client, email, password)

    async def account_from_cookies(self, response: httpx.Response) -> Account:
        """The session a redirect set (single sign-on); who it is comes from `/me`."""
        account = Account(
            email="",
            user_id="",
            org_id="",
            session=response.cookies["traytic_session"],
            csrf=response.cookies["traytic_csrf"],
        )
        me = (await self.call("GET", "/api/auth/me", account)).json()
        account.email, account.user_id = me["user"]["email"], me["user"]["id"]
        account.org_id = me["organisations"][0]["id"]
        return account

    def account_from(self, response: httpx.Response) -> Account:
        body = response.json()
        return Account(
            email=body["user"]["email"],
            user_id=body["user"]["id"],
            org_id=body["organisations"][0]["id"],
            session=response.cookies["traytic_session"],
            csrf=response.cookies["traytic_csrf"],
        )

    async def create_site(self, account: Account, domain: str = "example.com") -> dict[str, Any]:
        response = await self.call(
            "POST", f"/api/orgs/{account.org_id}/sites", account, json={"domain": domain}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def create_key(self, account: Account, org_id: str | None = None) -> dict[str, Any]:
        response = await self.call(
            "POST", f"/api/orgs/{org_id or account.org_id}/keys", account, json={"name": "ci"}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def add_member(self, owner: Account, member: Account, role: str) -> None:
        """Through the invitation flow, as a person would join."""
        invited = await self.call(
            "POST",
            f"/api/orgs/{owner.org_id}/invitations",
            owner,
            json={"email": member.email, "role": role},
        )
        assert invited.status_code == 201, invited.text
        token = self.last_invitation_token()
        accepted = await self.call("POST", "/api/invitations/accept", member, json={"token": token})
        assert accepted.status_code == 201, accepted.text


@pytest.fixture
async def app(
    query_settings: QuerySettings,
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    clean_database: None,
) -> Litestar:
    return create_app(query_settings, db_settings, bus_settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client: AsyncTestClient[Litestar], capsys: pytest.CaptureFixture[str]) -> Api:
    return Api(client, capsys)


@pytest.fixture
async def kv(nc: NatsClient, bus_settings: bus.BusSettings) -> KeyValue:
    return await bus.ensure_sites_bucket(nc.jetstream(), bus_settings)


def random_uuid() -> str:
    return str(uuid.uuid4())
