"""`POST /api/v2/query` and saved segments through the query app (chDB; the answers themselves
are checked on both engines in tests/warehouse/stats/test_v2.py): the documented example
requests answered in the documented shape, site ids and domains, access (another organisation's
site or segment is a 404, viewers read, keys read shared segments only, personal segments are
their owner's), Plausible-style 400s, the stats API's `segment=` and fuzzed bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from tests.fixtures.clickhouse import fresh_chdb_settings, fresh_warehouse
from tests.query.conftest import Account, Api
from tests.warehouse.stats import v2_truth
from tests.warehouse.stats.dataset import make_dataset, store
from traytic.warehouse import Warehouse
from traytic.warehouse.stats import Filters, Stats, StatsQuery
from traytic.warehouse.stats.v2 import parse_query

RANGE = ["2025-02-15", "2025-03-29"]
EXAMPLES: list[dict[str, Any]] = [
    # Plausible's documented examples (stats-api docs), with our site and a fixed range.
    {"metrics": ["visitors", "events"]},
    {"metrics": ["visitors", "pageviews", "bounce_rate"], "filters": [["is_not", "visit:country_name", [""]]],
     "dimensions": ["visit:country_name", "visit:city_name"]},
    {"metrics": ["visitors", "events", "pageviews"], "dimensions": ["visit:utm_medium", "visit:utm_source"]},
    {"metrics": ["visitors"], "filters": [["contains", "event:page", ["/docs", "/pricing"]],
                                          ["is", "visit:country_name", ["Estonia", "United States"]]]},
    {"metrics": ["visitors"], "filters": [["contains", "event:page", ["/blog"], {"case_sensitive": False}]]},
    {"metrics": ["visitors", "events"], "dimensions": ["time:day"], "filters": [["is", "visit:os", ["Linux", "iOS"]]]},
    {"metrics": ["visitors"], "dimensions": ["time:day", "event:props:plan"],
     "order_by": [["time:day", "asc"], ["event:props:plan", "desc"]]},
    {"metrics": ["visitors", "events", "pageviews"], "dimensions": ["visit:utm_medium", "visit:utm_source"],
     "include": {"total_rows": True}, "pagination": {"offset": 1, "limit": 3}},
]  # fmt: skip


@pytest.fixture
async def chdb_warehouse(chdb_path: str) -> AsyncIterator[Warehouse]:
    async with fresh_warehouse(fresh_chdb_settings(chdb_path)) as warehouse:
        yield warehouse


@pytest.fixture
async def site_with_data(
    api: Api, app: Litestar, chdb_warehouse: Warehouse
) -> tuple[Account, dict[str, Any], str, list[Any]]:
    app.state.warehouse = chdb_warehouse
    owner = await api.signup()
    site = await api.create_site(owner, domain="shop.example.org")
    patched = await api.call(
        "PATCH",
        f"/api/orgs/{owner.org_id}/sites/{site['id']}",
        owner,
        json={"timeZone": "Europe/Berlin"},
    )
    assert patched.status_code == 200, patched.text
    rows = [msgspec.structs.replace(row, site_id=site["id"]) for row in make_dataset()]
    await store(chdb_warehouse, rows)
    key = (await api.create_key(owner))["key"]
    return owner, site, key, rows


async def _query(api: Api, body: dict[str, Any], **who: Any) -> Any:
    return await api.call("POST", "/api/v2/query", json=body, **who)


async def test_documented_examples_answer_in_the_documented_shape(
    site_with_data: Any, api: Api
) -> None:
    owner, site, key, rows = site_with_data
    for example in EXAMPLES:
        body = {"site_id": "shop.example.org", "date_range": RANGE, **example}
        response = await _query(api, body, key=key)
        assert response.status_code == 200, (example, response.text)
        answer = response.json()
        assert set(answer) == {"results", "meta", "query"}
        assert answer["query"]["site_id"] == "shop.example.org"
        assert answer["query"]["metrics"] == example["metrics"]
        assert answer["query"]["dimensions"] == example.get("dimensions", [])
        query = parse_query(
            {**body, "site_id": site["id"]},
            site_id=site["id"],
            tz="Europe/Berlin",
            now=v2_truth_now(),
        )
        truth = v2_truth.answer(rows, query)
        for row in answer["results"]:
            assert set(row) == {"metrics", "dimensions"}
            assert len(row["metrics"]) == len(example["metrics"])
            assert len(row["dimensions"]) == len(example.get("dimensions", []))
            if row["dimensions"] or truth:
                assert row["metrics"] == [
                    truth[tuple(row["dimensions"])][m] for m in example["metrics"]
                ]
        if "total_rows" in example.get("include", {}):
            assert answer["meta"]["total_rows"] == len(truth)
            assert len(answer["results"]) == min(3, len(truth) - 1)
    same = await _query(
        api, {"site_id": site["id"], "date_range": RANGE, "metrics": ["visitors"]}, as_=owner
    )
    by_domain = await _query(
        api,
        {"site_id": "shop.example.org", "date_range": RANGE, "metrics": ["visitors"]},
        as_=owner,
    )
    assert same.json()["results"] == by_domain.json()["results"]


def v2_truth_now() -> Any:
    from tests.warehouse.stats.dataset import NOW

    return NOW


async def test_errors_are_plausible_style_400s(site_with_data: Any, api: Api) -> None:
    _, site, key, _ = site_with_data
    base = {"site_id": site["id"], "date_range": "7d"}
    cases = [
        ({**base, "metrics": ["nope"]}, "metrics"),
        ({**base, "metrics": ["bounce_rate"], "dimensions": ["event:props:plan"]}, "metrics"),
        (
            {**base, "metrics": ["visitors"], "filters": [["matches", "event:page", ["(?=x)"]]]},
            "filters",
        ),
        (
            {**base, "metrics": ["visitors"], "filters": [["is", "time:day", ["2025-01-01"]]]},
            "filters",
        ),
        ({**base, "metrics": ["time_on_page"]}, "metrics"),
        ({**base, "metrics": ["visitors"], "date_range": "yesterday"}, "date_range"),
        ({**base, "metrics": ["visitors"], "order_by": [["visits", "desc"]]}, "order_by"),
        ({**base, "metrics": ["percentage"]}, "metrics"),
        ({**base, "metrics": ["visitors"], "bogus": 1}, "bogus"),
    ]
    for body, field in cases:
        response = await _query(api, body, key=key)
        assert response.status_code == 400, (body, response.text)
        error = response.json()
        assert isinstance(error["error"], str) and error["error"]
        assert error["field"] == field, error
    api.client.cookies.clear()
    raw = await api.client.post(
        "/api/v2/query", content=b"{not json", headers={"Authorization": f"Bearer {key}"}
    )
    assert raw.status_code == 400 and raw.json()["field"] == "query"


async def test_access_to_sites(site_with_data: Any, api: Api) -> None:
    owner, site, key, _ = site_with_data
    viewer, stranger = await api.signup(), await api.signup()
    await api.add_member(owner, viewer, "viewer")
    body = {"site_id": site["id"], "date_range": RANGE, "metrics": ["visitors"]}
    assert (await _query(api, body, as_=viewer)).status_code == 200
    assert (await _query(api, body, as_=stranger)).status_code == 404
    assert (
        await _query(api, {**body, "site_id": "shop.example.org"}, as_=stranger)
    ).status_code == 404
    assert (await _query(api, body)).status_code == 401
    stranger_key = (await api.create_key(stranger))["key"]
    assert (await _query(api, body, key=stranger_key)).status_code == 404
    assert (await _query(api, {**body, "site_id": "st_doesnotexist"}, key=key)).status_code == 404


async def test_segments_saved_shared_and_used(
    site_with_data: Any, api: Api, chdb_warehouse: Warehouse
) -> None:
    owner, site, key, _ = site_with_data
    viewer, stranger = await api.signup(), await api.signup()
    await api.add_member(owner, viewer, "viewer")
    base = f"/api/orgs/{owner.org_id}/sites/{site['id']}/segments"
    filters = [["is", "visit:country", ["DE"]], ["is", "visit:device", ["desktop"]]]

    team = await api.call(
        "POST", base, owner, json={"name": "German desktops", "filters": filters, "shared": True}
    )
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    mine = await api.call(
        "POST",
        base,
        viewer,
        json={"name": "Mine", "filters": [["contains", "event:page", ["/blog"]]]},
    )
    assert mine.status_code == 201, mine.text
    mine_id = mine.json()["id"]
    # A viewer may not share; keys cannot write; bad filters are a 400 naming them.
    refused = await api.call(
        "POST", base, viewer, json={"name": "x", "filters": filters, "shared": True}
    )
    assert refused.status_code == 403
    assert (
        await api.call("POST", base, key=key, json={"name": "x", "filters": filters})
    ).status_code == 403
    bad = await api.call(
        "POST", base, owner, json={"name": "x", "filters": [["is", "visit:nope", ["a"]]]}
    )
    assert bad.status_code == 400 and bad.json()["field"] == "filters"
    # Who sees what.
    assert {s["id"] for s in (await api.call("GET", base, viewer)).json()} == {team_id, mine_id}
    assert {s["id"] for s in (await api.call("GET", base, owner)).json()} == {team_id}
    assert {s["id"] for s in (await api.call("GET", base, key=key)).json()} == {team_id}
    assert (await api.call("GET", f"{base}/{mine_id}", owner)).status_code == 404
    assert (await api.call("GET", base, stranger)).status_code == 404
    assert (
        await api.call("PATCH", f"{base}/{team_id}", viewer, json={"name": "y"})
    ).status_code == 403
    assert (await api.call("DELETE", f"{base}/{mine_id}", owner)).status_code == 404
    renamed = await api.call("PATCH", f"{base}/{mine_id}", viewer, json={"name": "Blog readers"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Blog readers"

    # Used in v2 filters: the same numbers as the filters themselves.
    body = {
        "site_id": site["id"],
        "date_range": RANGE,
        "metrics": ["visitors", "visits", "pageviews"],
    }
    direct = await _query(api, {**body, "filters": filters}, key=key)
    via_segment = await _query(api, {**body, "filters": [["is", "segment", [team_id]]]}, key=key)
    assert via_segment.status_code == 200, via_segment.text
    assert via_segment.json()["results"] == direct.json()["results"]
    assert direct.json()["results"][0]["metrics"][0] > 0
    assert (
        await _query(api, {**body, "filters": [["is", "segment", [mine_id]]]}, key=key)
    ).status_code == 404
    assert (
        await _query(api, {**body, "filters": [["is", "segment", [mine_id]]]}, as_=viewer)
    ).status_code == 200
    assert (
        await _query(api, {**body, "filters": [["is", "segment", [mine_id]]]}, as_=owner)
    ).status_code == 404

    # Used by the stats API: `segment=` equals the same equality filters.
    overview = await api.call(
        "GET",
        f"/api/events/{site['id']}/overview?from={RANGE[0]}&to={RANGE[1]}&segment={team_id}",
        key=key,
    )
    assert overview.status_code == 200, overview.text
    expected = await Stats(chdb_warehouse).overview(StatsQuery.build(
        site["id"], date_from=RANGE[0], date_to=RANGE[1], tz="Europe/Berlin", filters=Filters.of(country="DE", device="desktop")
    ))  # fmt: skip
    assert overview.json()["visitors"]["value"] == expected.visitors.value
    assert overview.json()["pageviews"]["value"] == expected.pageviews.value
    foreign = await api.call("GET", f"/api/events/{site['id']}/overview?segment={mine_id}", key=key)
    assert foreign.status_code == 404
    assert (await api.call("DELETE", f"{base}/{team_id}", owner)).status_code == 204


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["metrics", "date_range", "filters", "dimensions", "order_by", "include", "pagination", "x"]),
        inner, max_size=5),
    max_leaves=20,
))  # fmt: skip
async def test_fuzzed_bodies_are_answers_or_400s(site_with_data: Any, api: Api, body: Any) -> None:
    _, site, key, _ = site_with_data
    if isinstance(body, dict):
        body = {"site_id": site["id"], **body}
    response = await _query(api, body, key=key)
    assert response.status_code in (200, 400), response.text


async def test_exports_through_the_api(site_with_data: Any, api: Api) -> None:
    """The reports ZIP and the raw events download for readers only; others get a 404."""
    import csv
    import io
    import zipfile

    owner, site, key, _ = site_with_data
    viewer, stranger = await api.signup(), await api.signup()
    await api.add_member(owner, viewer, "viewer")
    period = "from=2025-03-01&to=2025-03-07"
    zipped = await api.call("GET", f"/api/events/{site['id']}/export?{period}", as_=viewer)
    assert zipped.status_code == 200, zipped.text
    assert zipped.headers["content-type"] == "application/zip"
    assert "shop.example.org-2025-03-01-2025-03-07.zip" in zipped.headers["content-disposition"]
    assert "pages.csv" in zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    raw = await api.call(
        "GET", f"/api/events/{site['id']}/export/events?{period}&country=DE", key=key
    )
    assert raw.status_code == 200, raw.text
    exported = list(csv.DictReader(io.StringIO(raw.text)))
    assert exported and {r["country"] for r in exported} == {"DE"}
    parquet = await api.call(
        "GET", f"/api/events/{site['id']}/export/events?{period}&format=parquet", key=key
    )
    assert parquet.status_code == 200 and parquet.content[:4] == b"PAR1"
    assert (
        await api.call("GET", f"/api/events/{site['id']}/export?{period}", as_=stranger)
    ).status_code == 404
    assert (
        await api.call("GET", f"/api/events/{site['id']}/export/events?{period}", as_=stranger)
    ).status_code == 404
    assert (
        await api.call(
            "GET", f"/api/events/{site['id']}/export/events?{period}&format=xml", key=key
        )
    ).status_code == 400
