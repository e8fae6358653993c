"""`GET /metrics` for a registry on a port of its own, and the middleware that counts HTTP
requests into it: the HTTP side of `traytic.core.metrics`.

`/metrics` is never on a service's public port: `serve_metrics()` answers it on
`TRAYTIC_METRICS_HOST:TRAYTIC_METRICS_PORT` (loopback unless configured), which deployments keep
off the load balancer and open to the scraper only.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from traytic.core.metrics import http_requests

log = structlog.get_logger()


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
