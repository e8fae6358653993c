"""`GET /metrics` for a registry, and the middleware that counts HTTP requests into it: the
HTTP side of `traytic.core.metrics`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Response, get
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from traytic.core.metrics import http_requests


def metrics_route(registry: CollectorRegistry = REGISTRY) -> HTTPRouteHandler:
    """`GET /metrics` in the text exposition format, for one registry: mount it once per app."""

    @get("/metrics", include_in_schema=False, sync_to_thread=False, name="metrics")
    def metrics() -> Response[bytes]:
        # Collectors only read counters kept in memory: cheap enough for the event loop.
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


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
