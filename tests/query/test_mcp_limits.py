"""MCP tool calls are charged to the caller's key like the API calls they make."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from tests.query.conftest import fast_settings
from tests.query.test_mcp import mcp_client
from tests.query.test_v2_query import chdb_warehouse, site_with_data  # noqa: F401 - fixtures


@pytest.fixture
def query_settings() -> Any:
    """A small key budget, to see MCP calls charged like API calls."""
    return fast_settings(api_key_rate_limit=3)


async def test_rate_limited_like_the_api(
    site_with_data: Any,  # noqa: F811 - the fixture
    app: Litestar,
) -> None:
    _, site, key, _ = site_with_data
    async with mcp_client(app, key) as client:
        answers = [await client.call_tool("overview", {"site_id": site["id"]}) for _ in range(4)]
    assert not answers[0].is_error
    assert answers[-1].is_error and "429" in answers[-1].content[0].text
