"""Apply the Alembic migrations from code: no alembic.ini, works from an installed wheel.

`await migrate(settings)` upgrades to head and is a no-op when already there. On PostgreSQL an
advisory lock lets several replicas start at once; on SQLite foreign keys are off while tables
are rebuilt and checked afterwards. The keys of `settings` (`TRAYTIC_SECRET_KEY`...) reach the
revisions that seal data (`config.attributes["keyring"]`).

For developers, after changing a model:
`uv run python -m traytic.db.migrate revision -m "what changed"` (autogenerate against a fresh
SQLite database migrated to head), then read and edit the file it writes.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from traytic.core.errors import ConfigurationError
from traytic.db.engine import create_engine
from traytic.db.keyring import Keyring
from traytic.db.settings import DbSettings, load_db_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK = 7_458_932_118  # any constant shared by every Traytic process


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def migrate(settings: DbSettings) -> None:
    """Upgrade the database to the newest revision."""
    keyring = Keyring.from_settings(settings)
    engine = create_engine(settings, enforce_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_upgrade, keyring)
            await connection.commit()
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, keyring: Keyring) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    config.attributes["keyring"] = keyring
    command.upgrade(config, "head")
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise ConfigurationError(f"migration left rows with broken foreign keys: {broken}")


async def current_revision(settings: DbSettings) -> str | None:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def _make_revision(message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/autogenerate.db"
        asyncio.run(migrate(DbSettings(database_url=url)))
        existing = len(list((MIGRATIONS / "versions").glob("[0-9]*.py")))
        command.revision(
            alembic_config(url), message, autogenerate=True, rev_id=f"{existing + 1:04d}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m traytic.db.migrate")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("upgrade", help="upgrade TRAYTIC_DATABASE_URL to head")
    revision = sub.add_parser("revision", help="autogenerate a revision from the models")
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    if args.command == "upgrade":
        asyncio.run(migrate(load_db_settings()))
    else:
        _make_revision(args.message)


if __name__ == "__main__":
    main()
