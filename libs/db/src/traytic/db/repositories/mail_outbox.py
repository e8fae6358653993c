"""The account mails' outbox (`mail_outbox`): written in the request's transaction, claimed by a
sender with a lease, marked sent (its content dropped at once), and purged: finished rows after a
day, and unsent ones whose link has expired."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import DeliveryStatus, OutboxMail
from traytic.db.repositories import outbox

FINISHED = (DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value)
KEEP_FINISHED = timedelta(days=1)
"""How long a sent or given-up mail stays listed (without its content), for diagnosis."""


async def add_mail(session: AsyncSession, mail: OutboxMail) -> None:
    session.add(mail)
    await session.flush()


async def claim_mails(
    session: AsyncSession, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> Sequence[OutboxMail]:
    """Due mails whose link still works (an expired one is left to `purge_mails`)."""
    return await outbox.claim_due(
        session,
        OutboxMail,
        owner=owner,
        now=now,
        lease=lease,
        limit=limit,
        only=col(OutboxMail.expires_at) > now,
    )


async def mark_mail_sent(
    session: AsyncSession, mail_id: uuid.UUID, owner: str, now: datetime
) -> bool:
    """Sent, its content dropped; False if another claim took it over meanwhile."""
    row = await outbox.mark_sent(session, OutboxMail, mail_id, owner, now)
    if row is None:
        return False
    row.message = ""
    await session.flush()
    return True


async def mark_mail_failed_attempt(
    session: AsyncSession,
    mail_id: uuid.UUID,
    owner: str,
    *,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """Pending again until `retry_at`, or given up (its content dropped) when it is None."""
    row = await outbox.mark_failed_attempt(
        session, OutboxMail, mail_id, owner, error=error, retry_at=retry_at
    )
    if row is None:
        return False
    if retry_at is None:
        row.message = ""
        await session.flush()
    return True


async def purge_mails(session: AsyncSession, now: datetime) -> tuple[list[str], int]:
    """Drop unsent mails whose link expired (not while a live claim holds one) and finished
    ones older than `KEEP_FINISHED`: the kinds of the expired ones, and how many finished."""
    unclaimed = col(OutboxMail.lease_until).is_(None) | (col(OutboxMail.lease_until) < now)
    expired = (
        col(OutboxMail.status).not_in(FINISHED) & (col(OutboxMail.expires_at) <= now) & unclaimed
    )
    kinds = list((await session.exec(select(OutboxMail.kind).where(expired))).all())
    await session.exec(delete(OutboxMail).where(expired))
    finished = await session.exec(
        delete(OutboxMail).where(
            col(OutboxMail.status).in_(FINISHED), col(OutboxMail.created_at) < now - KEEP_FINISHED
        )
    )
    return kinds, int(finished.rowcount or 0)
