"""The MCP server mounted on the query service, driven by the `mcp` SDK's own client over
streamable HTTP (in-process ASGI; tests/e2e/test_mcp.py drives a real `traytic dev` and the stdio
server): its tools answer what the HTTP API answers, with the caller's API key and nothing more
(no key, another organisation's site: tool errors), and each call is charged to the key."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from litestar import Litestar
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.query.conftest import Api
from tests.query.test_v2_query import RANGE, chdb_warehouse, site_with_data  # noqa: F401 - fixtures

TOOLS = {
    "list_sites", "query_stats", "overview", "timeseries", "top_pages", "sources", "locations",
    "devices", "custom_events", "web_vitals", "live_visitors", "engagement", "errors",
    "languages",
}  # fmt: skip


@contextlib.asynccontextmanager
async def mcp_client(app: Litestar, key: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), headers=headers, base_url="http://testserver"
    )
    async with (
        http,
        Client(streamable_http_client("http://testserver/mcp", http_client=http)) as client,
    ):
        yield client


def _json(result: Any) -> Any:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content.get("result", result.structured_content)


async def test_tools_answer_what_the_api_answers(
    site_with_data: Any,  # noqa: F811 - the fixture
    api: Api,
    app: Litestar,
) -> None:
    _, site, key, _ = site_with_data
    async with mcp_client(app, key) as client:
        listed = await client.list_tools()
        assert {tool.name for tool in listed.tools} == TOOLS
        assert all(tool.annotations and tool.annotations.read_only_hint for tool in listed.tools)
        sites = _json(await client.call_tool("list_sites", {}))
        assert [s["id"] for s in sites] == [site["id"]]
        overview = _json(
            await client.call_tool(
                "overview",
                {
                    "site_id": site["id"],
                    "date_from": RANGE[0],
                    "date_to": RANGE[1],
                    "filters": {"country": "DE"},
                },
            )
        )
        direct = await api.call(
            "GET",
            f"/api/events/{site['id']}/overview?from={RANGE[0]}&to={RANGE[1]}&country=DE",
            key=key,
        )
        assert overview == direct.json() and overview["visitors"]["value"] > 0
        body = {
            "site_id": site["id"],
            "metrics": ["visitors", "pageviews"],
            "date_range": RANGE,
            "dimensions": ["visit:source"],
        }
        queried = _json(await client.call_tool("query_stats", body))
        plain = await api.call(
            "POST",
            "/api/v2/query",
            key=key,
            json={
                **body,
                "pagination": {"limit": 100, "offset": 0},
                "include": {"total_rows": True},
            },
        )
        assert queried["results"] == plain.json()["results"] and queried["results"]
        live = _json(await client.call_tool("live_visitors", {"site_id": site["id"]}))
        assert "visitors" in live


async def test_the_callers_key_and_nothing_more(
    site_with_data: Any,  # noqa: F811 - the fixture
    api: Api,
    app: Litestar,
) -> None:
    _, site, _, _ = site_with_data
    stranger = await api.signup()
    stranger_key = (await api.create_key(stranger))["key"]
    async with mcp_client(app, stranger_key) as client:
        refused = await client.call_tool("overview", {"site_id": site["id"]})
        assert refused.is_error and "404" in refused.content[0].text
        assert _json(await client.call_tool("list_sites", {})) == []
    async with mcp_client(app, None) as client:
        anonymous = await client.call_tool("list_sites", {})
        assert anonymous.is_error and "401" in anonymous.content[0].text
    async with mcp_client(app, "tk_live_nope_nope") as client:
        bad = await client.call_tool("overview", {"site_id": site["id"]})
        assert bad.is_error and "401" in bad.content[0].text
