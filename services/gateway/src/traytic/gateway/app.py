"""The gateway app: `create_app()` for Granian, and `Gateway` for hosts that mount it (dev mode).

The lifespan opens the NATS connection, declares the stream and the `sites` and `quotas`
buckets, starts their watches, the rate limits' sync and the coalescer, and loads the hosting
networks' table; handlers reach them through `app.state.gateway`, never globals.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog
from litestar import Litestar
from litestar.handlers import asgi
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from traytic.core import bus
from traytic.core.logging import configure_logging
from traytic.core.metrics import REGISTRY, CollectorRegistry, registered
from traytic.gateway.client_facts import ClientFacts
from traytic.gateway.coalescer import Coalescer
from traytic.gateway.collect import CollectEndpoint
from traytic.gateway.datacenter import DatacenterRanges
from traytic.gateway.endpoints import healthz, readyz, tracker_script
from traytic.gateway.metrics import GatewayCollector, GatewayMetrics
from traytic.gateway.publisher import JetStreamPublisher
from traytic.gateway.rate_limit import TokenBuckets
from traytic.gateway.rate_sync import RateSync
from traytic.gateway.registry import OverQuotaSites, SiteRegistry
from traytic.gateway.settings import GatewaySettings, load_gateway_settings
from traytic.http.errors import EXCEPTION_HANDLERS
from traytic.http.metrics import metrics_lifespan

log = structlog.get_logger()


class Gateway:
    """The gateway's routes and its lifespan, mountable into any Litestar app.

    The lifespan registers the gateway's collectors in `metrics_registry`; the host serves that
    registry on its metrics port (`create_app()` does; `traytic dev` once for every service).
    """

    def __init__(
        self,
        settings: GatewaySettings,
        bus_settings: bus.BusSettings,
        *,
        metrics_registry: CollectorRegistry = REGISTRY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` stamps each beacon's `received_at`; only an in-process host may change it."""
        self.settings = settings
        self.metrics_registry = metrics_registry
        self.bus_settings = bus_settings
        self.names = bus.names(bus_settings.namespace)
        self.registry = SiteRegistry()
        self.over_quota = OverQuotaSites()
        self.metrics = GatewayMetrics()
        self.nc: NatsClient | None = None
        self.js: JetStreamContext | None = None
        self.publisher = JetStreamPublisher(
            self.names.events_subject, timeout=settings.publish_timeout_s
        )
        self.coalescer = Coalescer(
            self.publisher.publish,
            max_beacons=settings.coalesce_max_beacons,
            max_bytes=settings.coalesce_max_bytes,
            max_inflight=settings.max_inflight_batches,
        )
        self.limits: dict[str, TokenBuckets] = {}
        if settings.rate_limit_ip_per_s > 0:
            # Visitors sending one beacon need not be shared: a flood is what must be.
            self.limits["ip"] = TokenBuckets(
                settings.rate_limit_ip_per_s,
                settings.rate_limit_ip_burst,
                time.monotonic,
                report_min=2,
            )
        if settings.rate_limit_site_per_s > 0:
            self.limits["site"] = TokenBuckets(
                settings.rate_limit_site_per_s, settings.rate_limit_site_burst, time.monotonic
            )
        self.rate_sync = RateSync(
            self.limits, self.names.rate_limit_subject, interval_s=settings.rate_limit_sync_s
        )
        self.datacenter = DatacenterRanges() if settings.filter_datacenter else None
        self.collect = CollectEndpoint(
            settings,
            self.coalescer,
            self.registry,
            self.metrics,
            self._is_connected,
            over_quota=self.over_quota,
            ip_limit=self.limits.get("ip"),
            site_limit=self.limits.get("site"),
            clients=ClientFacts(
                settings.rate_limit_exempt, self.datacenter, settings.trusted_proxies
            ),
            clock=clock,
        )
        self.route_handlers: list[Any] = [
            asgi("/collect", copy_scope=False, name="collect")(self.collect.handle),
            healthz,
            readyz,
            tracker_script,
        ]

    def _is_connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def readiness_problem(self) -> str | None:
        if not self._is_connected() or self.js is None:
            return "not connected to NATS"
        if not self.registry.ready.is_set():
            return "site registry not loaded"
        try:
            await self.js.stream_info(self.names.stream)
        except NotFoundError:
            return f"stream {self.names.stream} missing"
        except Exception as exc:
            return f"NATS: {type(exc).__name__}"
        return None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        app.state.gateway = self

        async def on_disconnect() -> None:
            log.warning("nats_disconnected")

        async def on_reconnect() -> None:
            log.info("nats_reconnected")
            self.registry.resync()
            self.over_quota.resync()

        async def on_error(exc: Exception) -> None:
            log.warning("nats_error", error=type(exc).__name__, detail=str(exc))

        self.nc = await bus.connect(
            self.bus_settings,
            name="traytic-gateway",
            disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect,
            error_cb=on_error,
        )
        self.js = self.nc.jetstream()
        await self.publisher.start(self.nc)
        ranges = await asyncio.to_thread(self.datacenter.load) if self.datacenter else None
        await bus.ensure_stream(self.js, self.bus_settings)
        kv = await bus.ensure_sites_bucket(self.js, self.bus_settings)
        quotas = await bus.ensure_quotas_bucket(self.js, self.bus_settings)
        watch = asyncio.create_task(self.registry.run(kv), name="site-registry")
        quota_watch = asyncio.create_task(self.over_quota.run(quotas), name="quota-flags")
        rate_sync = asyncio.create_task(self.rate_sync.run(self.nc), name="rate-limit-sync")
        await asyncio.wait_for(self.registry.ready.wait(), timeout=30)
        await asyncio.wait_for(self.over_quota.ready.wait(), timeout=30)
        log.info(
            "gateway_started",
            stream=self.names.stream,
            sites=len(self.registry),
            over_quota=len(self.over_quota),
            rate_limits=sorted(self.limits),
            datacenter_ranges=ranges,
        )
        try:
            with registered(
                self.metrics_registry, "gateway", GatewayCollector(self.metrics, self.coalescer)
            ):
                yield
        finally:
            await self.coalescer.drain()
            await self.publisher.stop()
            for task in (watch, quota_watch, rate_sync):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await bus.close(self.nc)
            log.info(
                "gateway_stopped",
                beacons=self.metrics.beacons_accepted,
                batches=self.coalescer.batches_published,
            )


@contextlib.asynccontextmanager
async def _freeze_gc(_: Litestar) -> AsyncIterator[None]:
    # Everything allocated at start-up (routes, registry, clients) is permanent: moving it out of
    # the collector's generations cut p99 from 32 ms to 4 ms in the prototype.
    gc.collect()
    gc.freeze()
    # A request leaves no reference cycles behind, but the objects of the requests in flight
    # (tasks, frames, dicts) kept crossing the default 700 allocations: under load a young
    # collection every ~110 requests that found nothing (measured: 4 objects in 700
    # collections), ~0.9 us per request. Garbage from the rare cycles (an exception's
    # traceback) waits for 20,000 allocations instead: a few MB at most.
    gc.set_threshold(20_000, 20, 20)
    yield


class CollectFirst:
    """ASGI front door: `/collect` straight to its endpoint, everything else to Litestar.

    Litestar's routing and middleware cost ~6 us per request, a tenth of the whole budget of
    the hot path at 20k req/s; this skips them for the one route that needs no framework.
    """

    def __init__(self, app: Litestar, collect: CollectEndpoint) -> None:
        self.app = app
        self.collect = collect

    def __call__(self, scope: Any, receive: Any, send: Any) -> Awaitable[None]:
        # Not a coroutine function itself: it hands the server the coroutine to run, one
        # coroutine frame less per request (the server only awaits what the app returns).
        if scope["type"] == "http" and scope["path"] == "/collect":
            return self.collect(scope, receive, send)
        return self.app(scope, receive, send)


def create_app(
    settings: GatewaySettings | None = None,
    bus_settings: bus.BusSettings | None = None,
    *,
    metrics_registry: CollectorRegistry = REGISTRY,
) -> Litestar:
    """The gateway alone as a Litestar app (tests, and hosts that mount more routes)."""
    if settings is None or bus_settings is None:
        loaded, loaded_bus = load_gateway_settings()
        settings = settings or loaded
        bus_settings = bus_settings or loaded_bus
    configure_logging(settings.log_level, settings.log_format)
    gateway = Gateway(settings, bus_settings, metrics_registry=metrics_registry)
    app = Litestar(
        route_handlers=gateway.route_handlers,
        lifespan=[
            metrics_lifespan(metrics_registry, settings.metrics_host, settings.metrics_port),
            gateway.lifespan,
            _freeze_gc,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=None,
        # structlog owns logging (one format, redaction): not Litestar's default set-up.
        logging_config=None,
    )
    app.state.gateway_collect = gateway.collect
    return app


def create_asgi() -> CollectFirst:
    """What `traytic gateway` serves under Granian: the app behind the `/collect` front door."""
    app = create_app()
    return CollectFirst(app, app.state.gateway_collect)
