"""Writes that differ by dialect or need a savepoint: unique inserts and `ON CONFLICT` upserts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.errors import DuplicateError, is_unique_violation


async def add_unique(session: AsyncSession, row: Any, field: str) -> None:
    """Insert `row` in a savepoint; a unique violation becomes `DuplicateError(field)` and
    leaves the surrounding transaction usable (PostgreSQL would otherwise abort it)."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise DuplicateError(field) from exc
        raise


def dialect_insert(session: AsyncSession, table: sa.Table) -> Any:
    """The dialect's own `insert()`, which has `on_conflict_do_nothing/do_update`."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {name}")
