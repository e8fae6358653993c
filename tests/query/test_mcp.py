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
    "languages", "goal_conversions", "goals_and_funnels", "funnel",
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


async def test_goal_and_funnel_tools_answer_what_the_api_answers(
    site_with_data: Any,  # noqa: F811 - the fixture
    api: Api,
    app: Litestar,
) -> None:
    owner, site, key, _ = site_with_data
    base = f"/api/orgs/{owner.org_id}/sites/{site['id']}"
    ids = []
    for name, match in (("Blog", "/blog/**"), ("Pricing", "/pricing")):
        created = await api.call(
            "POST", f"{base}/goals", owner, json={"name": name, "kind": "pageview", "match": match}
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    funnel = await api.call("POST", f"{base}/funnels", owner, json={"name": "F", "steps": ids})
    assert funnel.status_code == 201, funnel.text
    async with mcp_client(app, key) as client:
        defined = _json(await client.call_tool("goals_and_funnels", {"site_id": site["id"]}))
        assert [g["id"] for g in defined["goals"]] == ids
        assert [f["id"] for f in defined["funnels"]] == [funnel.json()["id"]]
        span = {"site_id": site["id"], "date_from": RANGE[0], "date_to": RANGE[1]}
        query = f"from={RANGE[0]}&to={RANGE[1]}"
        steps = _json(await client.call_tool("funnel", {**span, "funnel_id": funnel.json()["id"]}))
        direct = await api.call(
            "GET", f"/api/events/{site['id']}/funnels/{funnel.json()['id']}?{query}", key=key
        )
        assert steps == direct.json() and steps["steps"][0]["visitors"] > 0
        goals = _json(await client.call_tool("goal_conversions", span))
        direct = await api.call("GET", f"/api/events/{site['id']}/goals?{query}", key=key)
        assert goals == direct.json()
        imported = _json(await client.call_tool("overview", {**span, "imported": True}))
        assert imported["importsIncluded"] is True


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
