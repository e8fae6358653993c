"""The billing app: `create_app()` for Granian (`traytic billing`), and `Billing` for hosts
that mount it (the dev mode). Routes: `POST /webhooks/paystack`, `POST /webhooks/polar`,
`POST /api/billing/checkout`, `GET /api/billing`.

The lifespan migrates and opens the database and, unless `TRAYTIC_RUN_WORKER=false`, runs
the worker that applies stored webhook events. Given a warehouse it counts usage; given the
bus too (and unless `TRAYTIC_ENFORCE_QUOTAS=false`) it keeps the `quotas` flags the gateway
reads. Given a warehouse it also runs the retention job daily (`traytic.billing.retention`),
which is the only part that also runs with no provider configured (`TRAYTIC_RETENTION_DAYS`);
otherwise every route answers 404 `billing_not_configured`. Given alert settings, it also
hosts the alerts scheduler (`traytic.billing.alerting`), with or without a provider. On shutdown
(SIGTERM) the worker finishes the round it is in, so its transaction commits, before it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import structlog
from litestar import Litestar, Router
from litestar.di import Provide
from prometheus_client.core import CounterMetricFamily, Metric

from traytic.alerts import AlertsSettings, load_alerts_settings
from traytic.billing.alerting import hosted_alerts
from traytic.billing.context import BillingContext, provide_context
from traytic.billing.endpoints import HANDLERS
from traytic.billing.providers.paystack_api import PaystackApi
from traytic.billing.providers.polar_api import polar_client
from traytic.billing.quotas import QuotaFlags
from traytic.billing.retention import RetentionJob
from traytic.billing.settings import BillingSettings, load_billing_settings
from traytic.billing.usage import NoUsage, UsageSource, WarehouseUsage
from traytic.billing.worker import Worker
from traytic.core.bus import BusSettings
from traytic.core.logging import configure_logging
from traytic.core.metrics import REGISTRY, CallbackCollector, CollectorRegistry, registered
from traytic.core.settings import load_settings
from traytic.core.tasks import background_task
from traytic.db import Database, DbSettings, migrate
from traytic.http.errors import EXCEPTION_HANDLERS
from traytic.http.health import health_handlers
from traytic.http.metrics import metrics_lifespan, request_counting
from traytic.http.request_id import request_ids
from traytic.warehouse import Warehouse, WarehouseSettings, open_warehouse

log = structlog.get_logger()

WORKER_STOP_TIMEOUT_S = 20.0
"""How long shutdown waits for the worker's round in progress before cancelling it."""


class Billing:
    """The billing service's routes and lifespan, mountable into any Litestar app.

    `warehouse_settings` (or a host's `app.state.warehouse`, shared in dev mode because chDB
    allows one per process) enables usage counts; with `bus_settings` too, quota flags.
    Requests and webhook events are counted in `metrics_registry`, which the host serves.
    """

    def __init__(
        self,
        settings: BillingSettings,
        db_settings: DbSettings,
        *,
        clock: Callable[[], float] = time.time,
        bus_settings: BusSettings | None = None,
        warehouse_settings: WarehouseSettings | None = None,
        metrics_registry: CollectorRegistry = REGISTRY,
        alerts_settings: AlertsSettings | None = None,
    ) -> None:
        self.settings = settings
        self.alerts_settings = alerts_settings
        self.metrics_registry = metrics_registry
        self.webhook_events: Counter[tuple[str, str]] = Counter()
        """Webhook deliveries by (provider, `verified` | `duplicate` | `rejected`)."""
        self.db_settings = db_settings
        self.clock = clock
        self.bus_settings = bus_settings
        self.warehouse_settings = warehouse_settings
        self.context: BillingContext | None = None
        self.stopping = asyncio.Event()
        self.router = Router(
            path="/",
            route_handlers=HANDLERS,
            dependencies={"billing": Provide(provide_context, sync_to_thread=False)},
            middleware=[request_ids, request_counting("billing", metrics_registry)],
        )
        self.route_handlers: list[Any] = [self.router]

    def _collect_metrics(self) -> Iterator[Metric]:
        counts = {
            (provider, status): 0
            for provider in ("paystack", "polar")
            for status in ("verified", "duplicate", "rejected")
        } | self.webhook_events
        family = CounterMetricFamily(
            "traytic_billing_webhook_events",
            "Webhook deliveries by provider and status (verified, duplicate, rejected).",
            labels=["provider", "status"],
        )
        for (provider, status), value in sorted(counts.items()):
            family.add_metric([provider, status], value)
        yield family

    async def readiness_problem(self) -> str | None:
        """What keeps this replica from answering (for `/readyz`), or None."""
        if self.context is None or not await self.context.db.ping():
            return "database unreachable"
        return None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        """Each step enters what it opens (clients, background tasks) into one exit stack: a
        step that fails closes everything opened before it, and shutdown stops the tasks
        first (the worker's round in progress commits) and closes the clients after."""
        app.state.billing = self
        self.stopping = asyncio.Event()
        settings = self.settings
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(log.info, "billing_stopped")
            if settings.migrate_on_start:
                await migrate(self.db_settings)
            db = await stack.enter_async_context(Database.from_settings(self.db_settings))
            paystack = polar = None
            if settings.paystack_enabled:
                paystack = PaystackApi(
                    settings.paystack_secret_key,
                    settings.paystack_base_url,
                    timeout_s=settings.http_timeout_s,
                )
                stack.push_async_callback(paystack.close)
            if settings.polar_access_token:
                polar = polar_client(
                    settings.polar_access_token,
                    settings.polar_server,
                    timeout_s=settings.http_timeout_s,
                )
                stack.push_async_callback(polar.__aexit__, None, None, None)
            warehouse: Warehouse | None = None
            if settings.enabled or settings.retention_enabled:
                warehouse = getattr(app.state, "warehouse", None)
                if warehouse is None and self.warehouse_settings is not None:
                    warehouse = open_warehouse(self.warehouse_settings)
                    stack.push_async_callback(warehouse.close)
            usage: UsageSource = (
                WarehouseUsage(warehouse, db, self.clock) if warehouse is not None else NoUsage()
            )
            self.context = BillingContext(
                settings=settings,
                db=db,
                clock=self.clock,
                paystack=paystack,
                polar=polar,
                usage=usage,
            )
            stack.callback(setattr, self, "context", None)
            quotas = None
            quotas_wanted = settings.enabled and settings.enforce_quotas
            if warehouse is not None and self.bus_settings is not None and quotas_wanted:
                quotas = QuotaFlags(db, warehouse, grace=settings.quota_grace, clock=self.clock)
                await stack.enter_async_context(
                    background_task(
                        quotas.run(self.bus_settings, settings.quota_interval_s),
                        name="quota-flags",
                    )
                )
            worker = settings.run_worker and settings.enabled
            if worker:
                await stack.enter_async_context(
                    background_task(
                        Worker(
                            db,
                            settings,
                            paystack,
                            clock=self.clock,
                            after_commit=(
                                quotas.refresh_after_plan_change if quotas is not None else None
                            ),
                        ).run(self.stopping),
                        name="billing-worker",
                        stop=self.stopping,
                        # The round in progress commits; only a round stuck past this is cut.
                        grace_s=WORKER_STOP_TIMEOUT_S,
                    )
                )
            retention = warehouse is not None and settings.retention_enabled
            if warehouse is not None and retention:
                job = RetentionJob(db, warehouse, settings, clock=self.clock)
                await stack.enter_async_context(
                    background_task(
                        job.run(settings.retention_interval_s, self.stopping),
                        name="retention",
                        stop=self.stopping,
                    )
                )
            stack.enter_context(
                registered(
                    self.metrics_registry, "billing", CallbackCollector(self._collect_metrics)
                )
            )
            await stack.enter_async_context(
                hosted_alerts(
                    self.alerts_settings,
                    db,
                    warehouse=warehouse or getattr(app.state, "warehouse", None),
                    warehouse_settings=self.warehouse_settings,
                    clock=self.clock,
                )
            )
            log.info(
                "billing_started",
                paystack=settings.paystack_enabled,
                polar=settings.polar_enabled,
                worker=worker,
                usage=warehouse is not None,
                quotas=quotas is not None,
                retention=retention,
            )
            yield


def create_app(
    settings: BillingSettings | None = None,
    db_settings: DbSettings | None = None,
    *,
    bus_settings: BusSettings | None = None,
    warehouse_settings: WarehouseSettings | None = None,
    metrics_registry: CollectorRegistry = REGISTRY,
    alerts_settings: AlertsSettings | None = None,
) -> Litestar:
    """The billing service alone (what `traytic billing` serves under Granian, and the tests).

    Settings read from the environment (`traytic billing`) bring the bus and the warehouse
    along; a caller that passes its own settings passes those too if it wants usage and quotas.
    """
    from_environment = settings is None
    if settings is None or db_settings is None:
        loaded, loaded_db = load_billing_settings()
        settings = settings or loaded
        db_settings = db_settings or loaded_db
    if from_environment:
        bus_settings = bus_settings or load_settings(BusSettings)
        warehouse_settings = warehouse_settings or load_settings(WarehouseSettings)
        alerts_settings = alerts_settings or load_alerts_settings()
    configure_logging(settings.log_level, settings.log_format)
    billing = Billing(
        settings,
        db_settings,
        bus_settings=bus_settings,
        warehouse_settings=warehouse_settings,
        metrics_registry=metrics_registry,
        alerts_settings=alerts_settings,
    )
    return Litestar(
        # Health and metrics only when alone: in `traytic dev` the host serves them once.
        route_handlers=[*billing.route_handlers, *health_handlers(billing.readiness_problem)],
        lifespan=[
            metrics_lifespan(metrics_registry, settings.metrics_host, settings.metrics_port),
            billing.lifespan,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=None,
        # structlog owns logging (one format, redaction): not Litestar's default set-up.
        logging_config=None,
    )
