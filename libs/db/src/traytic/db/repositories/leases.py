"""Claiming due rows with a lease, so several replicas share work and none does a row twice.

A claim runs in its own short transaction: it selects due rows whose lease is free or expired
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent claimers pass over each other's rows;
SQLite's writers are serialised by `BEGIN IMMEDIATE`, which gives the same effect), writes
this replica's name and an expiry into them, and commits. The work then happens outside any
transaction; a replica that dies leaves rows whose lease expires and which another replica
claims again. Finishing checks the lease is still ours (`holds`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession


class Leased(Protocol):
    lease_owner: str | None
    lease_until: datetime | None


L = TypeVar("L", bound=Leased)


async def claim(
    session: AsyncSession,
    model: type[L],
    due: sa.ColumnElement[bool],
    *,
    order_by: Any,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> Sequence[L]:
    """Up to `limit` rows of `model` that are `due` and not leased to a live claimer, leased
    to `owner` until `now + lease` (flushed; the caller's transaction commits)."""
    table: Any = model
    statement = (
        select(model)
        .where(due, or_(col(table.lease_until).is_(None), col(table.lease_until) < now))
        .order_by(order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.exec(statement)).all())
    for row in rows:
        row.lease_owner = owner
        row.lease_until = now + lease
    await session.flush()
    return rows


def holds(row: Leased, owner: str) -> bool:
    """Whether the claim `owner` still holds the row (read fresh by the caller): claimers name
    each claim uniquely, so a row claimed again after its lease expired is no longer ours."""
    return row.lease_owner == owner


def release(row: Leased) -> None:
    row.lease_owner = None
    row.lease_until = None
