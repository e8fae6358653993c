"""The MCP server as an assistant meets it, driven by the `mcp` SDK's own client: mounted on a
real `traytic dev` (streamable HTTP over the network) and `traytic mcp` over stdio reading that
install with its API key. Both list the dev site and answer what the stats API answers."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import DevProcess, start_dev


@pytest.fixture(scope="module")
def dev_with_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevProcess, str]]:
    data = tmp_path_factory.mktemp("mcp") / "data"
    running = start_dev(data)
    key = json.loads((data / "dev.json").read_text())["api_key"]
    yield running, key
    running.stop()


def _answer(result: Any) -> Any:
    """A tool's structured answer (a list comes wrapped as {"result": [...]})."""
    assert not result.is_error, result.content
    structured = result.structured_content
    return structured.get("result", structured) if structured is not None else None


async def _check(client: Client, dev: DevProcess, key: str) -> None:
    tools = {tool.name for tool in (await client.list_tools()).tools}
    assert {"list_sites", "query_stats", "overview", "live_visitors"} <= tools
    sites = _answer(await client.call_tool("list_sites", {}))
    assert dev.site_id in [site["id"] for site in sites]
    overview = _answer(await client.call_tool("overview", {"site_id": dev.site_id, "period": "7d"}))
    async with httpx.AsyncClient(
        base_url=dev.url, headers={"Authorization": f"Bearer {key}"}
    ) as http:
        direct = (
            await http.get(f"/api/events/{dev.site_id}/overview", params={"period": "7d"})
        ).json()
    assert overview["range"] == direct["range"]
    assert overview["visitors"] == direct["visitors"]
    queried = _answer(
        await client.call_tool(
            "query_stats", {"site_id": dev.site_id, "metrics": ["visitors"], "date_range": "7d"}
        )
    )
    assert queried["query"]["metrics"] == ["visitors"] and len(queried["results"]) == 1


async def test_streamable_http_on_the_query_service(dev_with_key: tuple[DevProcess, str]) -> None:
    dev, key = dev_with_key
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    async with http, Client(streamable_http_client(f"{dev.url}/mcp", http_client=http)) as client:
        await _check(client, dev, key)


async def test_stdio_from_the_cli(dev_with_key: tuple[DevProcess, str], tmp_path: Path) -> None:
    dev, key = dev_with_key
    env = {**os.environ, "TRAYTIC_MCP_API_KEY": key, "TRAYTIC_LOG_FORMAT": "json"}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "traytic.cli.main", "mcp", "--url", dev.url], env=env
    )
    async with Client(params) as client:
        await _check(client, dev, key)
