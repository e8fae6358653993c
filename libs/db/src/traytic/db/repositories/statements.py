"""Statements shared by the repositories: unique inserts and `ON CONFLICT` upserts (which
differ by dialect or need a savepoint), and the lookup of a row by its provider's id."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.errors import DuplicateError, is_unique_violation

T = TypeVar("T")


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


async def first_by_provider_id(
    session: AsyncSession, model: type[T], id_column: Any, provider: str, provider_id: str
) -> T | None:
    """The row of `model` a payment provider knows by `provider_id` (unique per provider),
    re-read from the database: a worker must see what another transaction committed."""
    result = await session.exec(
        select(model)
        .where(col(model.provider) == provider, col(id_column) == provider_id)  # type: ignore[attr-defined]
        .execution_options(populate_existing=True)
    )
    return result.first()
