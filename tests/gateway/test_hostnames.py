"""Anyone can copy a site id from a page's snippet: the gateway keeps only events whose page is
on the site's domain (or subdomains) or one of its allowed hostnames, and local development
hosts only when the site opted in. Others are dropped with 204 and counted `foreign_hostname`.
Rules come from the `sites` bucket, so a change applies without a restart."""

from __future__ import annotations

import json

from litestar.testing import AsyncTestClient
from nats.js.kv import KeyValue
from tests.gateway.conftest import StreamReader, until

from traytic.core.sites import SITE_DECODER, SiteRecord, put_site
from traytic.gateway.site_policy import SitePolicy


async def registered(
    client: AsyncTestClient,  # type: ignore[type-arg]
    kv: KeyValue,
    site_id: str,
    value: bytes,
) -> SitePolicy:
    """Put a raw record in the bucket and wait for the gateway to know it."""
    await kv.put(site_id, value)
    registry = client.app.state.gateway.registry
    await until(lambda: site_id in registry)
    policy: SitePolicy = registry.get(site_id)
    return policy


def on(site_id: str, *urls: str) -> bytes:
    events = [{"type": "pageview", "url": url} for url in urls]
    return json.dumps({"siteId": site_id, "events": events}).encode()


async def test_a_page_on_another_host_is_dropped_and_counted(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
) -> None:
    for url in ("https://copycat.test/", "https://example.com.evil.test/", "/no-host"):
        response = await client.post("/collect", content=on(site_id, url, url))
        assert response.status_code == 204
    assert await reader.beacons(timeout=0.3) == []
    stats = client.app.state.gateway.metrics
    assert stats.rejected_by_reason["foreign_hostname"] == 3
    assert stats.events_dropped["foreign_hostname"] == 6
    assert stats.beacons_accepted == 0


async def test_own_domain_and_subdomains_land_and_foreign_events_are_cut_out(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
) -> None:
    body = on(
        site_id,
        "https://example.com/a",
        "https://copycat.test/b",
        "https://www.example.com/c",
        "https://shop.example.com:8443/d?x=1",
    )
    assert (await client.post("/collect", content=body)).status_code == 204
    [landed] = await reader.beacons(expect=1)
    assert [event.url for event in landed.events] == [
        "https://example.com/a",
        "https://www.example.com/c",
        "https://shop.example.com:8443/d?x=1",
    ]
    stats = client.app.state.gateway.metrics
    assert stats.events_dropped["foreign_hostname"] == 1
    assert stats.rejected_by_reason["foreign_hostname"] == 0  # the beacon itself was kept
    assert stats.events_accepted == 3


async def test_allowed_hostnames_and_localhost_opt_in_apply_as_the_record_changes(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    sites_kv: KeyValue,
    site_id: str,
) -> None:
    kv = sites_kv
    record = SITE_DECODER.decode((await kv.get(site_id)).value or b"")
    registry = client.app.state.gateway.registry
    local = on(site_id, "http://localhost:3000/", "http://127.0.0.1:5173/", "http://[::1]/")
    mirror = on(site_id, "https://mirror.example.net/", "https://pr-7.preview.test/")

    assert (await client.post("/collect", content=local)).status_code == 204
    assert (await client.post("/collect", content=mirror)).status_code == 204
    assert await reader.beacons(timeout=0.3) == []

    changed = SiteRecord(
        site_id=site_id,
        domain=record.domain,
        created_at=record.created_at,
        allowed_hostnames=["mirror.example.net", "*.preview.test"],
        allow_localhost=True,
    )
    await put_site(kv, changed)
    await until(lambda: registry.get(site_id).allow_localhost)
    assert (await client.post("/collect", content=local)).status_code == 204
    assert (await client.post("/collect", content=mirror)).status_code == 204
    landed = await reader.beacons(expect=2)
    assert sorted(len(beacon.events) for beacon in landed) == [2, 3]


async def test_records_written_before_the_rules_existed_still_decode(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    sites_kv: KeyValue,
) -> None:
    # The shape an older query service wrote: no allow_localhost, no filter_datacenter.
    old = {"site_id": "st_oldrecord", "domain": "old.example", "created_at": 1.0}
    policy = await registered(client, sites_kv, "st_oldrecord", json.dumps(old).encode())
    assert not policy.allow_localhost and policy.filter_datacenter

    body = on("st_oldrecord", "https://old.example/", "http://localhost/", "https://x.test/")
    assert (await client.post("/collect", content=body)).status_code == 204
    [landed] = await reader.beacons(expect=1)
    assert [event.url for event in landed.events] == ["https://old.example/"]


async def test_an_unreadable_record_keeps_its_site_accepting(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    sites_kv: KeyValue,
) -> None:
    await registered(client, sites_kv, "st_unreadable", b'{"site_id": 7}')
    body = on("st_unreadable", "https://anywhere.test/")
    assert (await client.post("/collect", content=body)).status_code == 204
    assert len(await reader.beacons(expect=1)) == 1
