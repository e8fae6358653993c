"""Database settings (`TRAYTIC_DATABASE_*`), with defaults that work embedded (SQLite)."""

from __future__ import annotations

from typing import Any

import msgspec

from traytic.core.settings import load_settings


class DbSettings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "sqlite+aiosqlite:///.traytic/traytic.db"
    """SQLAlchemy URL; PostgreSQL as `postgresql+psycopg://user:password@host:5432/traytic`."""
    database_pool_size: int = 5
    """Connections kept open per process (PostgreSQL only)."""
    database_max_overflow: int = 10
    """Extra connections opened under load beyond the pool size (PostgreSQL only)."""
    database_pool_timeout_s: float = 30.0
    """How long a request waits for a free connection before failing."""
    database_pool_recycle_s: int = 1800
    """Connections older than this are replaced, before a proxy or firewall drops them."""
    database_busy_timeout_ms: int = 5000
    """SQLite only: how long a writer waits for the lock before `database is locked`."""
    database_echo: bool = False
    """Log every SQL statement (development only: statements may hold personal data)."""
    secret_key: str = ""
    """Seals what the database must keep readable (TOTP secrets, queued mails with their links;
    `traytic.db.keyring`), at least 32 characters. Empty: two-factor sign-in cannot be turned on
    and mail cannot go over SMTP. `traytic dev` makes one and keeps it in its data directory;
    compose and Kubernetes refuse to start without it."""
    secret_key_previous: list[str] = msgspec.field(default_factory=list)
    """Keys that sealed values before the current one (comma-separated): they still open those
    values, and the query service seals them again with the current key when it starts."""


def load_db_settings(**overrides: Any) -> DbSettings:
    return load_settings(DbSettings, **overrides)
