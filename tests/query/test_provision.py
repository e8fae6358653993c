"""The helpers `traytic dev` and the CLI call: the demo account logs in and its key works."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from nats.js.kv import KeyValue

from tests.query.conftest import fast_settings
from traytic.core import bus
from traytic.core.sites import get_site
from traytic.db import Database, DbSettings, create_engine
from traytic.db.repositories import api_keys
from traytic.query import provision
from traytic.query.app import create_app
from traytic.query.passwords import Passwords


async def test_demo_account_is_created_once_and_works(
    db_settings: DbSettings, bus_settings: bus.BusSettings, kv: KeyValue, clean_database: None
) -> None:
    db = Database(create_engine(db_settings))
    cheap = Passwords(time_cost=1, memory_kib=8, parallelism=1)

    async def demo(known_key: str | None) -> provision.DemoAccount:
        return await provision.ensure_demo_account(
            db,
            email="demo@traytic.local",
            password="demo-password",
            kv=kv,
            passwords=cheap,
            known_key=known_key,
        )

    try:
        first = await demo(None)
        again = await demo(first.api_key)  # dev.json kept: the same key
        lost = await demo(None)  # dev.json deleted: a new key, never None
        forged = await demo(first.api_key[:-4] + "aaaa")  # not a key of ours: a new one
        prefix, extra_key = await provision.create_api_key(db, first.organisation_id, "ops")
        other = await provision.ensure_demo_account(
            db, email="other@traytic.local", password="other-password", passwords=cheap
        )
        foreign = await demo(other.api_key)  # another organisation's key is not the demo's
        async with db.session() as session:
            row = await api_keys.verify_api_key(session, lost.api_key)
            assert row is not None
            await api_keys.revoke_api_key(session, row.organisation_id, row.id)
        revoked = await demo(lost.api_key)
    finally:
        await db.dispose()
    assert first.created and not again.created and not lost.created
    assert again.api_key == first.api_key
    minted = [lost.api_key, forged.api_key, foreign.api_key, revoked.api_key]
    assert len({first.api_key, *minted}) == 5
    assert {a.site_id for a in (again, lost, forged, foreign, revoked)} == {first.site_id}
    assert (again.organisation_id, revoked.organisation_id) == (first.organisation_id,) * 2
    assert extra_key.startswith(prefix)
    assert await get_site(kv, first.site_id) is not None

    app = create_app(fast_settings(), db_settings, bus_settings)
    async with AsyncTestClient(app) as client:
        login = await client.post(
            "/api/auth/login", json={"email": first.email, "password": first.password}
        )
        assert login.status_code == 200
        client.cookies.clear()
        for key in (first.api_key, extra_key, forged.api_key, foreign.api_key, revoked.api_key):
            me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {key}"})
            assert me.json()["organisations"][0]["id"] == str(first.organisation_id)
        gone = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {lost.api_key}"})
        assert gone.status_code == 401
