"""The life of an outbox row, whatever it carries (an alert delivery, an account mail):
pending → claimed (`sending`, with a lease, one more attempt) → sent, or pending again at a
later time, or failed for good.

Claiming is `leases.claim`; a claimed row whose sender died is claimed again once its lease
ends. Marking checks that the claim still holds the row, so a sender too slow to keep its lease
does not overwrite the outcome of the one that took over.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import col, or_
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import DeliveryStatus
from traytic.db.repositories.leases import Leased, claim, holds, release


class OutboxRow(Leased, Protocol):
    id: uuid.UUID
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None


R = TypeVar("R", bound=OutboxRow)


async def claim_due(
    session: AsyncSession,
    model: type[R],
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    only: sa.ColumnElement[bool] | None = None,
) -> Sequence[R]:
    """Pending rows that are due, and `sending` ones whose sender's lease ran out (of those
    that match `only`); each counted as one more attempt."""
    table: Any = model
    due = or_(
        (col(table.status) == DeliveryStatus.PENDING.value) & (col(table.next_attempt_at) <= now),
        col(table.status) == DeliveryStatus.SENDING.value,
    )
    if only is not None:
        due = sa.and_(due, only)
    rows = await claim(
        session,
        model,
        due,
        order_by=col(table.next_attempt_at),
        owner=owner,
        now=now,
        lease=lease,
        limit=limit,
    )
    for row in rows:
        row.status = DeliveryStatus.SENDING.value
        row.attempts += 1
    await session.flush()
    return rows


async def held(session: AsyncSession, model: type[R], row_id: uuid.UUID, owner: str) -> R | None:
    """The row, read fresh and locked, if the claim `owner` still holds it."""
    row = await session.get(model, row_id, with_for_update=True, populate_existing=True)
    return row if row is not None and holds(row, owner) else None


async def mark_sent(
    session: AsyncSession, model: type[R], row_id: uuid.UUID, owner: str, now: datetime
) -> R | None:
    """Sent; None if another claim took the row over meanwhile (this sender was too slow)."""
    row = await held(session, model, row_id, owner)
    if row is None:
        return None
    row.status = DeliveryStatus.SENT.value
    row.sent_at = now
    row.last_error = None
    release(row)
    await session.flush()
    return row


async def mark_failed_attempt(
    session: AsyncSession,
    model: type[R],
    row_id: uuid.UUID,
    owner: str,
    *,
    error: str,
    retry_at: datetime | None,
) -> R | None:
    """Pending again until `retry_at`, or failed for good when `retry_at` is None."""
    row = await held(session, model, row_id, owner)
    if row is None:
        return None
    row.last_error = error[:2000]
    if retry_at is None:
        row.status = DeliveryStatus.FAILED.value
    else:
        row.status = DeliveryStatus.PENDING.value
        row.next_attempt_at = retry_at
    release(row)
    await session.flush()
    return row
