"""Sites over HTTP and the JetStream KV `sites` registry kept in step with them."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from nats.js.errors import NoKeysError
from nats.js.kv import KeyValue

from tests.query.conftest import Api, fast_settings
from traytic.core import bus
from traytic.core.embedded_nats import EmbeddedNats
from traytic.core.sites import SiteRecord, get_site, put_site
from traytic.db import DbSettings
from traytic.query.app import Query, create_app


async def test_site_crud(api: Api) -> None:
    owner = await api.signup()
    base = f"/api/orgs/{owner.org_id}/sites"
    created = await api.call(
        "POST",
        base,
        owner,
        json={
            "domain": "Blog.Example.COM",
            "timeZone": "Africa/Lagos",
            "allowedHostnames": ["*.example.com"],
        },
    )
    assert created.status_code == 201, created.text
    site = created.json()
    assert site["id"].startswith("st_")
    assert site["domain"] == site["name"] == "blog.example.com"
    assert site["timeZone"] == "Africa/Lagos" and site["public"] is False

    patched = await api.call(
        "PATCH", f"{base}/{site['id']}", owner, json={"name": "Blog", "public": True}
    )
    assert patched.json() == {**site, "name": "Blog", "public": True}
    assert (await api.call("GET", base, owner)).json() == [patched.json()]
    bad = await api.call("PATCH", f"{base}/{site['id']}", owner, json={"timeZone": "Mars/Base"})
    assert bad.status_code == 400 and bad.json()["field"] == "timeZone"

    assert (await api.call("DELETE", f"{base}/{site['id']}", owner)).status_code == 204
    assert (await api.call("GET", f"{base}/{site['id']}", owner)).status_code == 404
    assert (await api.call("GET", base, owner)).json() == []
    assert (await api.call("DELETE", f"{base}/{site['id']}", owner)).status_code == 404


async def test_registry_follows_create_update_delete(api: Api, kv: KeyValue) -> None:
    owner = await api.signup()
    site = await api.create_site(owner, "shop.example.com")
    record = await get_site(kv, site["id"])
    assert record is not None and record.domain == "shop.example.com"

    await api.call(
        "PATCH",
        f"/api/orgs/{owner.org_id}/sites/{site['id']}",
        owner,
        json={"domain": "store.example.com", "allowedHostnames": ["www.example.com"]},
    )
    record = await get_site(kv, site["id"])
    assert record is not None
    assert (record.domain, record.allowed_hostnames) == ("store.example.com", ["www.example.com"])

    await api.call("DELETE", f"/api/orgs/{owner.org_id}/sites/{site['id']}", owner)
    assert await get_site(kv, site["id"]) is None


async def test_ingest_rules_are_edited_and_mirrored_to_the_gateway(api: Api, kv: KeyValue) -> None:
    owner = await api.signup()
    site = await api.create_site(owner, "shop.example.com")
    assert (site["allowLocalhost"], site["filterDatacenter"]) == (False, True)
    url = f"/api/orgs/{owner.org_id}/sites/{site['id']}"
    changed = await api.call(
        "PATCH",
        url,
        owner,
        json={
            "allowedHostnames": ["shop.example.net", "*.preview.example.org"],
            "allowLocalhost": True,
            "filterDatacenter": False,
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["allowedHostnames"] == ["shop.example.net", "*.preview.example.org"]
    assert (body["allowLocalhost"], body["filterDatacenter"]) == (True, False)
    record = await get_site(kv, site["id"])
    assert record is not None
    assert record.allowed_hostnames == ["shop.example.net", "*.preview.example.org"]
    assert (record.allow_localhost, record.filter_datacenter) == (True, False)


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        (
            {"allowedHostnames": ["ok.example", "https://x.example/"]},
            "allowedHostnames[1]",
            "scheme",
        ),
        ({"allowedHostnames": ["*.com"]}, "allowedHostnames[0]", "every site"),
        # Wrong types are refused by the framework's decoder, which names the field.
        ({"allowedHostnames": "x.example"}, "allowedHostnames", ""),
        ({"allowLocalhost": "yes"}, "allowLocalhost", ""),
        ({"filterDatacenter": None}, "filterDatacenter", ""),
    ],
)
async def test_bad_ingest_rules_are_400_naming_the_field(
    api: Api, kv: KeyValue, changes: dict[str, object], field: str, says: str
) -> None:
    owner = await api.signup()
    site = await api.create_site(owner, "shop.example.com")
    url = f"/api/orgs/{owner.org_id}/sites/{site['id']}"
    response = await api.call("PATCH", url, owner, json=changes)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["field"].replace("$.", "") == field, error
    assert says in error["message"], error
    record = await get_site(kv, site["id"])
    assert record is not None and record.allowed_hostnames == []


async def test_failed_request_writes_nothing_to_the_registry(api: Api, kv: KeyValue) -> None:
    owner = await api.signup()
    bad = await api.call(
        "POST", f"/api/orgs/{owner.org_id}/sites", owner, json={"domain": "not a domain"}
    )
    assert bad.status_code == 400 and bad.json()["field"] == "domain"
    with pytest.raises(NoKeysError):
        await kv.keys()


async def test_restart_rebuilds_the_registry(
    db_settings: DbSettings, bus_settings: bus.BusSettings, kv: KeyValue, clean_database: None
) -> None:
    app = create_app(fast_settings(), db_settings, bus_settings)
    async with AsyncTestClient(app) as client:
        api = Api(client, capsys=None)  # type: ignore[arg-type]
        owner = await api.signup()
        kept = await api.create_site(owner, "kept.example.com")
        lost = await api.create_site(owner, "lost.example.com")
    # While the service is down the bucket drifts: a key goes missing, a stray one appears.
    await kv.delete(lost["id"])
    await put_site(kv, SiteRecord(site_id="st_stray", domain="stray.example.com", created_at=0))

    app = create_app(fast_settings(), db_settings, bus_settings)
    async with AsyncTestClient(app):
        # The rebuild runs at start; if NATS is slow to answer then (a loaded CI machine), the
        # background resync finishes it: wait for either, the bucket must end up right.
        expected = {kept["id"], lost["id"]}
        for _ in range(100):
            if set(await kv.keys()) == expected:
                break
            await asyncio.sleep(0.1)
        assert set(await kv.keys()) == expected
        restored = await get_site(kv, lost["id"])
        assert restored is not None and restored.domain == "lost.example.com"


async def test_migrates_a_new_sqlite_database_at_start(
    tmp_path: pytest.TempPathFactory, bus_settings: bus.BusSettings
) -> None:
    db_settings = DbSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    app = create_app(fast_settings(migrate_on_start=True), db_settings, bus_settings)
    async with AsyncTestClient(app) as client:
        assert (await Api(client, capsys=None).signup()).org_id  # type: ignore[arg-type]


async def test_kv_write_failure_is_retried_until_nats_is_back(
    db_settings: DbSettings, clean_database: None, tmp_path: pytest.TempPathFactory
) -> None:
    """NATS down at request time: the site is committed, the write is retried in the background."""
    server = EmbeddedNats(tmp_path / "nats")  # type: ignore[operator]
    server.start()
    settings = bus.BusSettings(nats_url=server.url, namespace="outage")
    try:
        app = create_app(fast_settings(registry_timeout_s=0.5), db_settings, settings)
        async with AsyncTestClient(app) as client:
            api = Api(client, capsys=None)  # type: ignore[arg-type]
            owner = await api.signup()
            query: Query = app.state.query
            await asyncio.to_thread(server.stop)

            site = await api.create_site(owner, "during-outage.example.com")
            listed = await api.call("GET", f"/api/orgs/{owner.org_id}/sites", owner)
            assert [s["id"] for s in listed.json()] == [site["id"]]  # the database has it
            assert query.registry.resync_pending

            await asyncio.to_thread(server.start)
            # The app runs on the test client's own loop: watch the flag rather than the task.
            for _ in range(400):
                if not query.registry.resync_pending:
                    break
                await asyncio.sleep(0.05)
            assert not query.registry.resync_pending
            nc = await bus.connect(settings, name="tests")
            try:
                kv = await bus.ensure_sites_bucket(nc.jetstream(), settings)
                record = await get_site(kv, site["id"])
            finally:
                await nc.close()
            assert record is not None and record.domain == "during-outage.example.com"
    finally:
        server.stop()


_fast = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_text = st.one_of(st.text(max_size=300), st.integers(), st.none(), st.lists(st.text(), max_size=3))


@_fast
@given(email=_text, password=_text, name=_text)
async def test_signup_input_is_validated(
    api: Api, email: object, password: object, name: object
) -> None:
    response = await api.call(
        "POST", "/api/auth/signup", json={"email": email, "password": password, "name": name}
    )
    assert response.status_code in (202, 400), response.text
    if response.status_code == 400:
        assert response.json()["field"] in ("email", "password", "name"), response.text


@_fast
@given(
    domain=st.one_of(
        st.text(max_size=300), st.from_regex(r"[a-z]{1,10}\.[a-z]{2,5}", fullmatch=True)
    ),
    name=_text,
    time_zone=st.one_of(st.sampled_from(["UTC", "Europe/Paris", "Nowhere/City"]), _text),
    public=st.one_of(st.booleans(), _text),
    hosts=st.one_of(st.lists(st.text(max_size=30), max_size=4), _text),
)
async def test_site_input_is_validated(
    api: Api, domain: str, name: object, time_zone: object, public: object, hosts: object
) -> None:
    owner = getattr(api, "_owner", None) or await api.signup()
    api._owner = owner  # type: ignore[attr-defined]
    response = await api.call(
        "POST",
        f"/api/orgs/{owner.org_id}/sites",
        owner,
        json={
            "domain": domain,
            "name": name,
            "timeZone": time_zone,
            "public": public,
            "allowedHostnames": hosts,
        },
    )
    assert response.status_code in (201, 400), response.text
    if response.status_code == 400:
        field = response.json()["field"].split("[")[0]
        assert field in ("domain", "name", "timeZone", "public", "allowedHostnames"), response.text
