"""The MCP server on the query service: streamable HTTP at `/mcp` (stateless, JSON answers, so
any replica answers any call). DNS-rebinding checks are off on purpose: every tool call needs a
bearer API key, which a page on another site cannot send, and the service answers on any host
name an operator gives it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import asgi
from litestar.exceptions import ServiceUnavailableException
from litestar.types import Receive, Scope, Send

PATH = "/mcp"


class McpMount:
    """The MCP server of one running query app: built at start-up over the app itself."""

    def __init__(self) -> None:
        self.asgi_app: Any = None

    @contextlib.asynccontextmanager
    async def running(self, app: Any) -> AsyncIterator[None]:
        # The SDK is imported here, not with the app: it takes seconds, and only this needs it.
        from mcp.server.transport_security import TransportSecuritySettings

        from traytic.query.mcp.backends import InProcessBackend
        from traytic.query.mcp.tools import build_server

        backend = InProcessBackend(app)
        server = build_server(backend)
        self.asgi_app = server.streamable_http_app(
            streamable_http_path="/",
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        try:
            async with server.session_manager.run():
                yield
        finally:
            self.asgi_app = None
            await backend.aclose()


@asgi(PATH, is_mount=True, copy_scope=True, include_in_schema=False)
async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """Model Context Protocol (streamable HTTP): read-only analytics tools for assistants."""
    mount: McpMount = scope["app"].state.query.mcp
    if mount.asgi_app is None:
        raise ServiceUnavailableException("the MCP server is starting")
    child = dict(scope)
    if not child.get("path"):
        child["path"] = "/"
    await mount.asgi_app(child, receive, send)
