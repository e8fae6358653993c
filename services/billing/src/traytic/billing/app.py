"""The billing app: `create_app()` for Granian (`traytic billing`), and `Billing` for hosts
that mount it (the dev mode). Routes: `POST /webhooks/paystack`, `POST /webhooks/polar`,
`POST /api/billing/checkout`, `GET /api/billing`.

The lifespan migrates and opens the database and, unless `TRAYTIC_RUN_WORKER=false`, runs
the worker that applies stored webhook events. With no provider configured every route
answers 404 `billing_not_configured` and no worker runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from litestar import Litestar, Router
from litestar.di import Provide

from traytic.billing.api import API_HANDLERS
from traytic.billing.context import BillingContext
from traytic.billing.endpoints import WEBHOOK_HANDLERS, provide_context
from traytic.billing.providers.paystack_api import PaystackApi
from traytic.billing.providers.polar_api import polar_client
from traytic.billing.settings import BillingSettings, load_billing_settings
from traytic.billing.worker import Worker
from traytic.core.errors import EXCEPTION_HANDLERS
from traytic.core.logging import configure_logging
from traytic.db import Database, DbSettings, migrate

log = structlog.get_logger()


class Billing:
    """The billing service's routes and lifespan, mountable into any Litestar app."""

    def __init__(
        self,
        settings: BillingSettings,
        db_settings: DbSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.db_settings = db_settings
        self.clock = clock
        self.context: BillingContext | None = None
        self.worker: Worker | None = None
        self.worker_task: asyncio.Task[None] | None = None
        self.router = Router(
            path="/",
            route_handlers=[*WEBHOOK_HANDLERS, *API_HANDLERS],
            dependencies={"billing": Provide(provide_context, sync_to_thread=False)},
        )
        self.route_handlers: list[Any] = [self.router]

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        app.state.billing = self
        if self.settings.migrate_on_start:
            await migrate(self.db_settings)
        db = Database.from_settings(self.db_settings)
        settings = self.settings
        paystack = (
            PaystackApi(
                settings.paystack_secret_key,
                settings.paystack_base_url,
                timeout_s=settings.http_timeout_s,
            )
            if settings.paystack_enabled
            else None
        )
        polar = (
            polar_client(
                settings.polar_access_token,
                settings.polar_server,
                timeout_s=settings.http_timeout_s,
            )
            if settings.polar_access_token
            else None
        )
        self.context = BillingContext(
            settings=settings, db=db, clock=self.clock, paystack=paystack, polar=polar
        )
        if settings.run_worker and settings.enabled:
            self.worker = Worker(db, settings, paystack, clock=self.clock)
            self.worker_task = asyncio.create_task(self.worker.run(), name="billing-worker")
        log.info(
            "billing_started",
            paystack=self.settings.paystack_enabled,
            polar=self.settings.polar_enabled,
            worker=self.settings.run_worker and self.settings.enabled,
        )
        try:
            yield
        finally:
            if self.worker_task is not None:
                self.worker_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.worker_task
            if paystack is not None:
                await paystack.close()
            if polar is not None:
                await polar.__aexit__(None, None, None)
            await db.dispose()
            log.info("billing_stopped")


def create_app(
    settings: BillingSettings | None = None, db_settings: DbSettings | None = None
) -> Litestar:
    """The billing service alone (what `traytic billing` serves under Granian, and the tests)."""
    if settings is None or db_settings is None:
        loaded, loaded_db = load_billing_settings()
        settings = settings or loaded
        db_settings = db_settings or loaded_db
    configure_logging(settings.log_level, settings.log_format)
    billing = Billing(settings, db_settings)
    return Litestar(
        route_handlers=billing.route_handlers,
        lifespan=[billing.lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=None,
        # structlog owns logging (one format, redaction): not Litestar's default set-up.
        logging_config=None,
    )
