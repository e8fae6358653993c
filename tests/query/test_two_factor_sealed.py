"""TOTP secrets at rest: sealed with the server's key (`TRAYTIC_SECRET_KEY`), so a copy of the
database holds no second factor; bound to their user; a rotated key still opens them and they
are sealed again with the new one at start; a wrong key fails closed (a 401 and a log line that
says why, no secret anywhere) while recovery codes still work; plain secrets from before are
sealed at start; without a key two-factor sign-in cannot be turned on."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from tests.query.conftest import SECRET_KEY, Api, fast_settings
from tests.query.test_two_factor import code, enrol, login, login_code, now_step
from traytic.core import bus
from traytic.core.errors import ConfigurationError
from traytic.db import Database, DbSettings, create_engine
from traytic.db.keyring import Keyring
from traytic.db.models import TwoFactor, metadata
from traytic.query.app import create_app
from traytic.query.settings import QuerySettings

OTHER_KEY = "another-key-" + "o" * 32


@contextlib.asynccontextmanager
async def service(
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    capsys: pytest.CaptureFixture[str],
    **keys: Any,
) -> AsyncIterator[Api]:
    """The query service started again over the same database, with other keys."""
    settings = DbSettings(database_url=db_settings.database_url, **keys)
    app: Litestar = create_app(fast_settings(), settings, bus_settings)
    async with AsyncTestClient(app) as client:
        yield Api(client, capsys)


async def stored_rows(db_settings: DbSettings) -> dict[str, TwoFactor]:
    database = Database(create_engine(db_settings))
    try:
        async with database.session() as session:
            rows = (await session.exec(select(TwoFactor))).all()
    finally:
        await database.dispose()
    return {str(row.user_id): row for row in rows}


async def overwrite_secret(db_settings: DbSettings, user_id: str, value: str) -> None:
    database = Database(create_engine(db_settings))
    try:
        async with database.session() as session:
            row = await session.get(TwoFactor, uuid.UUID(user_id))
            assert row is not None
            row.secret = value
            session.add(row)
    finally:
        await database.dispose()


async def dump(db_settings: DbSettings) -> str:
    """Every row of every table as text: what a database dump or a backup holds."""
    database = Database(create_engine(db_settings))
    lines = []
    try:
        async with database.engine.connect() as connection:
            for table in metadata.sorted_tables:
                result = await connection.execute(sa.select(table))
                lines += [repr(tuple(row)) for row in result]
    finally:
        await database.dispose()
    return "\n".join(lines)


def log_events(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


async def test_a_dump_holds_no_secret_and_a_sealed_one_opens_for_its_user_only(
    api: Api, db_settings: DbSettings
) -> None:
    step = now_step()
    alice, mallory = await api.signup("alice@example.com"), await api.signup("mal@example.com")
    alice_secret, _ = await enrol(api, alice, step)
    mallory_secret, _ = await enrol(api, mallory, step)

    everything = await dump(db_settings)
    assert alice_secret not in everything and mallory_secret not in everything
    rows = await stored_rows(db_settings)
    keyring = Keyring(SECRET_KEY)
    for account, secret in ((alice, alice_secret), (mallory, mallory_secret)):
        stored = rows[account.user_id].secret
        assert stored.startswith(f"sk1.{keyring.key_id}.")
        assert keyring.open("two-factor-secret", stored, context=account.user_id) == secret

    # Someone who can write to the database copies their own sealed secret over alice's: it
    # does not open as hers, so their codes do not sign in as her.
    await overwrite_secret(db_settings, alice.user_id, rows[mallory.user_id].secret)
    pending = await login(api, "alice@example.com")
    refused = await login_code(api, pending, code(mallory_secret, step + 1))
    assert refused.status_code == 401


async def test_a_wrong_key_fails_closed_and_says_why_and_recovery_codes_still_work(
    api: Api,
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    step = now_step()
    account = await api.signup("wrongkey@example.com")
    secret, recovery = await enrol(api, account, step)
    capsys.readouterr()

    async with service(db_settings, bus_settings, capsys, secret_key=OTHER_KEY) as other:
        pending = await login(other, "wrongkey@example.com")
        refused = await login_code(other, pending, code(secret, step + 1))
        assert refused.status_code == 401, refused.text
        assert refused.json()["field"] == "code"
        # The secret is beyond reach, the hashed recovery codes are not.
        rescued = await login_code(other, pending, recovery[0])
        assert rescued.status_code == 200, rescued.text
    err = capsys.readouterr().err
    events = log_events(err)
    at_start = [e for e in events if e["event"] == "two_factor_secrets_unreadable"]
    assert at_start and at_start[0]["count"] == 1 and "TRAYTIC_SECRET_KEY" in at_start[0]["fix"]
    unreadable = [e for e in events if e["event"] == "two_factor_secret_unreadable"]
    assert unreadable and unreadable[0]["user_id"] == account.user_id
    assert "not configured" in unreadable[0]["reason"]
    assert secret not in err and (await stored_rows(db_settings))[account.user_id].secret not in err
    # Nothing was rewritten with the wrong key: the right one still opens it.
    pending = await login(api, "wrongkey@example.com")
    assert (await login_code(api, pending, code(secret, step + 1))).status_code == 200


async def test_a_rotated_key_opens_old_secrets_and_seals_them_again_at_start(
    api: Api,
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    step = now_step()
    account = await api.signup("rotate@example.com")
    secret, _ = await enrol(api, account, step)
    new, old = Keyring(OTHER_KEY), Keyring(SECRET_KEY)
    assert (await stored_rows(db_settings))[account.user_id].secret.startswith(f"sk1.{old.key_id}.")

    # One start with the old key as the previous one seals everything with the new key...
    rotated = {"secret_key": OTHER_KEY, "secret_key_previous": [SECRET_KEY]}
    async with service(db_settings, bus_settings, capsys, **rotated):
        stored = (await stored_rows(db_settings))[account.user_id].secret
        assert stored.startswith(f"sk1.{new.key_id}.")
        assert new.open("two-factor-secret", stored, context=account.user_id) == secret
    resealed = [e for e in log_events(capsys.readouterr().err) if e["event"].endswith("resealed")]
    assert resealed[0]["count"] == 1 and resealed[0]["key_id"] == new.key_id

    # ...so the old key can go.
    async with service(db_settings, bus_settings, capsys, secret_key=OTHER_KEY) as service_api:
        pending = await login(service_api, "rotate@example.com")
        assert (await login_code(service_api, pending, code(secret, step + 1))).status_code == 200


async def test_plain_secrets_from_before_are_sealed_at_start(
    api: Api,
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    step = now_step()
    account = await api.signup("legacy@example.com")
    secret, _ = await enrol(api, account, step)
    await overwrite_secret(db_settings, account.user_id, secret)  # as 0040 stored it
    async with service(db_settings, bus_settings, capsys, secret_key=SECRET_KEY) as service_api:
        stored = (await stored_rows(db_settings))[account.user_id].secret
        assert stored != secret and secret not in stored and stored.startswith("sk1.")
        pending = await login(service_api, "legacy@example.com")
        assert (await login_code(service_api, pending, code(secret, step + 1))).status_code == 200


async def test_without_a_key_two_factor_cannot_be_turned_on_nor_smtp_mail_queued(
    db_settings: DbSettings,
    bus_settings: bus.BusSettings,
    clean_database: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with service(db_settings, bus_settings, capsys, secret_key="") as service_api:
        account = await service_api.signup("nokey@example.com")
        refused = await service_api.call("POST", "/api/auth/two-factor/setup", account)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "two_factor_unavailable"
        assert "TRAYTIC_SECRET_KEY" in refused.json()["message"]
    assert not await stored_rows(db_settings)

    smtp: QuerySettings = fast_settings(smtp_host="127.0.0.1", mail_from="a@example.com")
    no_key = DbSettings(database_url=db_settings.database_url)
    with pytest.raises(ConfigurationError, match="TRAYTIC_SECRET_KEY"):
        create_app(smtp, no_key, bus_settings)
    with pytest.raises(ConfigurationError, match="TRAYTIC_SECRET_KEY must be at least 32"):
        create_app(fast_settings(), DbSettings(secret_key="changeme"), bus_settings)
