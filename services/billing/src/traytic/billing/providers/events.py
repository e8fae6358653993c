"""What applying a stored webhook needs, whichever provider sent it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.billing.errors import RetryLater
from traytic.db.repositories import billing
from traytic.db.repositories.billing import find_invoice


@dataclass(frozen=True, slots=True)
class Applied:
    """What an event changed: the organisation whose plan must be recomputed, if any."""

    organisation_id: uuid.UUID | None = None


IGNORED = Applied()


def parse_time(value: Any) -> datetime | None:
    """Providers' ISO 8601 timestamps (`...Z` or with an offset); None when absent."""
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)


def organisation_id(value: Any) -> uuid.UUID | None:
    if isinstance(value, str) and value:
        return uuid.UUID(value)
    return None


def require(value: uuid.UUID | None, what: str) -> uuid.UUID:
    if value is None:
        raise RetryLater(f"no organisation known yet for {what}")
    return value


INVOICE_PROGRESS = {"paid": 1, "partially_refunded": 2, "refunded": 3}
"""Invoice statuses only move forward: open, pending or failed (0) < paid < refunds."""


async def record_invoice(
    session: AsyncSession,
    organisation: uuid.UUID,
    *,
    provider: str,
    provider_invoice_id: str,
    amount: int,
    currency: str,
    status: str,
    paid_at: datetime | None,
) -> None:
    """Upsert an invoice unless a later state is already stored (events arrive out of order)."""
    stored = await find_invoice(session, provider, provider_invoice_id)
    if stored is not None and INVOICE_PROGRESS.get(stored.status, 0) > INVOICE_PROGRESS.get(
        status, 0
    ):
        return
    await billing.upsert_invoice(
        session,
        organisation,
        provider=provider,
        provider_invoice_id=provider_invoice_id,
        amount=amount,
        currency=currency,
        status=status,
        paid_at=paid_at,
    )


def member(data: dict[str, Any], key: str) -> dict[str, Any]:
    """`data[key]` when it is an object, else an empty one (Paystack sends `0` or `{}`)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}
