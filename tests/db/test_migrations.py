"""The migrations build the schema from empty on both dialects, agree with the models, and
running them again changes nothing."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from traytic.db import DbSettings, create_engine, migrate
from traytic.db.keyring import Keyring, SecretUnreadable
from traytic.db.migrate import current_revision, head_revision
from traytic.db.models import metadata


async def test_migrate_from_empty_then_again_is_a_no_op(new_database_url: str) -> None:
    settings = DbSettings(database_url=new_database_url)
    assert await current_revision(settings) is None

    await migrate(settings)
    assert await current_revision(settings) == head_revision()
    tables = await _tables(settings)
    assert {table.name for table in metadata.sorted_tables} <= tables

    await migrate(settings)
    assert await current_revision(settings) == head_revision()
    assert await _tables(settings) == tables


async def test_models_and_migrations_agree(new_database_url: str) -> None:
    """An autogenerate run finds nothing to do: nobody changed a model without a revision."""
    settings = DbSettings(database_url=new_database_url)
    await migrate(settings)
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == []


async def _tables(settings: DbSettings) -> set[str]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names)


def _to_revision(sync: sa.Connection, revision: str, *, down: bool = False) -> None:
    from alembic import command

    from traytic.db.migrate import alembic_config

    config = alembic_config()
    config.attributes["connection"] = sync
    (command.downgrade if down else command.upgrade)(config, revision)


ORGANISATION_AND_SITE = (
    "INSERT INTO organisations (id, name, slug, plan, created_at) VALUES "
    "('00000000000000000000000000000001', 'A', 'a', 'free', '2025-01-01 00:00:00')",
    "INSERT INTO sites (id, organisation_id, domain, name, time_zone, public, "
    "allowed_hostnames, created_at) VALUES ('st_a', "
    "'00000000000000000000000000000001', 'a.com', 'a', 'UTC', false, '[]', "
    "'2025-01-01 00:00:00')",
)


async def test_an_alert_keeps_its_destination_as_a_recipient(new_database_url: str) -> None:
    """0002 moves each alert's one channel and target to `recipients`; down again restores
    the columns."""
    settings = DbSettings(database_url=new_database_url)
    engine = create_engine(settings, enforce_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_to_revision, "0001")
            for statement in (
                *ORGANISATION_AND_SITE,
                "INSERT INTO alerts (id, site_id, metric, threshold, channel, target, created_at) "
                "VALUES ('00000000000000000000000000000002', 'st_a', 'visitors', 100, 'email', "
                "'ops@a.com', '2025-01-01 00:00:00')",
            ):
                await connection.execute(sa.text(statement))
            await connection.run_sync(_to_revision, "0002")
            rows = (
                await connection.execute(
                    sa.text("SELECT channel, target, alert_id IS NOT NULL FROM recipients")
                )
            ).all()
            assert [tuple(row) for row in rows] == [("email", "ops@a.com", True)]
            kind = (await connection.execute(sa.text("SELECT kind, enabled FROM alerts"))).one()
            assert tuple(kind) == ("spike", True)
            await connection.run_sync(_to_revision, "0001", down=True)
            names = await connection.run_sync(
                lambda sync: [c["name"] for c in sa.inspect(sync).get_columns("alerts")]
            )
            assert {"channel", "target"} <= set(names)
            await connection.commit()
    finally:
        await engine.dispose()


async def test_sites_from_before_the_ingest_rules_get_their_defaults(new_database_url: str) -> None:
    """0030 adds `allow_localhost` (off) and `filter_datacenter` (on) to existing sites."""
    settings = DbSettings(database_url=new_database_url)
    engine = create_engine(settings, enforce_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_to_revision, "0020")
            for statement in ORGANISATION_AND_SITE:
                await connection.execute(sa.text(statement))
            await connection.run_sync(_to_revision, "0030")
            row = (
                await connection.execute(
                    sa.text("SELECT allow_localhost, filter_datacenter FROM sites")
                )
            ).one()
            assert (bool(row[0]), bool(row[1])) == (False, True)
            await connection.run_sync(_to_revision, "0020", down=True)
            names = await connection.run_sync(
                lambda sync: [c["name"] for c in sa.inspect(sync).get_columns("sites")]
            )
            assert "allow_localhost" not in names and "filter_datacenter" not in names
            await connection.commit()
    finally:
        await engine.dispose()


KEY = "migration-test-key-" + "m" * 32
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
USER_ID = "00000000-0000-0000-0000-00000000000a"


def _keyed_revision(sync: sa.Connection, revision: str, keyring: Keyring, down: bool) -> None:
    from alembic import command

    from traytic.db.migrate import alembic_config

    config = alembic_config()
    config.attributes["connection"] = sync
    config.attributes["keyring"] = keyring
    (command.downgrade if down else command.upgrade)(config, revision)


async def test_two_factor_secrets_are_sealed_by_0050_when_the_key_is_set(
    new_database_url: str,
) -> None:
    """0050 seals the plain secrets 0040 stored (with the key; without one they stay plain for
    the query service to seal); downgrading unseals them, and needs the key."""
    engine = create_engine(DbSettings(database_url=new_database_url), enforce_foreign_keys=False)
    keyring, nothing = Keyring(KEY), Keyring()
    stored = sa.text("SELECT secret FROM two_factor")

    async def step(revision: str, keys: Keyring, *, down: bool = False) -> str:
        async with engine.connect() as connection:
            await connection.run_sync(_keyed_revision, revision, keys, down)
            secret: str = (await connection.execute(stored)).scalar_one()
            await connection.commit()
        return secret

    try:
        async with engine.connect() as connection:
            await connection.run_sync(_to_revision, "0040_two_factor")
            user = uuid.UUID(USER_ID)
            params = {"id": user.hex if engine.dialect.name == "sqlite" else user}
            await connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, password_hash, created_at) "
                    "VALUES (:id, 'a@example.com', 'x', '2025-01-01 00:00:00')"
                ),
                params,
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO two_factor (user_id, secret, last_step, created_at) "
                    "VALUES (:id, :secret, 0, '2025-01-01 00:00:00')"
                ),
                {**params, "secret": TOTP_SECRET},
            )
            await connection.commit()
        # Without the key: the column grows, the secret stays as it was.
        assert await step("0050_sealed_two_factor_secrets", nothing) == TOTP_SECRET
        assert await step("0040_two_factor", nothing, down=True) == TOTP_SECRET
        # With the key: sealed, bound to its user, and opened again by the key alone.
        sealed = await step("0050_sealed_two_factor_secrets", keyring)
        assert TOTP_SECRET not in sealed and sealed.startswith(f"sk1.{keyring.key_id}.")
        assert keyring.open("two-factor-secret", sealed, context=USER_ID) == TOTP_SECRET
        with pytest.raises(SecretUnreadable, match="not configured"):
            await step("0040_two_factor", nothing, down=True)
        assert await step("0040_two_factor", keyring, down=True) == TOTP_SECRET
    finally:
        await engine.dispose()
