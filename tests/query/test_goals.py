"""Goals, funnels and conversions through the query app: who may read and write, 400s naming
the field, 404 for another organisation's, the reports' figures against the rows sent (chDB;
both engines are checked in tests/warehouse/stats), exchange rates from a file and a provider
URL (a local server standing in for one), and the routes in /docs."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar

from tests.fixtures.clickhouse import fresh_chdb_settings, fresh_warehouse
from tests.query.conftest import Account, Api, fast_settings
from tests.sdk.local_servers import serve
from tests.warehouse.stats.dataset import store
from tests.warehouse.stats.goal_dataset import (
    CONVERSION,
    RATES,
    TZ,
    conversion_rows,
    figures,
    make_visits,
    q,
)
from traytic.query.settings import QuerySettings
from traytic.warehouse import Warehouse
from traytic.warehouse.stats.goals import Target
from traytic.warehouse.stats.matching import Goal

RANGE = "from=2025-02-28&to=2025-03-30"


@pytest.fixture
def rates_file(tmp_path: Path) -> Path:
    path = tmp_path / "rates.json"
    path.write_text(json.dumps({"base": "USD", "rates": RATES}))
    return path


@pytest.fixture
def query_settings(rates_file: Path) -> QuerySettings:
    return fast_settings(exchange_rates_file=str(rates_file))


@pytest.fixture
async def chdb_warehouse(chdb_path: str) -> AsyncIterator[Warehouse]:
    async with fresh_warehouse(fresh_chdb_settings(chdb_path)) as warehouse:
        yield warehouse


async def make_site(api: Api, owner: Account, **fields: Any) -> dict[str, Any]:
    site = await api.create_site(owner)
    patched = await api.call(
        "PATCH", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner, json=fields
    )
    assert patched.status_code == 200, patched.text
    body: dict[str, Any] = patched.json()
    return body


async def add_goal(api: Api, owner: Account, site: dict[str, Any], **body: Any) -> dict[str, Any]:
    url = f"/api/orgs/{owner.org_id}/sites/{site['id']}/goals"
    response = await api.call("POST", url, owner, json=body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
async def shop(api: Api, app: Litestar, chdb_warehouse: Warehouse) -> dict[str, Any]:
    """A site in Asia/Kathmandu reporting in EUR, with goal_dataset's visits and goals."""
    app.state.warehouse = chdb_warehouse
    owner = await api.signup()
    site = await make_site(api, owner, timeZone=TZ, currency="EUR")
    rows = [msgspec.structs.replace(row, site_id=site["id"]) for row in make_visits()]
    await store(chdb_warehouse, rows)
    goals = {
        "pricing": await add_goal(
            api, owner, site, name="Pricing", kind="pageview", match="/pricing*"
        ),
        "signup": await add_goal(api, owner, site, name="Signup", kind="event", match="signup"),
        "pro": await add_goal(
            api, owner, site, name="Pro", kind="event", match="signup", propKey="plan",
            propValue="pro",
        ),
        "purchase": await add_goal(
            api, owner, site, name="Purchase", kind="revenue", match="purchase"
        ),
    }  # fmt: skip
    key = (await api.create_key(owner))["key"]
    return {"owner": owner, "site": site, "goals": goals, "key": key, "rows": rows}


def spec(goal: dict[str, Any]) -> Goal:
    prop = (goal["propKey"], goal["propValue"]) if goal["propKey"] else None
    return Goal(goal["id"], goal["name"], goal["kind"], goal["match"], prop)


async def test_goal_and_funnel_access(api: Api, shop: dict[str, Any]) -> None:
    owner, site = shop["owner"], shop["site"]
    goals_url = f"/api/orgs/{owner.org_id}/sites/{site['id']}/goals"
    funnels_url = f"/api/orgs/{owner.org_id}/sites/{site['id']}/funnels"
    signup = shop["goals"]["signup"]
    made = await api.call(
        "POST", funnels_url, owner,
        json={"name": "Buy", "steps": [shop["goals"]["pricing"]["id"], signup["id"]]},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    funnel = made.json()
    assert funnel["windowMinutes"] == 30 and [s["name"] for s in funnel["steps"]] == [
        "Pricing",
        "Signup",
    ]

    viewer = await api.signup()
    await api.add_member(owner, viewer, "viewer")
    assert (await api.call("GET", goals_url, viewer)).status_code == 200
    assert (await api.call("GET", f"{funnels_url}/{funnel['id']}", viewer)).status_code == 200
    assert (await api.call("GET", goals_url, key=shop["key"])).status_code == 200
    for who in ({"as_": viewer}, {"key": shop["key"]}):
        new = {"name": "X", "kind": "event", "match": "x"}
        assert (await api.call("POST", goals_url, json=new, **who)).status_code in (401, 403)
        delete = await api.call("DELETE", f"{goals_url}/{signup['id']}", **who)
        assert delete.status_code in (401, 403)
        patch = await api.call("PATCH", f"{funnels_url}/{funnel['id']}", json={"name": "Y"}, **who)
        assert patch.status_code in (401, 403)

    stranger = await api.signup()
    theirs = await api.create_site(stranger, domain="theirs.example")
    for url in (goals_url, f"{goals_url}/{signup['id']}", f"{funnels_url}/{funnel['id']}"):
        assert (await api.call("GET", url, stranger)).status_code == 404
    # Their own site, our ids: the same 404 as ids that do not exist.
    their_goals = f"/api/orgs/{stranger.org_id}/sites/{theirs['id']}/goals"
    ours = await api.call("GET", f"{their_goals}/{signup['id']}", stranger)
    nothing = await api.call("GET", f"{their_goals}/00000000-0000-4000-8000-000000000000", stranger)
    assert ours.status_code == nothing.status_code == 404 and ours.json() == nothing.json()
    assert (await api.call("DELETE", f"{their_goals}/{signup['id']}", stranger)).status_code == 404
    report = f"/api/events/{site['id']}/funnels/{funnel['id']}"
    foreign_key = (await api.create_key(stranger))["key"]
    assert (await api.call("GET", report, key=foreign_key)).status_code == 404
    their_report = f"/api/events/{theirs['id']}/funnels/{funnel['id']}"
    assert (await api.call("GET", their_report, key=foreign_key)).status_code == 404

    in_use = await api.call("DELETE", f"{goals_url}/{signup['id']}", owner)
    assert in_use.status_code == 409 and in_use.json()["field"] == "goalId"
    assert (await api.call("DELETE", f"{funnels_url}/{funnel['id']}", owner)).status_code == 204
    assert (await api.call("DELETE", f"{goals_url}/{signup['id']}", owner)).status_code == 204


async def test_every_goal_route_answers_each_kind_of_caller(api: Api, shop: dict[str, Any]) -> None:
    """Readers (owner, viewer, API key) read every route; only the owner writes; another
    organisation gets 404 from every route, by session and by key, as for a missing id."""
    owner, site = shop["owner"], shop["site"]
    org = f"/api/orgs/{owner.org_id}/sites/{site['id']}"
    pricing, signup = shop["goals"]["pricing"]["id"], shop["goals"]["signup"]["id"]
    made = await api.call(
        "POST", f"{org}/funnels", owner, json={"name": "Matrix", "steps": [pricing, signup]}
    )
    assert made.status_code == 201, made.text
    funnel = made.json()["id"]
    viewer, stranger = await api.signup(), await api.signup()
    await api.add_member(owner, viewer, "viewer")
    stranger_key = (await api.create_key(stranger))["key"]
    reads = [
        f"{org}/goals",
        f"{org}/goals/{pricing}",
        f"{org}/funnels",
        f"{org}/funnels/{funnel}",
        f"/api/events/{site['id']}/goals?{RANGE}",
        f"/api/events/{site['id']}/funnels/{funnel}?{RANGE}",
    ]
    writes = [
        ("POST", f"{org}/goals", {"name": "New", "kind": "event", "match": "new"}),
        ("PATCH", f"{org}/goals/{pricing}", {"name": "Renamed"}),
        ("DELETE", f"{org}/goals/{pricing}", None),
        ("POST", f"{org}/funnels", {"name": "Other", "steps": [signup, pricing]}),
        ("PATCH", f"{org}/funnels/{funnel}", {"windowMinutes": None}),
        ("DELETE", f"{org}/funnels/{funnel}", None),
    ]
    for url in reads:
        for who in ({"as_": owner}, {"as_": viewer}, {"key": shop["key"]}):
            response = await api.call("GET", url, **who)  # type: ignore[arg-type]
            assert response.status_code == 200, (url, who, response.text)
        for who in ({"as_": stranger}, {"key": stranger_key}):
            response = await api.call("GET", url, **who)  # type: ignore[arg-type]
            assert response.status_code == 404, (url, response.text)
    for method, url, body in writes:
        for who in ({"as_": viewer}, {"key": shop["key"]}):
            denied = await api.call(method, url, json=body, **who)  # type: ignore[arg-type]
            assert denied.status_code in (401, 403), (method, url, denied.text)
        hidden = await api.call(method, url, stranger, json=body)
        assert hidden.status_code == 404, (method, url, hidden.text)
        # A key never writes: refused before its site is looked up, or not found.
        keyed = await api.call(method, url, key=stranger_key, json=body)
        assert keyed.status_code in (401, 403, 404), (method, url, keyed.text)
    # The owner's writes, in an order that leaves nothing in use.
    for method, url, body in [writes[0], writes[1], writes[3], writes[4], writes[5]]:
        done = await api.call(method, url, owner, json=body)
        assert done.status_code in (200, 201, 204), (method, url, done.text)
    others = await api.call("GET", f"{org}/funnels", owner)
    for other in others.json():
        await api.call("DELETE", f"{org}/funnels/{other['id']}", owner)
    assert (await api.call(*writes[2][:2], owner)).status_code == 204


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("goals", {"name": "G", "kind": "pageview", "match": "pricing"}, "match"),
        ("goals", {"name": "G", "kind": "pageview", "match": "/pricing/"}, "match"),
        ("goals", {"name": "G", "kind": "pageview", "match": "/p?x=1"}, "match"),
        ("goals", {"name": "G", "kind": "event", "match": ""}, "match"),
        ("goals", {"name": "G", "kind": "click", "match": "x"}, "kind"),
        ("goals", {"name": "", "kind": "event", "match": "x"}, "name"),
        ("goals", {"name": "Signup", "kind": "event", "match": "x"}, "name"),
        ("funnels", {"name": "F", "steps": ["@signup"]}, "steps"),
        ("funnels", {"name": "F", "steps": ["@signup"] * 9}, "steps"),
        ("funnels", {"name": "F", "steps": ["@signup", "not-a-goal"]}, "steps[1]"),
        ("funnels", {"name": "F", "steps": ["@signup", "@signup"]}, "steps[1]"),
        ("funnels", {"name": "F", "steps": ["@signup", "@pricing"], "windowMinutes": 0}, "windowMinutes"),
        ("funnels", {"name": "F", "steps": ["@signup", "@pricing"], "windowMinutes": 10_000}, "windowMinutes"),
    ],
)  # fmt: skip
async def test_bad_goals_and_funnels_are_400_naming_the_field(
    api: Api, shop: dict[str, Any], path: str, body: dict[str, Any], field: str
) -> None:
    owner, site = shop["owner"], shop["site"]
    body = dict(body)  # the parameters are shared by both dialects' runs
    if "steps" in body:
        body["steps"] = [
            shop["goals"][step[1:]]["id"] if step.startswith("@") else step
            for step in body["steps"]
        ]
    url = f"/api/orgs/{owner.org_id}/sites/{site['id']}/{path}"
    response = await api.call("POST", url, owner, json=body)
    assert response.status_code in (400, 409), response.text
    assert response.json()["field"] == field, response.text


async def test_conversions_in_the_reports(api: Api, shop: dict[str, Any]) -> None:
    site, key, rows = shop["site"], shop["key"], shop["rows"]
    purchase = spec(shop["goals"]["purchase"])
    base = f"/api/events/{site['id']}"
    query = q(date_from="2025-02-28", date_to="2025-03-30")
    expected = figures(
        conversion_rows(
            [msgspec.structs.replace(r, site_id="st_main") for r in rows],
            query,
            Target((purchase,)),
        ),
        Target((purchase,)),
    )
    overview = await api.call("GET", f"{base}/overview?{RANGE}&conversions={purchase.id}", key=key)
    assert overview.status_code == 200, overview.text
    found = overview.json()
    assert found["conversions"]["totalConversions"]["value"] == expected.total
    assert found["conversions"]["uniqueConversions"]["value"] == expected.unique
    assert found["conversions"]["revenue"]["value"] == pytest.approx(expected.revenue)
    assert found["money"] == {"currency": "EUR", "unconverted": ["XOF"]}
    assert CONVERSION.currency == "EUR"

    sources = (
        await api.call(
            "GET", f"{base}/sources?{RANGE}&conversions=all&sort=uniqueConversions", key=key
        )
    ).json()
    unique = [row["conversions"]["uniqueConversions"] for row in sources["sources"]]
    assert unique == sorted(unique, reverse=True) and unique[0] > 0

    goals = (await api.call("GET", f"{base}/goals?{RANGE}", key=key)).json()
    assert [g["name"] for g in goals["goals"]] == ["Pricing", "Pro", "Purchase", "Signup"]
    by_name = {g["name"]: g for g in goals["goals"]}
    assert by_name["Purchase"]["totalConversions"]["value"] == expected.total
    assert "revenue" not in by_name["Signup"]

    filtered = await api.call(
        "GET", f"{base}/overview?{RANGE}&goal={shop['goals']['signup']['id']}", key=key
    )
    assert filtered.status_code == 200, filtered.text
    assert 0 < filtered.json()["visitors"]["value"] < found["visitors"]["value"]

    funnels_url = f"/api/orgs/{shop['owner'].org_id}/sites/{site['id']}/funnels"
    steps = [shop["goals"]["pricing"]["id"], shop["goals"]["purchase"]["id"]]
    made = await api.call(
        "POST",
        funnels_url,
        shop["owner"],
        json={"name": "Buy", "steps": steps, "windowMinutes": None},
    )
    funnel = (
        await api.call(
            "GET", f"{base}/funnels/{made.json()['id']}?{RANGE}&breakdown=country", key=key
        )
    ).json()
    assert [s["name"] for s in funnel["steps"]] == ["Pricing", "Purchase"]
    assert funnel["steps"][0]["visitors"] >= funnel["steps"][1]["visitors"] > 0
    assert funnel["windowMinutes"] is None and funnel["breakdown"] == "country"
    # A visitor whose visits came from two countries enters the funnel in both segments.
    assert sum(s["visitors"][0] for s in funnel["segments"]) >= funnel["steps"][0]["visitors"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("conversions=not-a-goal", "conversions"),
        ("conversions=00000000-0000-4000-8000-000000000000", "conversions"),
        ("goal=nope", "goal"),
        ("sort=revenue", "sort"),
        ("sort=bounces", "sort"),
        ("conversions=@signup&sort=revenue", "sort"),
    ],
)
async def test_bad_conversion_parameters_are_400(
    api: Api, shop: dict[str, Any], query: str, field: str
) -> None:
    query = query.replace("@signup", shop["goals"]["signup"]["id"])
    response = await api.call(
        "GET", f"/api/events/{shop['site']['id']}/sources?{query}", key=shop["key"]
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


async def test_funnel_breakdown_must_be_known(api: Api, shop: dict[str, Any]) -> None:
    owner, site = shop["owner"], shop["site"]
    steps = [shop["goals"]["pricing"]["id"], shop["goals"]["signup"]["id"]]
    made = await api.call(
        "POST", f"/api/orgs/{owner.org_id}/sites/{site['id']}/funnels", owner,
        json={"name": "F", "steps": steps},
    )  # fmt: skip
    url = f"/api/events/{site['id']}/funnels/{made.json()['id']}?breakdown=planet"
    response = await api.call("GET", url, key=shop["key"])
    assert response.status_code == 400 and response.json()["field"] == "breakdown"


async def test_site_currency_is_checked(api: Api) -> None:
    owner = await api.signup()
    site = await api.create_site(owner)
    assert site["currency"] == "USD"
    response = await api.call(
        "PATCH", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner, json={"currency": "ZZZ"}
    )
    assert response.status_code == 400 and response.json()["field"] == "currency"


class RatesProvider(BaseHTTPRequestHandler):
    """Answers like openexchangerates.org's latest.json (base USD, rates per dollar)."""

    body = json.dumps({"base": "USD", "timestamp": 1, "rates": {"EUR": 0.5, "NGN": 1000.0}})

    def do_GET(self) -> None:
        data = self.body.encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None: ...


@contextlib.contextmanager
def provider() -> Iterator[str]:
    for port in serve(RatesProvider):
        yield f"http://127.0.0.1:{port}/latest.json"


async def test_rates_come_from_the_provider_url(tmp_path: Path, chdb_path: str) -> None:
    from traytic.query.rates import ExchangeRates, keep_exchange_rates

    with provider() as url:
        rates = ExchangeRates()
        settings = fast_settings(exchange_rates_url=url, exchange_rates_refresh_s=3600.0)
        async with keep_exchange_rates(settings, rates):
            assert rates.source == url
            assert rates.conversion("EUR").factors["NGN"] == pytest.approx(0.0005)
            assert rates.conversion("EUR").factors["USD"] == pytest.approx(0.5)
    broken = ExchangeRates()
    async with keep_exchange_rates(
        fast_settings(exchange_rates_url="http://127.0.0.1:9/x"), broken
    ):
        # An unreachable provider leaves the bundled sample in place.
        assert "sample" in broken.source and broken.rates["EUR"] > 0


async def test_openapi_documents_goals_and_funnels(api: Api) -> None:
    paths = (await api.call("GET", "/docs/openapi.json")).json()["paths"]
    assert {"get", "post"} <= set(paths["/api/orgs/{org_id}/sites/{site_id}/goals"])
    assert {"get", "patch", "delete"} <= set(
        paths["/api/orgs/{org_id}/sites/{site_id}/funnels/{funnel_id}"]
    )
    assert "get" in paths["/api/events/{site_id}/goals"]
    funnel = paths["/api/events/{site_id}/funnels/{funnel_id}"]["get"]
    assert "breakdown" in {p["name"] for p in funnel["parameters"]}
    overview = paths["/api/events/{site_id}/overview"]["get"]
    assert {"conversions", "sort", "goal"} <= {p["name"] for p in overview["parameters"]}
