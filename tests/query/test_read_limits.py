"""Every read is limited, not only API keys': anonymous readers of a public site (the share
page) by client address, signed-in people by account; a filtered query, which reads the raw
events, costs `raw_scan_cost` where an unfiltered one costs 1. Guessing site ids costs too."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fixtures.clickhouse import fresh_chdb_settings, fresh_warehouse
from tests.query.conftest import Api, fast_settings
from tests.query.test_stream import serving
from traytic.core import bus
from traytic.db import DbSettings
from traytic.query.app import create_app


@pytest.fixture
async def api(
    db_settings: DbSettings, bus_settings: bus.BusSettings, clean_database: None, chdb_path: str
) -> AsyncIterator[Api]:
    settings = fast_settings(read_rate_limit=10, read_rate_window_s=30.0, raw_scan_cost=5)
    app = create_app(settings, db_settings, bus_settings)
    async with fresh_warehouse(fresh_chdb_settings(chdb_path)) as warehouse:
        app.state.warehouse = warehouse
        async with serving(app) as running_api:
            yield running_api


async def test_anonymous_readers_of_a_public_site_are_limited(api: Api) -> None:
    owner = await api.signup()
    site = await api.create_site(owner)
    made_public = await api.call(
        "PATCH", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner, json={"public": True}
    )
    assert made_public.status_code == 200, made_public.text
    overview = f"/api/events/{site['id']}/overview?period=7d"
    filtered = f"/api/events/{site['id']}/pages?period=7d&country=NG"
    assert (await api.call("GET", filtered)).status_code == 200  # 5 of 10
    for _ in range(5):
        assert (await api.call("GET", overview)).status_code == 200
    limited = await api.call("GET", overview)
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 30
    # The owner, signed in, has a budget of their own, and a filtered query costs five.
    assert (await api.call("GET", filtered, owner)).status_code == 200
    assert (await api.call("GET", filtered, owner)).status_code == 200
    assert (await api.call("GET", overview, owner)).status_code == 429


async def test_guessing_site_ids_is_charged_too(api: Api) -> None:
    statuses = [
        (await api.call("GET", f"/api/events/st_guess{n}/overview")).status_code for n in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
