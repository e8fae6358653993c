"""The worker: claims stored webhook events and applies them to customers, subscriptions,
invoices and the organisation's plan.

Each round claims a batch (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas never take the
same event) and applies each event in its own savepoint: an event that fails is rolled back
alone, its attempt and error recorded, and it is retried on a later round (after a short
back-off kept in memory) until `worker_max_attempts`. Every `plan_check_s` it also lapses the
plans whose subscription period ended with no webhook. Runs inside `traytic billing`, or alone
via `python -m traytic.billing.worker`; either way a stop (SIGTERM) lets the round in progress
commit before the loop ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog

from traytic.billing.entitlement import lapse_ended_plans, refresh_plan
from traytic.billing.errors import BillingNotConfigured
from traytic.billing.providers.events import Applied
from traytic.billing.providers.paystack_api import PaystackApi
from traytic.billing.providers.paystack_events import apply_paystack_event
from traytic.billing.providers.polar_events import apply_polar_event
from traytic.billing.settings import BillingSettings
from traytic.db import Database
from traytic.db.models import Provider, WebhookEvent
from traytic.db.repositories import webhooks

log = structlog.get_logger()

_DECODER = msgspec.json.Decoder(dict[str, Any])


class Worker:
    def __init__(
        self,
        db: Database,
        settings: BillingSettings,
        paystack: PaystackApi | None,
        *,
        clock: Callable[[], float] = time.time,
        batch_size: int = 20,
        after_commit: Callable[[uuid.UUID], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.paystack = paystack
        self.clock = clock
        self.batch_size = batch_size
        self._not_before: dict[Any, float] = {}
        self.after_commit = after_commit
        """Called with each organisation whose events were applied, once committed (quotas)."""

    def _backoff_s(self, attempts: int) -> float:
        return float(min(60.0, self.settings.worker_poll_s * 2**attempts))

    async def run_once(self) -> int:
        """One round: apply what is claimable now; the number of events handled."""
        handled = 0
        now = time.monotonic()
        touched: set[uuid.UUID] = set()
        async with self.db.session() as session:
            claimed = await webhooks.claim_webhook_events(
                session, limit=self.batch_size, max_attempts=self.settings.worker_max_attempts
            )
            for event in claimed:
                if self._not_before.get(event.id, 0.0) > now:
                    continue
                handled += 1
                try:
                    async with session.begin_nested():
                        organisation_id = await self._apply(session, event)
                except Exception as exc:
                    attempts = event.attempts + 1
                    log.warning(
                        "webhook_apply_failed",
                        provider=event.provider,
                        type=event.type,
                        event_id=event.provider_event_id,
                        attempts=attempts,
                        error=f"{type(exc).__name__}: {exc}",
                    )
                    await webhooks.mark_webhook_event_failed(
                        session, event.id, f"{type(exc).__name__}: {exc}"
                    )
                    self._not_before[event.id] = now + self._backoff_s(attempts)
                else:
                    await webhooks.mark_webhook_event_processed(session, event.id)
                    self._not_before.pop(event.id, None)
                    log.info("webhook_applied", provider=event.provider, type=event.type)
                    if organisation_id is not None:
                        touched.add(organisation_id)
        if self.after_commit is not None:
            for organisation_id in sorted(touched):
                await self.after_commit(organisation_id)
        return handled

    async def _apply(self, session: Any, event: WebhookEvent) -> uuid.UUID | None:
        envelope = _DECODER.decode(event.payload)
        data = envelope.get("data")
        if not isinstance(data, dict):
            data = {}
        applied: Applied
        if event.provider == Provider.PAYSTACK.value:
            if self.paystack is None:
                raise BillingNotConfigured("Paystack is not configured: cannot apply its events")
            applied = await apply_paystack_event(
                session, event.type, data, self.paystack, self.settings
            )
        else:
            applied = await apply_polar_event(session, event.type, data, self.settings)
        if applied.organisation_id is not None:
            await refresh_plan(
                session, applied.organisation_id, datetime.fromtimestamp(self.clock(), UTC)
            )
        return applied.organisation_id

    async def lapse_plans(self) -> list[uuid.UUID]:
        """Move organisations whose paid period ended (and was not renewed) back to Free."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        async with self.db.session() as session:
            changed = await lapse_ended_plans(session, now)
        if self.after_commit is not None:
            for organisation_id in changed:
                await self.after_commit(organisation_id)
        return changed

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Rounds until `stop` is set (or the task is cancelled); errors of a round are logged
        and the loop goes on (the database may be briefly away). A round in progress when
        `stop` is set finishes (and commits) first."""
        stop = stop or asyncio.Event()
        log.info("billing_worker_started")
        next_plan_check = time.monotonic()
        while not stop.is_set():
            try:
                handled = await self.run_once()
                if time.monotonic() >= next_plan_check:
                    next_plan_check = time.monotonic() + self.settings.plan_check_s
                    await self.lapse_plans()
            except Exception:
                log.exception("billing_worker_round_failed")
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.worker_poll_s)
        log.info("billing_worker_stopped")


async def main() -> None:
    from traytic.billing.settings import load_billing_settings
    from traytic.core.logging import configure_logging

    settings, db_settings = load_billing_settings()
    configure_logging(settings.log_level, settings.log_format)
    db = Database.from_settings(db_settings)
    paystack = (
        PaystackApi(
            settings.paystack_secret_key,
            settings.paystack_base_url,
            timeout_s=settings.http_timeout_s,
        )
        if settings.paystack_enabled
        else None
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await Worker(db, settings, paystack).run(stop)
    finally:
        if paystack is not None:
            await paystack.close()
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
