"""The outbox of alert and report messages: written rendered, claimed, sent, marked.

`add_delivery` is idempotent on the delivery's key, so a round that is run twice (a takeover
after a lease expired) writes each message once. Claimed deliveries are `sending` until their
lease ends; one whose sender died is claimed again and sent with the same key (the claiming and
marking are every outbox's: `repositories.outbox`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.errors import is_unique_violation
from traytic.db.models import Delivery, DeliveryStatus, Recipient
from traytic.db.repositories import outbox
from traytic.db.repositories.leases import release

FINISHED = (DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value, DeliveryStatus.CANCELLED.value)


async def add_delivery(session: AsyncSession, delivery: Delivery) -> bool:
    """Write `delivery` unless one with its key exists; True when it was written."""
    existing = await session.exec(select(Delivery.id).where(Delivery.key == delivery.key))
    if existing.first() is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(delivery)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        return False
    return True


async def claim_deliveries(
    session: AsyncSession, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> Sequence[Delivery]:
    """Pending deliveries that are due, and `sending` ones whose sender's lease ran out;
    each counted as one more attempt."""
    return await outbox.claim_due(session, Delivery, owner=owner, now=now, lease=lease, limit=limit)


async def mark_sent(
    session: AsyncSession, delivery_id: uuid.UUID, owner: str, now: datetime
) -> bool:
    """Sent; False if another claim took the delivery over meanwhile (it was too slow)."""
    return await outbox.mark_sent(session, Delivery, delivery_id, owner, now) is not None


async def mark_failed_attempt(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    owner: str,
    *,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """Pending again until `retry_at`, or failed for good when `retry_at` is None."""
    row = await outbox.mark_failed_attempt(
        session, Delivery, delivery_id, owner, error=error, retry_at=retry_at
    )
    return row is not None


async def mark_cancelled(
    session: AsyncSession, delivery_id: uuid.UUID, owner: str, reason: str
) -> bool:
    row = await outbox.held(session, Delivery, delivery_id, owner)
    if row is None:
        return False
    row.status = DeliveryStatus.CANCELLED.value
    row.last_error = reason
    release(row)
    await session.flush()
    return True


async def recipient_gone(session: AsyncSession, recipient_id: uuid.UUID | None) -> str | None:
    """Why a delivery must not go out any more (removed, unsubscribed), or None."""
    if recipient_id is None:
        return "the recipient was removed"
    recipient = await session.get(Recipient, recipient_id, populate_existing=True)
    if recipient is None:
        return "the recipient was removed"
    if recipient.unsubscribed_at is not None:
        return "the recipient unsubscribed"
    return None


async def list_deliveries(
    session: AsyncSession,
    site_id: str,
    *,
    alert_id: uuid.UUID | None = None,
    report_id: uuid.UUID | None = None,
    status: str | None = None,
    limit: int = 50,
) -> Sequence[Delivery]:
    """A site's deliveries, newest first, optionally of one alert or report, or one status."""
    statement = select(Delivery).where(Delivery.site_id == site_id)
    if alert_id is not None:
        statement = statement.where(Delivery.alert_id == alert_id)
    if report_id is not None:
        statement = statement.where(Delivery.report_id == report_id)
    if status is not None:
        statement = statement.where(Delivery.status == status)
    statement = statement.order_by(col(Delivery.created_at).desc()).limit(limit)
    return (await session.exec(statement)).all()


async def prune_deliveries(session: AsyncSession, before: datetime) -> int:
    """Forget finished deliveries created before `before`; how many went."""
    result = await session.exec(
        delete(Delivery).where(
            col(Delivery.created_at) < before, col(Delivery.status).in_(FINISHED)
        )
    )
    return int(result.rowcount or 0)
