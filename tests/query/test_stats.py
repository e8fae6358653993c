"""The stats API through the query app (chDB; the answers themselves are checked on both
engines in tests/warehouse/stats): access rules, parameters, camelCase bodies, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar

from tests.fixtures.clickhouse import fresh_chdb_settings, fresh_warehouse
from tests.query.conftest import Api
from tests.warehouse.stats.dataset import expected_overview, make_dataset, store
from traytic.warehouse import Warehouse
from traytic.warehouse.stats import Filters, StatsQuery

FROM, TO = "2025-02-15", "2025-03-30"
RANGE = f"from={FROM}&to={TO}"
"""The generated dataset's days (tests/warehouse/stats/dataset.py: NOW is 2025-03-30)."""
ENDPOINTS = (
    "overview", "timeseries", "pages", "sources", "countries", "devices", "vitals", "live",
    "events", "engagement", "errors", "languages",
)  # fmt: skip


@pytest.fixture
async def chdb_warehouse(chdb_path: str) -> AsyncIterator[Warehouse]:
    async with fresh_warehouse(fresh_chdb_settings(chdb_path)) as store:
        yield store


@pytest.fixture
async def site_with_data(
    api: Api, app: Litestar, chdb_warehouse: Warehouse
) -> tuple[Any, dict[str, Any], str]:
    """An owner, their site (time zone Europe/Berlin) holding the generated dataset, a key."""
    app.state.warehouse = chdb_warehouse
    owner = await api.signup()
    site = await api.create_site(owner)
    patched = await api.call(
        "PATCH", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner,
        json={"timeZone": "Europe/Berlin"},
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    rows = [msgspec.structs.replace(row, site_id=site["id"]) for row in make_dataset()]
    await store(chdb_warehouse, rows)
    key = (await api.create_key(owner))["key"]
    return owner, site, key


async def test_every_endpoint_answers_an_api_key(
    site_with_data: tuple[Any, Any, str], api: Api
) -> None:
    _, site, key = site_with_data
    for name in ENDPOINTS:
        response = await api.call("GET", f"/api/events/{site['id']}/{name}?{RANGE}", key=key)
        assert response.status_code == 200, (name, response.text)
        body = response.json()
        if name != "live":
            assert body["range"]["tz"] == "Europe/Berlin", name


async def test_overview_matches_the_rows(site_with_data: tuple[Any, Any, str], api: Api) -> None:
    owner, site, _ = site_with_data
    response = await api.call(
        "GET",
        f"/api/events/{site['id']}/overview?{RANGE}&country=DE&device=desktop",
        owner,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    query = StatsQuery.build(
        site["id"], date_from=FROM, date_to=TO, tz="Europe/Berlin",
        filters=Filters.of(country="DE", device="desktop"),
    )  # fmt: skip
    rows = [msgspec.structs.replace(r, site_id=site["id"]) for r in make_dataset()]
    now, before = expected_overview(rows, query)
    assert now.pageviews > 0
    assert body["pageviews"] == {"value": now.pageviews, "previous": before.pageviews}
    assert body["visitors"]["value"] == now.visitors
    assert body["bounceRate"]["value"] == pytest.approx(now.bounce_rate)
    assert set(body) >= {
        "viewsPerVisit", "visitDuration", "previousRange", "events", "engagedTime",
    }  # fmt: skip


async def test_timeseries_has_every_hour(site_with_data: tuple[Any, Any, str], api: Api) -> None:
    _, site, key = site_with_data
    response = await api.call(
        "GET", f"/api/events/{site['id']}/timeseries?period=24h&tz=Asia/Kolkata", key=key
    )
    buckets = response.json()["buckets"]
    assert len(buckets) == 24
    assert all(b["start"].endswith("+05:30") for b in buckets)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=1y", "period"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("page=0", "page"),
        ("tz=Mars/Olympus", "tz"),
        ("from=2025-01-01", "to"),
        ("from=2025-01-02&to=2025-01-01", "to"),
        ("from=soon&to=2025-01-01", "from"),
        ("interval=week", "interval"),
        ("period=90d&interval=hour", "interval"),
        ("prop=nocolon", "prop"),
        ("utmSource=" + "x" * 3000, "utmSource"),
    ],
)
async def test_bad_parameters_are_400_naming_them(
    site_with_data: tuple[Any, Any, str], api: Api, query: str, field: str
) -> None:
    _, site, key = site_with_data
    response = await api.call("GET", f"/api/events/{site['id']}/pages?{query}", key=key)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field, response.text


@pytest.mark.parametrize("endpoint", ["engagement", "errors", "languages"])
async def test_the_engagement_reports_refuse_bad_parameters_and_hold_no_lock(
    site_with_data: tuple[Any, Any, str], api: Api, endpoint: str
) -> None:
    # Several 400s in a row, then a write: a 400 raised while the request's dependencies were
    # resolved once left its database session open, and on SQLite the next write met its lock.
    owner, site, key = site_with_data
    for query in ("limit=0", "period=1y", "limit=many"):
        url = f"/api/events/{site['id']}/{endpoint}?{query}"
        response = await api.call("GET", url, key=key)
        assert response.status_code == 400, response.text
        assert response.json()["field"] in query, response.text
    renamed = await api.call(
        "PATCH", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner, json={"name": "renamed"}
    )
    assert renamed.status_code == 200, renamed.text


@pytest.mark.parametrize("endpoint", ["overview", "engagement", "errors", "languages"])
async def test_access(site_with_data: tuple[Any, Any, str], api: Api, endpoint: str) -> None:
    owner, site, key = site_with_data
    url = f"/api/events/{site['id']}/{endpoint}"
    assert (await api.call("GET", url)).status_code == 401
    assert (await api.call("GET", f"/api/events/st_nothing/{endpoint}")).status_code == 401
    assert (await api.call("GET", url, key="tk_wrong")).status_code == 401
    assert (await api.call("GET", url, owner)).status_code == 200

    stranger = await api.signup()
    foreign_key = (await api.create_key(stranger))["key"]
    unknown = await api.call("GET", f"/api/events/st_nothing/{endpoint}", key=foreign_key)
    foreign = await api.call("GET", url, key=foreign_key)
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json() == foreign.json()
    assert (await api.call("GET", url, stranger)).status_code == 404

    viewer = await api.signup()
    await api.add_member(owner, viewer, "viewer")
    assert (await api.call("GET", url, viewer)).status_code == 200

    deleted = await api.create_site(owner, domain="gone.example")
    await api.call("DELETE", f"/api/orgs/{owner.org_id}/sites/{deleted['id']}", owner)
    gone = await api.call("GET", f"/api/events/{deleted['id']}/{endpoint}", key=key)
    assert gone.status_code == 404


async def test_public_site_is_readable_without_credentials(
    site_with_data: tuple[Any, Any, str], api: Api
) -> None:
    owner, site, _ = site_with_data
    url = f"/api/events/{site['id']}/pages?{RANGE}"
    assert (await api.call("GET", url)).status_code == 401
    made_public = await api.call(
        "PATCH", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner, json={"public": True}
    )
    assert made_public.status_code == 200, made_public.text
    response = await api.call("GET", url)
    assert response.status_code == 200, response.text
    assert response.json()["pages"]
    stranger = await api.signup()
    assert (await api.call("GET", url, stranger)).status_code == 200


async def test_openapi_documents_every_endpoint(api: Api) -> None:
    schema = (await api.call("GET", "/docs/openapi.json")).json()
    for name in ENDPOINTS:
        operation = schema["paths"][f"/api/events/{{site_id}}/{name}"]["get"]
        params = {p["name"] for p in operation["parameters"]}
        assert {"period", "from", "to", "tz", "limit", "page", "utmSource", "prop"} <= params, name
