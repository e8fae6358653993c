"""`traytic mcp`: the MCP server over stdio, for assistants that start a local process (Claude
Desktop, editors). It reads a Traytic install over its HTTP API with one API key, so it can do
only what that key may, wherever the install runs."""

from __future__ import annotations

import argparse
import asyncio

import msgspec

from traytic.core.errors import ConfigurationError
from traytic.core.settings import load_settings


class McpSettings(msgspec.Struct, frozen=True, kw_only=True):
    mcp_url: str = "http://localhost:3001"
    """The Traytic install the stdio MCP server reads (`traytic mcp`)."""
    mcp_api_key: str = ""
    """The API key it reads with (`tk_live_...`); `--key` overrides it."""


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mcp = commands.add_parser(
        "mcp", help="serve the MCP tools over stdio, reading an install with an API key"
    )
    mcp.add_argument("--url", help="the install's URL (default TRAYTIC_MCP_URL or localhost:3001)")
    mcp.add_argument("--key", help="the API key (default TRAYTIC_MCP_API_KEY)")


def run_mcp(args: argparse.Namespace) -> int:
    from traytic.query.mcp.backends import HttpBackend
    from traytic.query.mcp.tools import build_server

    settings = load_settings(McpSettings)
    key = args.key or settings.mcp_api_key
    if not key:
        raise ConfigurationError("traytic mcp needs an API key: --key or TRAYTIC_MCP_API_KEY")
    backend = HttpBackend(args.url or settings.mcp_url, key)
    server = build_server(backend, authorization=lambda _ctx: None)

    async def serve() -> None:
        try:
            await server.run_stdio_async()
        finally:
            await backend.aclose()

    asyncio.run(serve())
    return 0
