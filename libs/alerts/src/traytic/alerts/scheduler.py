"""The scheduler a host process runs (`running_scheduler`): one loop plans (due reports, alert
checks, pruning), another sends what the outbox holds. Every replica runs both; leases on the
rows decide who does what, so there is no leader to elect and none to lose."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import structlog

from traytic.alerts.channels.chat import USER_AGENT_HEADERS
from traytic.alerts.outbox import Outbox
from traytic.alerts.planner import Planner
from traytic.alerts.settings import AlertsSettings
from traytic.core.outbox import claim_name, drain, replica_name
from traytic.db import Database
from traytic.db.repositories import deliveries
from traytic.warehouse import Warehouse
from traytic.warehouse.stats import Stats

log = structlog.get_logger()

PRUNE_EVERY_S = 3600.0
STOP_TIMEOUT_S = 20.0
"""How long shutdown waits for sends in flight; one cut off is sent again after its lease."""


class Scheduler:
    def __init__(
        self,
        db: Database,
        warehouse: Warehouse,
        settings: AlertsSettings,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.replica = replica_name()
        self.wake = asyncio.Event()
        self.planner = Planner(db, Stats(warehouse), settings, self.now, self.claim_name)
        self.outbox = Outbox(db, settings, http, self.now, self.claim_name)
        self._pruned_at = float("-inf")

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def claim_name(self) -> str:
        return claim_name(self.replica)

    async def plan_round(self) -> int:
        written = await self.planner.plan_reports() + await self.planner.check_alerts()
        if written:
            self.wake.set()
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            before = self.now() - timedelta(days=self.settings.alerts_keep_days)
            async with self.db.session() as session:
                pruned = await deliveries.prune_deliveries(session, before)
            if pruned:
                log.info("deliveries_pruned", count=pruned)
        return written

    async def plan_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.plan_round()
            except Exception:
                log.exception("alerts_plan_round_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.alerts_tick_s)

    async def send_loop(self, stop: asyncio.Event) -> None:
        await drain(
            self.outbox.claim,
            self.outbox.deliver,
            concurrency=self.settings.alerts_concurrency,
            tick_s=self.settings.alerts_tick_s,
            wake=self.wake,
            stop=stop,
            stop_timeout_s=STOP_TIMEOUT_S,
            name="alerts",
        )


@contextlib.asynccontextmanager
async def running_scheduler(
    db: Database,
    warehouse: Warehouse,
    settings: AlertsSettings,
    *,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[Scheduler | None]:
    """Run the scheduler until the block ends (a host's lifespan adds this to its exit stack);
    yields None and runs nothing with `alerts_enabled=false`."""
    email = (
        {"email": True, "smtp_host": settings.smtp_host, "smtp_security": settings.smtp_security}
        if settings.email_enabled
        else {"email": False, "email_off_because": "TRAYTIC_SMTP_HOST is not set"}
    )
    if not settings.alerts_enabled:
        log.info("alerts_off", because="TRAYTIC_ALERTS_ENABLED=false")
        yield None
        return
    timeout = httpx.Timeout(settings.alerts_http_timeout_s)
    async with httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, headers=USER_AGENT_HEADERS
    ) as http:
        scheduler = Scheduler(db, warehouse, settings, http, clock=clock)
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(scheduler.plan_loop(stop), name="alerts-plan"),
            asyncio.create_task(scheduler.send_loop(stop), name="alerts-send"),
        ]
        log.info(
            "alerts_started",
            replica=scheduler.replica,
            public_url=settings.public_url,
            slack=True,
            webhooks=True,
            **email,
        )
        try:
            yield scheduler
        finally:
            stop.set()
            await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S + settings.alerts_tick_s)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            log.info("alerts_stopped")
