"""The per-API-key limit of the stats and stream endpoints: 429 with `Retry-After` past
`api_key_rate_limit` requests in the window, one budget per key across both kinds of endpoint;
sessions are not counted."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.query.conftest import Api, fast_settings
from tests.query.test_stream import serving
from traytic.core import bus
from traytic.db import DbSettings
from traytic.query.app import create_app


@pytest.fixture
async def api(
    db_settings: DbSettings, bus_settings: bus.BusSettings, clean_database: None
) -> AsyncIterator[Api]:
    settings = fast_settings(api_key_rate_limit=3, api_key_rate_window_s=30.0)
    async with serving(create_app(settings, db_settings, bus_settings)) as running_api:
        yield running_api


async def test_a_key_over_its_limit_gets_429_with_retry_after(api: Api) -> None:
    owner = await api.signup()
    key = (await api.create_key(owner))["key"]
    other_key = (await api.create_key(owner))["key"]
    # Unknown sites answer 404 without touching the warehouse, and still count.
    assert (await api.call("GET", "/api/events/st_nothing/overview", key=key)).status_code == 404
    assert (await api.call("GET", "/api/stream/st_nothing", key=key)).status_code == 404
    assert (await api.call("GET", "/api/events/st_nothing/pages", key=key)).status_code == 404
    for url in ("/api/events/st_nothing/overview", "/api/stream/st_nothing"):
        limited = await api.call("GET", url, key=key)
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 30
    assert (await api.call("GET", "/api/stream/st_nothing", key=other_key)).status_code == 404
    for _ in range(5):  # a signed-in person is not limited per key
        response = await api.call("GET", "/api/events/st_nothing/overview", owner)
        assert response.status_code == 404
