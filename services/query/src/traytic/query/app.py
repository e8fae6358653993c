"""The query service app: `create_app()` for Granian, and `Query` for hosts that mount it
(the dev mode). Its routes live under one Router carrying their dependencies (the request's
database session, the caller, the service context) and an error handler, so mounting them
next to other services' routes changes nothing for those.

The lifespan migrates and opens the database, connects NATS, opens the `sites` bucket and
rebuilds it from the database (so the two never drift), and closes all of it again.
"""

from __future__ import annotations

import asyncio
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
from litestar.types import ASGIApp, Receive, Scope, Send
from nats.aio.client import Client as NatsClient
from prometheus_client.core import Metric
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core import bus
from traytic.core.errors import ConfigurationError, TrayticError
from traytic.core.logging import configure_logging
from traytic.core.metrics import REGISTRY, CallbackCollector, CollectorRegistry, gauge, registered
from traytic.core.settings import load_settings
from traytic.core.tasks import background_task
from traytic.db import Database, DbSettings, migrate
from traytic.db.keyring import Keyring
from traytic.http.client_ip import ClientIpResolver
from traytic.http.errors import EXCEPTION_HANDLERS, render_traytic_error
from traytic.http.health import health_handlers
from traytic.http.metrics import metrics_lifespan, request_counting
from traytic.http.request_id import request_ids
from traytic.query.auth import provide_user, resolve_caller
from traytic.query.backoff import Backoffs
from traytic.query.context import QueryContext
from traytic.query.endpoints import CONTROLLERS
from traytic.query.live import LiveHub, StreamSlots
from traytic.query.login_limits import LoginLimits
from traytic.query.mail_outbox import MailSender, OutboxMailer, mailer_for
from traytic.query.mcp.mount import McpMount
from traytic.query.oidc import OidcClient
from traytic.query.passwords import Passwords
from traytic.query.rate_limit import SlidingWindowLimiter
from traytic.query.rates import keep_exchange_rates
from traytic.query.registry import SiteRegistrySync
from traytic.query.settings import QuerySettings, load_query_settings
from traytic.query.stream_access import OpenStreams
from traytic.query.two_factor import reseal_secrets
from traytic.query.unit_of_work import run_after_commit
from traytic.warehouse import WarehouseSettings, open_warehouse
from traytic.warehouse.stats import Stats

log = structlog.get_logger()

_SNAKE = re.compile(r"_([a-z])")


def _field_on_the_wire(request: Request[Any, Any, Any], exc: TrayticError) -> Response[Any]:
    """Repositories name fields in snake_case; the JSON API speaks camelCase."""
    if exc.field:
        exc.field = _SNAKE.sub(lambda match: match.group(1).upper(), exc.field)
    return render_traytic_error(request, exc)


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


_SESSION_KEY = "traytic.db_session"


async def provide_db_session(
    state: State, request: Request[Any, Any, Any]
) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commit after the handler, then the after-commit effects."""
    db = _running(state).db
    assert db is not None, "the query lifespan has not started"
    async with db.session() as session:
        request.scope[_SESSION_KEY] = session  # type: ignore[literal-required]
        yield session
    await run_after_commit(session)


def close_abandoned_sessions(app: ASGIApp) -> ASGIApp:
    """Closes the request's session once the response is sent, if its dependency never did.

    Litestar registers a generator dependency's cleanup only after every dependency of the
    request resolved: when a later one fails (a 400 for a bad parameter), `provide_db_session`
    is never resumed, and its session kept the connection (and, on SQLite, the database lock
    that made the next write answer 500) until the garbage collector found it."""

    async def closing(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        finally:
            session = scope.pop(_SESSION_KEY, None)  # type: ignore[misc]
            if session is not None:
                await session.close()  # a no-op when the dependency closed it

    return closing


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
        self.keyring = Keyring.from_settings(db_settings)
        if settings.email_enabled and not self.keyring.can_seal:
            raise ConfigurationError(
                "TRAYTIC_SECRET_KEY is needed with TRAYTIC_SMTP_HOST: queued mails hold sign-up "
                "and invitation links, which the database keeps sealed until they are sent"
            )
        self.db: Database | None = None
        self.nc: NatsClient | None = None
        self.context: QueryContext | None = None
        self.backoffs = Backoffs(time.time)
        self.mcp = McpMount()
        self.router = Router(
            path="/",
            route_handlers=CONTROLLERS,
            dependencies={
                "db_session": Provide(provide_db_session),
                "ctx": Provide(provide_context, sync_to_thread=False),
                "caller": Provide(resolve_caller),
                "user": Provide(provide_user),
            },
            exception_handlers={TrayticError: _field_on_the_wire},
            middleware=[
                request_ids,
                request_counting("query", metrics_registry),
                close_abandoned_sessions,
            ],
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
        """Each step enters what it opens into one exit stack: a step that fails closes
        everything opened before it, and shutdown closes it all in reverse order."""
        app.state.query = self
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(log.info, "query_stopped")
            # The stats API reads `app.state.warehouse`. A host that already has one (`traytic
            # dev`, where chDB allows one data directory per process) shares it; alone, we
            # open it.
            if getattr(app.state, "warehouse", None) is None:
                app.state.warehouse = own_warehouse = open_warehouse(self.warehouse_settings)
                stack.push_async_callback(own_warehouse.close)
                stack.callback(setattr, app.state, "warehouse", None)
            if self.settings.migrate_on_start:
                await migrate(self.db_settings)
            self.db = db = await stack.enter_async_context(Database.from_settings(self.db_settings))
            await reseal_secrets(db, self.keyring)
            self.context = context = self._context(db, app.state)
            registry = context.registry
            self.nc = await stack.enter_async_context(
                bus.connected(self.bus_settings, name="traytic-query", **_nats_callbacks(registry))
            )
            context.live.nc = self.nc
            stack.push_async_callback(registry.close)
            stack.push_async_callback(context.live.close)
            stack.push_async_callback(context.imports.close)
            registry.kv = await bus.ensure_sites_bucket(self.nc.jetstream(), self.bus_settings)
            self.backoffs.share(
                await bus.ensure_bucket(
                    self.nc.jetstream(),
                    bus.names(self.bus_settings.namespace).limits_bucket,
                    replicas=self.bus_settings.kv_replicas,
                    ttl_s=max(3600.0, self.settings.login_rate_window_s),
                )
            )
            try:
                await registry.rebuild()
            except Exception as exc:
                log.warning("site_registry_rebuild_failed", error=type(exc).__name__)
                registry.schedule_resync()
            await stack.enter_async_context(
                background_task(
                    context.open_streams.run(self.nc, self.settings.stream_recheck_s),
                    name="live-stream-access",
                )
            )
            if isinstance(context.mailer, OutboxMailer):
                # Mails wait in the database: shutdown lets sends in flight finish within the
                # grace, and whatever is left goes out from the next replica that runs.
                sender = MailSender(db, self.keyring, self.settings, context.mailer.wake)
                mail_stop, grace_s = asyncio.Event(), min(self.settings.smtp_timeout_s, 10.0)
                await stack.enter_async_context(
                    background_task(
                        sender.run(mail_stop, stop_timeout_s=grace_s),
                        name="mail",
                        stop=mail_stop,
                        grace_s=grace_s + 1.0,
                    )
                )
            log.info("mail_mode", mode="smtp" if self.settings.email_enabled else "console")
            await stack.enter_async_context(keep_exchange_rates(self.settings, context.rates))
            stack.enter_context(
                registered(self.metrics_registry, "query", CallbackCollector(self._collect_metrics))
            )
            await stack.enter_async_context(self.mcp.running(app))
            log.info("query_started", database=db.dialect)
            yield

    def _context(self, db: Database, state: State) -> QueryContext:
        settings = self.settings
        return QueryContext(
            settings=settings,
            passwords=Passwords(
                time_cost=settings.argon2_time_cost,
                memory_kib=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
            ),
            login_limits=LoginLimits(self.backoffs, settings),
            registry=SiteRegistrySync(
                db, timeout_s=settings.registry_timeout_s, retry_s=settings.registry_retry_s
            ),
            mailer=mailer_for(settings, self.keyring),
            oidc=OidcClient(settings),
            keyring=self.keyring,
            key_limiter=SlidingWindowLimiter(
                settings.api_key_rate_limit, settings.api_key_rate_window_s, time.monotonic
            ),
            read_limiter=SlidingWindowLimiter(
                settings.read_rate_limit, settings.read_rate_window_s, time.monotonic
            ),
            live=LiveHub(
                self.bus_settings.namespace,
                time.monotonic,
                settings.stream_queue_size,
                recent_visitors=functools.partial(_recent_visitors, state),
            ),
            stream_slots=StreamSlots(settings.stream_max_per_caller),
            client_ips=ClientIpResolver(settings.trusted_proxies),
            open_streams=OpenStreams(db, self.bus_settings.namespace),
        )


def _nats_callbacks(registry: SiteRegistrySync) -> dict[str, Any]:
    async def on_reconnect() -> None:
        # A KV write may have failed while we were away: make the bucket right again.
        log.info("nats_reconnected")
        registry.schedule_resync()

    async def on_disconnect() -> None:
        log.warning("nats_disconnected")

    async def on_error(exc: Exception) -> None:
        log.warning("nats_error", error=type(exc).__name__)

    return {
        "reconnected_cb": on_reconnect,
        "disconnected_cb": on_disconnect,
        "error_cb": on_error,
    }


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
