"""Billing fixtures: the billing app on a real database (SQLite and PostgreSQL, reusing
tests/db/conftest.py), webhooks signed exactly as Paystack and Polar sign them, and local HTTP
servers standing in for their APIs (see `providers.py`)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.billing.providers import PaystackStub, PolarStub
from tests.db.conftest import (  # noqa: F401 - fixtures, reused by name
    _empty_tables,
    database_url,
    db,
    dialect,
    postgres_available,
    postgresql_url,
    sqlite_url,
)
from traytic.billing.app import create_app
from traytic.billing.settings import BillingSettings
from traytic.billing.signatures import paystack_signature, standard_webhook_signature
from traytic.db import Database, DbSettings
from traytic.db.models import Organisation
from traytic.db.repositories import login_sessions, organisations, users

PAYSTACK_SECRET = "sk_test_0123456789abcdef0123456789abcdef01234567"
POLAR_SECRET_BYTES = b"polar-webhook-secret-for-tests-0123"
POLAR_SECRET = "whsec_" + base64.b64encode(POLAR_SECRET_BYTES).decode()
POLAR_TOKEN = "polar_oat_test_token"


@pytest.fixture
def paystack() -> Iterator[PaystackStub]:
    stub = PaystackStub(PAYSTACK_SECRET)
    with stub.running():
        yield stub


@pytest.fixture
def polar() -> Iterator[PolarStub]:
    stub = PolarStub(POLAR_TOKEN, POLAR_SECRET_BYTES)
    with stub.running():
        yield stub


def settings_for(
    paystack: PaystackStub | None, polar: PolarStub | None, **overrides: Any
) -> BillingSettings:
    values: dict[str, Any] = {
        "migrate_on_start": False,
        "run_worker": False,
        "worker_poll_s": 0.05,
        "metrics_port": 0,  # no listener per test app; tests/metrics give one a free port
    }
    if paystack is not None:
        values |= {
            "paystack_secret_key": PAYSTACK_SECRET,
            "paystack_base_url": paystack.url,
            "paystack_plan_pro": "PLN_pro_ngn",
            "paystack_plan_team": "PLN_team_ngn",
        }
    if polar is not None:
        values |= {
            "polar_access_token": POLAR_TOKEN,
            "polar_webhook_secret": POLAR_SECRET,
            "polar_server": polar.url,
            "polar_product_pro": "prod_pro",
            "polar_product_team": "prod_team",
        }
    values |= overrides
    return BillingSettings(**values)


@asynccontextmanager
async def running(settings: BillingSettings, url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(settings, DbSettings(database_url=url))
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
async def client(
    db: Database,  # noqa: F811 - empties the tables afterwards
    database_url: str,  # noqa: F811
    paystack: PaystackStub,
    polar: PolarStub,
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with running(settings_for(paystack, polar), database_url) as test_client:
        yield test_client


def paystack_webhook(
    event: dict[str, Any], secret: str = PAYSTACK_SECRET
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {
        "content-type": "application/json",
        "x-paystack-signature": paystack_signature(body, secret),
    }


def polar_webhook(
    event: dict[str, Any],
    *,
    webhook_id: str | None = None,
    timestamp: int | None = None,
    key: bytes = POLAR_SECRET_BYTES,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return body, {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhook_signature(key, webhook_id, timestamp, body),
    }


async def post(
    client: AsyncTestClient[Litestar], path: str, signed: tuple[bytes, dict[str, str]]
) -> httpx.Response:
    body, headers = signed
    return await client.post(path, content=body, headers=headers)


class Member:
    """A signed-in user of an organisation, as the dashboard's browser holds them."""

    def __init__(self, user_id: uuid.UUID, org_id: uuid.UUID, email: str, token: str) -> None:
        self.user_id = user_id
        self.org_id = org_id
        self.email = email
        self.token = token

    def headers(self) -> dict[str, str]:
        import hashlib

        csrf = hashlib.sha256(b"traytic-csrf:" + self.token.encode()).hexdigest()
        return {
            "Cookie": f"traytic_session={self.token}; traytic_csrf={csrf}",
            "X-CSRF-Token": csrf,
        }


MakeMember = Callable[..., Any]


@pytest.fixture
def make_member(db: Database) -> MakeMember:  # noqa: F811
    async def make(
        *, role: str = "owner", org_id: uuid.UUID | None = None, country: str | None = None
    ) -> Member:
        email = f"u{uuid.uuid4().hex[:10]}@example.com"
        async with db.session() as session:
            user = await users.create_user(session, email=email, password_hash="x")
            if org_id is None:
                org = await organisations.create_organisation(
                    session,
                    name="Acme",
                    slug=f"acme-{uuid.uuid4().hex[:8]}",
                    owner_id=user.id,
                    billing_country=country,
                )
                org_id = org.id
            else:
                await organisations.add_member(session, org_id, user.id, role)
            _, token = await login_sessions.create_login_session(
                session, user.id, ttl=timedelta(hours=1)
            )
        return Member(user.id, org_id, email, token)

    return make


async def stored_plan(database: Database, org_id: uuid.UUID) -> str:
    """The plan the organisation's row holds now (read fresh, not from a session's cache)."""
    async with database.session() as session:
        organisation = await session.get(Organisation, org_id, populate_existing=True)
        assert organisation is not None
        return organisation.plan
