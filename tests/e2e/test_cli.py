"""Operator commands: `traytic site create` and `traytic key create` against the database the
query service uses, with the gateway's registry told at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from traytic.core import bus
from traytic.core.embedded_nats import EmbeddedNats
from traytic.core.sites import get_site
from traytic.db import Database
from traytic.db.migrate import migrate
from traytic.db.repositories import api_keys
from traytic.db.settings import DbSettings
from traytic.query.passwords import Passwords
from traytic.query.provision import ensure_demo_account


def _traytic(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "traytic.cli.main", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_site_and_key_create(
    tmp_path: Path, nats_server: EmbeddedNats, bus_settings: bus.BusSettings
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'traytic.db'}"
    env = {
        "TRAYTIC_DATABASE_URL": url,
        "TRAYTIC_NATS_URL": nats_server.url,
        "TRAYTIC_NAMESPACE": bus_settings.namespace,
    }

    nobody = await asyncio.to_thread(_traytic, "site", "create", "--domain", "a.example", env=env)
    assert nobody.returncode == 2 and "--org" in nobody.stderr

    db_settings = DbSettings(database_url=url)
    await migrate(db_settings)
    db = Database.from_settings(db_settings)
    try:
        await ensure_demo_account(
            db,
            email="ops@example.com",
            password="a long password",
            passwords=Passwords(time_cost=1, memory_kib=8192, parallelism=1),
        )
        created = await asyncio.to_thread(
            _traytic,
            "site",
            "create",
            "--domain",
            "shop.example",
            "--allowed-hostname",
            "*.preview.example",
            "--allow-localhost",
            env=env,
        )
        assert created.returncode == 0, created.stderr
        site_id = created.stdout.strip()
        assert site_id.startswith("st_")

        nc = await bus.connect(bus_settings, name="test")
        kv = await bus.ensure_sites_bucket(nc.jetstream(), bus_settings)
        record = await get_site(kv, site_id)
        await nc.close()
        assert record is not None and record.domain == "shop.example"
        assert record.allowed_hostnames == ["*.preview.example"]
        assert record.allow_localhost and record.filter_datacenter
        listed = await asyncio.to_thread(_traytic, "site", "list", env=env)
        assert f"{site_id}\tshop.example\talso *.preview.example, localhost" in listed.stdout

        key = await asyncio.to_thread(_traytic, "key", "create", "--name", "deploy", env=env)
        assert key.returncode == 0, key.stderr
        async with db.session() as session:
            assert await api_keys.verify_api_key(session, key.stdout.strip()) is not None

        wrong = await asyncio.to_thread(_traytic, "key", "create", "--org", "no-such-org", env=env)
        assert wrong.returncode == 2 and "no-such-org" in wrong.stderr
    finally:
        await db.dispose()
