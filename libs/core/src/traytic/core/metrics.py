"""Prometheus metrics shared by every service: the registry, the `/metrics` listener, request
counts.

Services keep plain integer counters on their hot paths and expose them through collectors read
at scrape time; each service registers its collectors into the registry it is given (by
default the process-wide one), so `traytic dev`, where every service shares one app, serves
them all from one `/metrics`.

`/metrics` is never on a service's public port: `serve_metrics()` answers it on a port of its
own (`TRAYTIC_METRICS_PORT`, on `TRAYTIC_METRICS_HOST`, loopback unless configured), which
deployments keep off the load balancer and open to the scraper only.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector

log = structlog.get_logger()

__all__ = [
    "REGISTRY",
    "CallbackCollector",
    "CollectorRegistry",
    "HttpRequestCounts",
    "counter",
    "gauge",
    "http_requests",
    "labelled_counter",
    "metrics_lifespan",
    "registered",
    "request_counting",
    "serve_metrics",
]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""


@contextlib.contextmanager
def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> Iterator[int | None]:
    """Answer `GET /metrics` for `registry` on `host:port` (a thread) while the block runs;
    yields the port, or None when `port` is 0 (off, as for the consumer) or already taken.

    A port that cannot be bound is logged and skipped, never fatal: the service itself (ingest
    above all) must not stop over its metrics. Collectors only read counters, so scraping from
    this thread is safe while the event loop counts.
    """
    if port <= 0:
        yield None
        return

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    try:
        httpd = make_server(host, port, make_wsgi_app(registry), Server, _QuietHandler)
    except OSError as exc:
        log.error("metrics_port_unavailable", host=host, port=port, error=str(exc))
        yield None
        return
    thread = threading.Thread(target=httpd.serve_forever, name="metrics", daemon=True)
    thread.start()
    log.info("metrics_serving", host=host, port=port)
    try:
        yield port
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def metrics_lifespan(
    registry: CollectorRegistry, host: str, port: int
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """`serve_metrics()` as a Litestar lifespan: for an app that runs alone (one per process)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        with serve_metrics(registry, host, port) as bound:
            app.state.metrics_port = bound
            yield

    return lifespan


class _Replicas:
    """One service's collectors in a registry, merged: several instances of a service in one
    process (replicas in tests, a reload) add up instead of colliding."""

    def __init__(self) -> None:
        self.members: list[Collector] = []

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        for member in list(self.members):
            for family in member.collect():
                if family.name not in families:
                    families[family.name] = Metric(
                        family.name, family.documentation, family.type, family.unit
                    )
                    values[family.name] = {}
                merged = values[family.name]
                for found in family.samples:
                    key = (found.name, tuple(sorted(found.labels.items())))
                    if key not in merged:
                        merged[key] = found.value
                    elif found.name.endswith("_created"):  # a timestamp: the oldest holds
                        merged[key] = min(merged[key], found.value)
                    else:
                        merged[key] += found.value
        for name, family in families.items():
            for (sample_name, labels), value in values[name].items():
                family.add_sample(sample_name, dict(labels), value)
            yield family


_REPLICAS: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, _Replicas]] = (
    weakref.WeakKeyDictionary()
)


@contextlib.contextmanager
def registered(registry: CollectorRegistry, service: str, collector: Collector) -> Iterator[None]:
    """Expose `collector` in `registry` for the life of a service (its lifespan)."""
    by_service = _REPLICAS.setdefault(registry, {})
    replicas = by_service.get(service)
    if replicas is None:
        replicas = by_service[service] = _Replicas()
        registry.register(replicas)
    replicas.members.append(collector)
    try:
        yield
    finally:
        replicas.members.remove(collector)


def counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def labelled_counter(
    name: str, documentation: str, label: str, values: Iterable[tuple[str, float]]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for key, value in values:
        family.add_metric([key], value)
    return family


class CallbackCollector:
    """A collector whose `collect()` is a function: for metric families built at scrape time."""

    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[Metric]:
        return self._collect()


class HttpRequestCounts:
    """HTTP requests answered, by service, method, route template and status.

    One per registry (`http_requests()`), shared by the services mounted in an app, so the
    metric family appears once however many services count into it.
    """

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str, str]] = Counter()

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "traytic_http_requests",
            "HTTP requests answered, by service, method, route template and status.",
            labels=["service", "method", "route", "status"],
        )
        for labels, value in sorted(self.counts.items()):
            family.add_metric(list(labels), value)
        yield family


_HTTP_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, HttpRequestCounts] = (
    weakref.WeakKeyDictionary()
)


def http_requests(registry: CollectorRegistry = REGISTRY) -> HttpRequestCounts:
    """The registry's request counts, registered into it on first use."""
    counts = _HTTP_BY_REGISTRY.get(registry)
    if counts is None:
        counts = _HTTP_BY_REGISTRY[registry] = HttpRequestCounts()
        registry.register(counts)
    return counts


def request_counting(
    service: str, registry: CollectorRegistry = REGISTRY
) -> Callable[[ASGIApp], ASGIApp]:
    """Litestar middleware (for a Router or an app) counting its requests by route template."""
    counts = http_requests(registry).counts

    def middleware(app: ASGIApp) -> ASGIApp:
        async def count_requests(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            status = 500  # what the server answers when the app raises before responding

            async def send_counting(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_counting)
            finally:
                route: Any = scope.get("path_template") or "unmatched"
                method: Any = scope.get("method", "")
                counts[(service, method, route, str(status))] += 1

        return count_requests

    return middleware
