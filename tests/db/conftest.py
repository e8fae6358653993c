"""Each db test runs twice: on SQLite in a temp file and on the machine's PostgreSQL.

PostgreSQL is found at 127.0.0.1:5432 as user `postgres` (trust auth), or at the libpq
connection string in `TRAYTIC_TEST_POSTGRES_DSN`; a fresh `traytic_test_<random>` database is
created for the session and dropped after it. Tests share one migrated database per dialect and
empty every table after each test.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db import Database, DbSettings, create_engine, migrate
from traytic.db.models import metadata

ADMIN_DSN = os.environ.get(
    "TRAYTIC_TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)


def _admin() -> psycopg.Connection:
    return psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3)


def _sqlalchemy_url(database: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    user = info.get("user", "postgres")
    password = f":{info['password']}" if info.get("password") else ""
    host = info.get("host", "127.0.0.1")
    port = info.get("port", 5432)
    return f"postgresql+psycopg://{user}{password}@{host}:{port}/{database}"


@pytest.fixture(scope="session")
def postgres_available() -> None:
    try:
        with _admin():
            pass
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {ADMIN_DSN!r} ({exc}); CI runs it")


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """An empty database, dropped afterwards (even if sessions are still connected)."""
    name = f"traytic_test_{secrets.token_hex(6)}"
    with _admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _sqlalchemy_url(name)
    finally:
        with _admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def postgresql_url(postgres_available: None) -> Iterator[str]:
    with fresh_postgres_database() as url:
        asyncio.run(migrate(DbSettings(database_url=url)))
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'traytic.db'}"
    asyncio.run(migrate(DbSettings(database_url=url)))
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def dialect(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def database_url(dialect: str, request: pytest.FixtureRequest) -> str:
    """The session's migrated database of this dialect."""
    url: str = request.getfixturevalue(f"{dialect}_url")
    return url


@pytest.fixture
def new_database_url(dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database of this dialect, for migration tests."""
    if dialect == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_available")
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(DbSettings(database_url=database_url)))
    try:
        yield database
    finally:
        await _empty_tables(database)
        await database.dispose()


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back at the end (tests of commit use `db.session()`)."""
    async with db.session_factory() as session:
        yield session
        await session.rollback()


async def _empty_tables(database: Database) -> None:
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    async with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
