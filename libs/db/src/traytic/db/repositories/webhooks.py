"""The webhook inbox: store each provider event once, then let workers claim and apply it.

`record_webhook_event` is idempotent (`INSERT ... ON CONFLICT DO NOTHING` on provider and event
id). `claim_webhook_events` uses `FOR UPDATE SKIP LOCKED` on PostgreSQL so several workers
share the queue without taking the same event; SQLite has one writer and ignores the clause.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Table
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import WebhookEvent, utcnow
from traytic.db.models.billing import PROVIDERS
from traytic.db.repositories.statements import dialect_insert, first_by_provider_id
from traytic.db.validation import check_choice, check_row, check_text

_EVENTS: Table = WebhookEvent.__table__  # type: ignore[attr-defined]
MAX_ERROR_LENGTH = 4000


async def record_webhook_event(
    session: AsyncSession,
    *,
    provider: str,
    provider_event_id: str,
    type: str,
    payload: str,
    signature_verified: bool,
    received_at: datetime | None = None,
) -> bool:
    """Store a received event; False when it was already stored (a redelivery)."""
    values = {
        "id": uuid.uuid4(),
        "provider": check_choice("provider", provider, PROVIDERS),
        "provider_event_id": check_text("provider_event_id", provider_event_id, max_length=255),
        "type": check_text("type", type, max_length=64),
        "payload": check_text("payload", payload, max_length=1_000_000, strip=False),
        "signature_verified": signature_verified,
        "received_at": received_at or utcnow(),
        "attempts": 0,
    }
    check_row(_EVENTS, values)
    insert = (
        dialect_insert(session, _EVENTS)
        .values(values)
        .on_conflict_do_nothing(index_elements=["provider", "provider_event_id"])
        .returning(_EVENTS.c.id)
    )
    result = await session.exec(insert)
    return result.first() is not None


async def get_webhook_event(
    session: AsyncSession, provider: str, provider_event_id: str
) -> WebhookEvent | None:
    return await first_by_provider_id(
        session, WebhookEvent, WebhookEvent.provider_event_id, provider, provider_event_id
    )


async def claim_webhook_events(
    session: AsyncSession, *, limit: int = 10, max_attempts: int = 10
) -> list[WebhookEvent]:
    """Unprocessed events, oldest first, locked for this transaction (skipping ones another
    worker holds). Apply each and mark it in the same transaction."""
    result = await session.exec(
        select(WebhookEvent)
        .where(
            col(WebhookEvent.processed_at).is_(None),
            col(WebhookEvent.attempts) < max_attempts,
        )
        .order_by(col(WebhookEvent.received_at), col(WebhookEvent.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(result.all())


async def mark_webhook_event_processed(
    session: AsyncSession, event_id: uuid.UUID, *, now: datetime | None = None
) -> None:
    await session.exec(
        update(WebhookEvent)
        .where(col(WebhookEvent.id) == event_id)
        .values(
            processed_at=now or utcnow(),
            attempts=col(WebhookEvent.attempts) + 1,
            last_error=None,
        )
    )


async def mark_webhook_event_failed(session: AsyncSession, event_id: uuid.UUID, error: str) -> None:
    """Count the attempt and keep the error; the event stays pending until `max_attempts`."""
    await session.exec(
        update(WebhookEvent)
        .where(col(WebhookEvent.id) == event_id)
        .values(
            attempts=col(WebhookEvent.attempts) + 1,
            last_error=error[:MAX_ERROR_LENGTH],
        )
    )
