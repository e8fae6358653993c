"""Sending what the outbox holds: claim due deliveries, send each on its channel, mark it.

Up to `alerts_concurrency` sends are in flight per replica, each on its own: a webhook that
times out holds one slot and delays nothing else. A failed attempt is tried again after a
backoff that doubles (with jitter, honouring a receiver's `Retry-After`) until
`alerts_max_attempts`, then the delivery is failed with the last error, which the API and the
dashboard show.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog

from traytic.alerts.channels import SendError
from traytic.alerts.channels.chat import send_slack, send_webhook
from traytic.alerts.channels.email import build_message, send_email
from traytic.alerts.settings import AlertsSettings
from traytic.core.outbox import retry_delay
from traytic.db import Database
from traytic.db.models import Channel, Delivery, Recipient
from traytic.db.repositories import deliveries

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a send needs of a claimed delivery (read once, outside any transaction)."""

    id: uuid.UUID
    key: str
    owner: str
    channel: str
    target: str
    subject: str
    body: str
    attempts: int
    recipient_id: uuid.UUID | None

    @classmethod
    def of(cls, row: Delivery, owner: str) -> Claimed:
        return cls(
            id=row.id,
            key=row.key,
            owner=owner,
            channel=row.channel,
            target=row.target,
            subject=row.subject,
            body=row.body,
            attempts=row.attempts,
            recipient_id=row.recipient_id,
        )


def backoff(settings: AlertsSettings, attempts: int, retry_after_s: float | None) -> float:
    """Seconds before the next attempt after `attempts` failed ones."""
    return retry_delay(
        attempts,
        base_s=settings.alerts_retry_base_s,
        max_s=settings.alerts_retry_max_s,
        retry_after_s=retry_after_s,
    )


@dataclass(frozen=True, slots=True)
class Outbox:
    db: Database
    settings: AlertsSettings
    http: httpx.AsyncClient
    now: Callable[[], datetime]
    claim_name: Callable[[], str]

    async def claim(self, limit: int) -> list[Claimed]:
        owner = self.claim_name()
        async with self.db.session() as session:
            rows = await deliveries.claim_deliveries(
                session,
                owner=owner,
                now=self.now(),
                lease=timedelta(seconds=self.settings.alerts_lease_s),
                limit=limit,
            )
            return [Claimed.of(row, owner) for row in rows]

    async def deliver(self, claimed: Claimed) -> str:
        """Send one claimed delivery and record the outcome; the status it ends in."""
        async with self.db.session() as session:
            gone = await deliveries.recipient_gone(session, claimed.recipient_id)
            recipient = await session.get(Recipient, claimed.recipient_id) if gone is None else None
        if gone is not None or recipient is None:
            async with self.db.session() as session:
                await deliveries.mark_cancelled(
                    session, claimed.id, claimed.owner, gone or "the recipient was removed"
                )
            return "cancelled"
        try:
            await self._send(claimed, recipient.secret)
        except SendError as exc:
            return await self._failed(claimed, exc)
        except Exception as exc:
            log.exception("delivery_error", delivery_id=str(claimed.id))
            return await self._failed(claimed, SendError(f"internal error ({type(exc).__name__})"))
        async with self.db.session() as session:
            recorded = await deliveries.mark_sent(session, claimed.id, claimed.owner, self.now())
        if not recorded:
            # Sent after our lease ran out and someone else claimed it: they send it again
            # with the same key, which the receiver can recognise.
            log.warning("delivery_sent_after_takeover", delivery_id=str(claimed.id))
        log.info(
            "delivery_sent",
            delivery_id=str(claimed.id),
            channel=claimed.channel,
            attempt=claimed.attempts,
        )
        return "sent"

    async def _send(self, claimed: Claimed, secret: str) -> None:
        if claimed.channel == Channel.EMAIL.value:
            message = build_message(
                self.settings,
                to=claimed.target,
                subject=claimed.subject,
                body=claimed.body,
                key=claimed.key,
                sent_at=self.now(),
            )
            await send_email(self.settings, message)
        elif claimed.channel == Channel.SLACK.value:
            await send_slack(self.http, claimed.target, claimed.body, claimed.key)
        else:
            timestamp = self.now().timestamp()
            await send_webhook(
                self.http, claimed.target, claimed.body, claimed.key, secret=secret, now=timestamp
            )

    async def _failed(self, claimed: Claimed, error: SendError) -> str:
        final = error.permanent or claimed.attempts >= self.settings.alerts_max_attempts
        retry_at = (
            None
            if final
            else self.now()
            + timedelta(seconds=backoff(self.settings, claimed.attempts, error.retry_after_s))
        )
        async with self.db.session() as session:
            await deliveries.mark_failed_attempt(
                session, claimed.id, claimed.owner, error=error.message, retry_at=retry_at
            )
        log.warning(
            "delivery_failed" if final else "delivery_retry",
            delivery_id=str(claimed.id),
            channel=claimed.channel,
            attempt=claimed.attempts,
            error=error.message,
            permanent=error.permanent,
        )
        return "failed" if final else "pending"
