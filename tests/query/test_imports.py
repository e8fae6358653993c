"""Imports through the query app (chDB; the figures are checked on both engines in
tests/warehouse/imports): an upload answers 202, its job is polled to done, the stats API with
`imported=true` and the v2 query with `include.imports` then add what the files say; importing
again replaces, deleting removes; access (viewers and API keys 403, another organisation's site
404) and bad uploads (400, 413, a failed job that says why)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.fixtures.clickhouse import fresh_chdb_settings, fresh_warehouse
from tests.query.conftest import Account, Api, fast_settings
from tests.warehouse.imports.files import GA4, plausible_totals, plausible_zip, zip_folder
from traytic.query.settings import QuerySettings
from traytic.warehouse import Warehouse

MAX_BYTES = 100_000


@pytest.fixture
def query_settings() -> QuerySettings:
    return fast_settings(import_max_bytes=MAX_BYTES)


@pytest.fixture
async def chdb_warehouse(chdb_path: str) -> AsyncIterator[Warehouse]:
    async with fresh_warehouse(fresh_chdb_settings(chdb_path)) as warehouse:
        yield warehouse


@pytest.fixture
async def owner_site(api: Api, app: Litestar, chdb_warehouse: Warehouse) -> tuple[Account, str]:
    app.state.warehouse = chdb_warehouse
    owner = await api.signup()
    site = await api.create_site(owner, domain="imports.example.org")
    return owner, site["id"]


async def upload(
    api: Api,
    org_id: str,
    site_id: str,
    body: bytes,
    *,
    source: str = "plausible",
    filename: str = "export.zip",
    as_: Account | None = None,
    key: str | None = None,
) -> httpx.Response:
    headers = as_.headers() if as_ is not None else {}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    api.client.cookies.clear()
    return await api.client.post(
        f"/api/orgs/{org_id}/sites/{site_id}/imports",
        params={"source": source, "filename": filename},
        content=body,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )


async def finished(api: Api, owner: Account, site_id: str, run: str) -> dict[str, Any]:
    """Poll the job as the dashboard does until it ends."""
    url = f"/api/orgs/{owner.org_id}/sites/{site_id}/imports/{run}"
    for _ in range(200):
        response = await api.call("GET", url, owner)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        assert 0.0 <= job["progress"] <= 1.0
        if job["status"] not in ("reading", "writing"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish")


async def overview(api: Api, owner: Account, site_id: str, **params: str) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = await api.call(
        "GET", f"/api/events/{site_id}/overview?from=2024-01-01&to=2024-01-03&{query}", owner
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_upload_poll_report_replace_delete(
    api: Api, owner_site: tuple[Account, str], tmp_path: Path
) -> None:
    owner, site_id = owner_site
    body = plausible_zip(tmp_path).read_bytes()
    started = await upload(api, owner.org_id, site_id, body, as_=owner)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "reading"
    job = await finished(api, owner, site_id, started.json()["run"])
    assert job["status"] == "done" and job["progress"] == 1.0, job
    assert (job["firstDay"], job["lastDay"], job["skippedDays"]) == ("2024-01-01", "2024-01-03", 0)

    files = plausible_totals(date(2024, 1, 1), date(2024, 1, 3))
    answer = await overview(api, owner, site_id, imported="true")
    assert answer["importsIncluded"] is True
    assert answer["visitors"]["value"] == files["visitors"]
    assert answer["pageviews"]["value"] == files["pageviews"]
    assert answer["bounceRate"]["value"] == pytest.approx(files["bounces"] / files["visits"])
    assert (await overview(api, owner, site_id))["visitors"]["value"] == 0
    filtered = await overview(api, owner, site_id, imported="true", country="DE")
    assert filtered["importsIncluded"] is False and filtered["visitors"]["value"] == 0

    v2 = await api.call(
        "POST", "/api/v2/query", owner,
        json={"site_id": site_id, "metrics": ["visitors"], "date_range": ["2024-01-01", "2024-01-03"],
              "include": {"imports": True}},
    )  # fmt: skip
    assert v2.status_code == 200, v2.text
    assert v2.json()["results"][0]["metrics"] == [files["visitors"]]
    assert v2.json()["meta"]["imports_included"] is True
    everything = await api.call(
        "POST", "/api/v2/query", owner,
        json={"site_id": site_id, "metrics": ["visitors"], "date_range": "all",
              "include": {"imports": True}},
    )  # fmt: skip
    assert everything.json()["query"]["date_range"][0].startswith("2024-01-01")
    assert everything.json()["results"][0]["metrics"] == [files["visitors"]]

    again = await upload(api, owner.org_id, site_id, body, as_=owner)
    assert (await finished(api, owner, site_id, again.json()["run"]))["status"] == "done"
    assert (await overview(api, owner, site_id, imported="true"))["visitors"] == answer["visitors"]
    listed = await api.call("GET", f"/api/orgs/{owner.org_id}/sites/{site_id}/imports", owner)
    assert [job["run"] for job in listed.json()] == [again.json()["run"], started.json()["run"]]

    url = f"/api/orgs/{owner.org_id}/sites/{site_id}/imports/plausible"
    assert (await api.call("DELETE", url, owner)).status_code == 204
    assert (await api.call("DELETE", url, owner)).status_code == 404
    assert (await overview(api, owner, site_id, imported="true"))["visitors"]["value"] == 0


async def test_ga4_upload(api: Api, owner_site: tuple[Account, str], tmp_path: Path) -> None:
    owner, site_id = owner_site
    body = zip_folder(GA4, tmp_path / "ga4.zip").read_bytes()
    started = await upload(api, owner.org_id, site_id, body, source="ga4", as_=owner)
    assert (await finished(api, owner, site_id, started.json()["run"]))["status"] == "done"
    response = await api.call(
        "GET", f"/api/events/{site_id}/overview?from=2024-03-01&to=2024-03-02&imported=true", owner
    )
    assert response.json()["visitors"]["value"] == 120 + 100  # ga4_totals.csv's Total users


async def test_who_may_import(api: Api, owner_site: tuple[Account, str], tmp_path: Path) -> None:
    owner, site_id = owner_site
    body = plausible_zip(tmp_path).read_bytes()
    viewer, admin, stranger = await api.signup(), await api.signup(), await api.signup()
    await api.add_member(owner, viewer, "viewer")
    await api.add_member(owner, admin, "admin")
    key = (await api.create_key(owner))["key"]
    assert (await upload(api, owner.org_id, site_id, body, as_=viewer)).status_code == 403
    assert (await upload(api, owner.org_id, site_id, body, key=key)).status_code == 403
    assert (await upload(api, owner.org_id, site_id, body)).status_code == 401
    # Another organisation's site is a 404 from the stranger's own organisation, a 403 or 404
    # from ours (not a member).
    assert (await upload(api, stranger.org_id, site_id, body, as_=stranger)).status_code == 404
    assert (await upload(api, owner.org_id, site_id, body, as_=stranger)).status_code in (403, 404)
    listing = f"/api/orgs/{owner.org_id}/sites/{site_id}/imports"
    assert (await api.call("GET", listing, viewer)).status_code == 403
    assert (await api.call("GET", listing, key=key)).status_code == 403
    started = await upload(api, owner.org_id, site_id, body, as_=admin)
    assert started.status_code == 202, started.text
    await finished(api, owner, site_id, started.json()["run"])


async def test_bad_uploads(api: Api, owner_site: tuple[Account, str]) -> None:
    owner, site_id = owner_site
    empty = await upload(api, owner.org_id, site_id, b"", as_=owner)
    assert empty.status_code == 400 and empty.json()["field"] == "file"
    unknown = await upload(api, owner.org_id, site_id, b"x", source="matomo", as_=owner)
    assert unknown.status_code == 400 and unknown.json()["field"] == "source"
    large = await upload(api, owner.org_id, site_id, b"x" * (MAX_BYTES + 1), as_=owner)
    assert large.status_code == 413
    broken = await upload(api, owner.org_id, site_id, b"not a zip", as_=owner)
    assert broken.status_code == 202
    job = await finished(api, owner, site_id, broken.json()["run"])
    assert job["status"] == "failed" and "not a ZIP file" in job["message"]
    missing = await api.call("GET", f"/api/orgs/{owner.org_id}/sites/{site_id}/imports/123", owner)
    assert missing.status_code == 404
