"""The query service app: `create_app()` for Granian, and `Query` for hosts that mount it
(the dev mode). Its routes live under one Router carrying their dependencies (the request's
database session, the caller, the service context) and an error handler, so mounting them
next to other services' routes changes nothing for those.

The lifespan migrates and opens the database, connects NATS, opens the `sites` bucket and
rebuilds it from the database (so the two never drift), and closes all of it again.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import structlog
from litestar import Litestar, Request, Response, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from nats.aio.client import Client as NatsClient
from prometheus_client.core import Metric
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core import bus
from traytic.core.errors import EXCEPTION_HANDLERS, TrayticError
from traytic.core.health import health_handlers
from traytic.core.logging import configure_logging
from traytic.core.metrics import (
    REGISTRY,
    CallbackCollector,
    CollectorRegistry,
    gauge,
    metrics_lifespan,
    registered,
    request_counting,
)
from traytic.core.settings import load_settings
from traytic.db import Database, DbSettings, migrate
from traytic.query.auth import require_user, resolve_caller
from traytic.query.context import QueryContext
from traytic.query.endpoints import CONTROLLERS
from traytic.query.live import LiveHub, StreamSlots
from traytic.query.mail import ConsoleMailer
from traytic.query.passwords import Passwords
from traytic.query.rate_limit import SlidingWindowLimiter
from traytic.query.registry import SiteRegistrySync
from traytic.query.settings import QuerySettings, load_query_settings
from traytic.query.unit_of_work import run_after_commit
from traytic.warehouse import Warehouse, WarehouseSettings, open_warehouse
from traytic.warehouse.stats import Stats

log = structlog.get_logger()

_SNAKE = re.compile(r"_([a-z])")


def _field_on_the_wire(request: Request[Any, Any, Any], exc: TrayticError) -> Response[Any]:
    """Repositories name fields in snake_case; the JSON API speaks camelCase."""
    if exc.field:
        exc.field = _SNAKE.sub(lambda match: match.group(1).upper(), exc.field)
    return EXCEPTION_HANDLERS[TrayticError](request, exc)


def openapi_config() -> OpenAPIConfig:
    """The API's docs at `/docs` (the schema at `/docs/openapi.json`)."""
    return OpenAPIConfig(
        title="Traytic",
        version="0.1.0",
        description="Accounts, organisations, sites and API keys of a Traytic install.",
        path="/docs",
        render_plugins=[ScalarRenderPlugin()],
    )


async def _recent_visitors(state: State, site_id: str) -> dict[str, int]:
    """What a site's live-visitor window starts from: read from the warehouse on the app's
    state at each call, like the stats API (a host may put its own there)."""
    return await Stats(state.warehouse).recent_visitors(site_id)


def _running(state: State) -> Query:
    # Litestar copies route handlers (and their dependencies) when it registers them, so the
    # providers find the running service on the app's state, which the lifespan sets.
    query: Query = state.query
    return query


def provide_context(state: State) -> QueryContext:
    context = _running(state).context
    assert context is not None, "the query lifespan has not started"
    return context


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commit after the handler, then the after-commit effects."""
    db = _running(state).db
    assert db is not None, "the query lifespan has not started"
    async with db.session() as session:
        yield session
    await run_after_commit(session)


class Query:
    """The query service's routes and lifespan, mountable into any Litestar app.

    Its requests and live streams are counted in `metrics_registry`; its host serves that
    registry on its metrics port (`create_app()` does; `traytic dev` once for every service).
    """

    def __init__(
        self,
        settings: QuerySettings,
        db_settings: DbSettings,
        bus_settings: bus.BusSettings,
        warehouse_settings: WarehouseSettings | None = None,
        *,
        metrics_registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.settings = settings
        self.metrics_registry = metrics_registry
        self.db_settings = db_settings
        self.bus_settings = bus_settings
        self.warehouse_settings = warehouse_settings or load_settings(WarehouseSettings)
        self.db: Database | None = None
        self.nc: NatsClient | None = None
        self.context: QueryContext | None = None
        self.router = Router(
            path="/",
            route_handlers=CONTROLLERS,
            dependencies={
                "db_session": Provide(provide_db_session),
                "ctx": Provide(provide_context, sync_to_thread=False),
                "caller": Provide(resolve_caller),
                "user": Provide(require_user),
            },
            exception_handlers={TrayticError: _field_on_the_wire},
            middleware=[request_counting("query", metrics_registry)],
        )
        self.route_handlers: list[Any] = [self.router]

    async def readiness_problem(self) -> str | None:
        """What keeps this replica from answering (for `/readyz`), or None."""
        if self.db is None or not await self.db.ping():
            return "database unreachable"
        if self.nc is None or not self.nc.is_connected:
            return "not connected to NATS"
        return None

    @property
    def registry(self) -> SiteRegistrySync:
        assert self.context is not None, "the query lifespan has not started"
        return self.context.registry

    def _collect_metrics(self) -> Iterator[Metric]:
        if self.context is None:
            return
        live = self.context.live
        yield gauge("traytic_query_sse_clients", "Live streams (SSE) open.", live.listeners)
        yield gauge(
            "traytic_query_live_sites", "Sites with a live stream open.", live.watched_sites
        )

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        app.state.query = self
        # The stats API reads `app.state.warehouse`. A host that already has one (`traytic
        # dev`, where chDB allows one data directory per process) shares it; alone, we open it.
        own_warehouse: Warehouse | None = None
        if getattr(app.state, "warehouse", None) is None:
            own_warehouse = app.state.warehouse = open_warehouse(self.warehouse_settings)
        if self.settings.migrate_on_start:
            await migrate(self.db_settings)
        self.db = db = Database.from_settings(self.db_settings)
        registry = SiteRegistrySync(
            db, timeout_s=self.settings.registry_timeout_s, retry_s=self.settings.registry_retry_s
        )
        self.context = QueryContext(
            settings=self.settings,
            passwords=Passwords(
                time_cost=self.settings.argon2_time_cost,
                memory_kib=self.settings.argon2_memory_kib,
                parallelism=self.settings.argon2_parallelism,
            ),
            login_limiter=SlidingWindowLimiter(
                self.settings.login_rate_limit, self.settings.login_rate_window_s, time.monotonic
            ),
            registry=registry,
            mailer=ConsoleMailer(),
            key_limiter=SlidingWindowLimiter(
                self.settings.api_key_rate_limit,
                self.settings.api_key_rate_window_s,
                time.monotonic,
            ),
            live=LiveHub(
                self.bus_settings.namespace,
                time.monotonic,
                self.settings.stream_queue_size,
                recent_visitors=functools.partial(_recent_visitors, app.state),
            ),
            stream_slots=StreamSlots(self.settings.stream_max_per_caller),
        )

        async def on_reconnect() -> None:
            # A KV write may have failed while we were away: make the bucket right again.
            log.info("nats_reconnected")
            registry.schedule_resync()

        async def on_disconnect() -> None:
            log.warning("nats_disconnected")

        async def on_error(exc: Exception) -> None:
            log.warning("nats_error", error=type(exc).__name__)

        self.nc = await bus.connect(
            self.bus_settings,
            name="traytic-query",
            reconnected_cb=on_reconnect,
            disconnected_cb=on_disconnect,
            error_cb=on_error,
        )
        self.context.live.nc = self.nc
        registry.kv = await bus.ensure_sites_bucket(self.nc.jetstream(), self.bus_settings)
        try:
            await registry.rebuild()
        except Exception as exc:
            log.warning("site_registry_rebuild_failed", error=type(exc).__name__)
            registry.schedule_resync()
        log.info("query_started", database=db.dialect)
        try:
            with registered(
                self.metrics_registry, "query", CallbackCollector(self._collect_metrics)
            ):
                yield
        finally:
            await self.context.live.close()
            await registry.close()
            await bus.close(self.nc)
            await db.dispose()
            if own_warehouse is not None:
                await own_warehouse.close()
            log.info("query_stopped")


def create_app(
    settings: QuerySettings | None = None,
    db_settings: DbSettings | None = None,
    bus_settings: bus.BusSettings | None = None,
    *,
    metrics_registry: CollectorRegistry = REGISTRY,
) -> Litestar:
    """The query service alone (what `traytic query` serves under Granian, and the tests)."""
    if settings is None or db_settings is None or bus_settings is None:
        loaded, loaded_db, loaded_bus = load_query_settings()
        settings = settings or loaded
        db_settings = db_settings or loaded_db
        bus_settings = bus_settings or loaded_bus
    configure_logging(settings.log_level, settings.log_format)
    query = Query(settings, db_settings, bus_settings, metrics_registry=metrics_registry)
    return Litestar(
        # Health and metrics only when alone: in `traytic dev` the host serves them once.
        route_handlers=[*query.route_handlers, *health_handlers(query.readiness_problem)],
        lifespan=[
            metrics_lifespan(metrics_registry, settings.metrics_host, settings.metrics_port),
            query.lifespan,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(),
        # structlog owns logging (one format, redaction): not Litestar's default set-up.
        logging_config=None,
    )
