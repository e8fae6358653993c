"""The async engine (psycopg for PostgreSQL, aiosqlite for SQLite) and the unit of work.

Repositories and services only `flush()`; the request or job boundary opens `db.session()`,
which commits when the block succeeds and rolls back when it raises.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import ConfigurationError
from traytic.db.settings import DbSettings
from traytic.db.validation import ValidatedSession

SessionFactory = async_sessionmaker[AsyncSession]


def database_url(settings: DbSettings) -> URL:
    """The URL with the async driver each dialect needs (`postgresql://` gets psycopg)."""
    url = make_url(settings.database_url)
    backend = url.get_backend_name()
    if backend == "postgresql" and url.get_driver_name() != "psycopg":
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "sqlite" and url.get_driver_name() != "aiosqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    elif backend not in ("postgresql", "sqlite"):
        raise ConfigurationError(
            f"TRAYTIC_DATABASE_URL: unsupported database {backend!r} (use postgresql or sqlite)"
        )
    return url


def create_engine(settings: DbSettings, *, enforce_foreign_keys: bool = True) -> AsyncEngine:
    """An engine for `settings.database_url`; SQLite gets the pragmas it needs to behave.

    `enforce_foreign_keys=False` is for migrations only: SQLite batch migrations rebuild tables,
    which foreign keys would cascade into.
    """
    url = database_url(settings)
    if url.get_backend_name() == "postgresql":
        return create_async_engine(
            url,
            echo=settings.database_echo,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout_s,
            pool_recycle=settings.database_pool_recycle_s,
            pool_pre_ping=True,
        )
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=settings.database_echo)
    _configure_sqlite(engine, settings.database_busy_timeout_ms, enforce_foreign_keys)
    return engine


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int, foreign_keys: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, start transactions: the driver's own BEGIN handling
        # breaks SAVEPOINTs and would commit before DDL (see SQLAlchemy's pysqlite notes).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # SQLite ignores foreign keys unless told otherwise, on every new connection.
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough in WAL, much faster
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE: take the write lock when the transaction starts. A deferred transaction
        # that reads and then writes (login, touching an API key's last use) fails at once with
        # "database is locked" when another holds the lock, because SQLite cannot wait there
        # without risking a deadlock; an immediate one waits up to busy_timeout instead. SQLite
        # serves the embedded mode (one process), where serialising writers costs nothing.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    # expire_on_commit=False: objects stay readable after the boundary commits (async code
    # cannot lazy-load them again).
    return async_sessionmaker(
        engine, class_=AsyncSession, sync_session_class=ValidatedSession, expire_on_commit=False
    )


@asynccontextmanager
async def session_scope(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """The unit of work: commit if the block succeeds, roll back if it raises."""
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


class Database:
    """The engine and its session factory, opened once in a lifespan and closed with it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.session_factory = create_session_factory(engine)

    @classmethod
    def from_settings(cls, settings: DbSettings) -> Database:
        return cls(create_engine(settings))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """`async with db.session() as session:` — one unit of work."""
        return session_scope(self.session_factory)

    async def ping(self) -> bool:
        """True when the database answers a trivial query (readiness probes); never raises."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *_: object) -> None:
        """`async with Database.from_settings(...) as db:` disposes the engine at the end."""
        await self.dispose()
