"""The helpers `traytic dev` and the CLI call: the demo account logs in and its key works."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from nats.js.kv import KeyValue

from tests.query.conftest import fast_settings
from traytic.core import bus
from traytic.core.sites import get_site
from traytic.db import Database, DbSettings, create_engine
from traytic.query import provision
from traytic.query.app import create_app
from traytic.query.passwords import Passwords


async def test_demo_account_is_created_once_and_works(
    db_settings: DbSettings, bus_settings: bus.BusSettings, kv: KeyValue, clean_database: None
) -> None:
    db = Database(create_engine(db_settings))
    cheap = Passwords(time_cost=1, memory_kib=8, parallelism=1)
    try:
        first = await provision.ensure_demo_account(
            db, email="demo@traytic.local", password="demo-password", kv=kv, passwords=cheap
        )
        again = await provision.ensure_demo_account(
            db, email="demo@traytic.local", password="demo-password", kv=kv, passwords=cheap
        )
        prefix, extra_key = await provision.create_api_key(db, first.organisation_id, "ops")
    finally:
        await db.dispose()
    assert first.api_key is not None and again.api_key is None
    assert (again.site_id, again.organisation_id) == (first.site_id, first.organisation_id)
    assert extra_key.startswith(prefix)
    assert await get_site(kv, first.site_id) is not None

    app = create_app(fast_settings(), db_settings, bus_settings)
    async with AsyncTestClient(app) as client:
        login = await client.post(
            "/api/auth/login", json={"email": first.email, "password": first.password}
        )
        assert login.status_code == 200
        client.cookies.clear()
        for key in (first.api_key, extra_key):
            me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {key}"})
            assert me.json()["organisations"][0]["id"] == str(first.organisation_id)
