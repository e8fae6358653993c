"""A request id for every HTTP request: sent back in `X-Request-Id`, bound to every log line
the request writes, and quoted in error bodies (`requestId`), so a user's report finds the log.

An id the client (or a proxy in front) sent is kept when it looks like one (letters, digits,
`-`, `_`, `.`, up to 64); anything else is replaced, so a header cannot forge log lines.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
_SCOPE_KEY = "traytic_request_id"
_SAFE = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")


def request_id_of(scope: Any) -> str | None:
    """The id the middleware gave this request (None outside one)."""
    value = scope.get(_SCOPE_KEY) if isinstance(scope, dict) else None
    return value if isinstance(value, str) else None


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == HEADER and _SAFE.match(value):
            return str(value.decode())
    return None


def request_ids(app: ASGIApp) -> ASGIApp:
    """Litestar middleware (an app's or a Router's). Idempotent: mounted at both levels, the
    outer one's id holds."""

    async def with_request_id(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or request_id_of(scope) is not None:
            await app(scope, receive, send)
            return
        request_id = _incoming(scope) or secrets.token_hex(8)
        scope[_SCOPE_KEY] = request_id  # type: ignore[literal-required]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await app(scope, receive, send_with_id)

    return with_request_id
