"""`POST /collect` against a real NATS JetStream: what lands, and every way a body is refused."""

from __future__ import annotations

import json

import pytest
from litestar.testing import AsyncTestClient
from tests.gateway.conftest import StreamReader

from traytic.core.events import CustomEvent, ErrorEvent, Pageview, Vital


def beacon(site_id: str, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "siteId": site_id,
        "screen": 1440,
        "events": [
            {
                "type": "pageview",
                "url": "https://example.com/blog/hello",
                "referrer": "https://google.com/",
            },
            {
                "type": "event",
                "name": "signup",
                "url": "https://example.com/",
                "props": {"plan": "pro", "seats": 3},
            },
            {
                "type": "vital",
                "name": "LCP",
                "value": 1830.5,
                "url": "https://example.com/blog/hello",
            },
            {
                "type": "error",
                "message": "TypeError: x is undefined",
                "url": "https://example.com/",
            },
        ],
    }
    body.update(extra)
    return body


UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain;charset=UTF-8", None])
async def test_valid_beacon_lands_in_stream_with_server_facts(
    client: AsyncTestClient,
    reader: StreamReader,
    site_id: str,
    content_type: str | None,  # type: ignore[type-arg]
) -> None:
    headers = {"user-agent": UA, "accept-language": "en-GB,en;q=0.9"}
    if content_type:
        headers["content-type"] = content_type
    response = await client.post("/collect", content=json.dumps(beacon(site_id)), headers=headers)
    assert response.status_code == 204, response.text
    assert response.headers["access-control-allow-origin"] == "*"

    [received] = await reader.beacons(expect=1)
    assert received.site_id == site_id
    assert received.user_agent == UA
    assert received.accept_language == "en-GB,en;q=0.9"
    assert received.screen == 1440
    assert received.received_at > 1_700_000_000
    pageview, event, vital, error = received.events
    assert isinstance(error, ErrorEvent) and error.message.startswith("TypeError")
    assert isinstance(pageview, Pageview) and pageview.referrer == "https://google.com/"
    assert isinstance(event, CustomEvent) and event.props == {"plan": "pro", "seats": 3}
    assert isinstance(vital, Vital) and vital.value == 1830.5


async def test_cors_preflight_is_cached(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.options(
        "/collect",
        headers={"origin": "https://example.com", "access-control-request-method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert int(response.headers["access-control-max-age"]) >= 600


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "$"),
        (b"[]", "$"),
        (b'{"events": [{"type": "pageview", "url": "https://x.com/"}]}', "$.siteId"),
        (b'{"siteId": 42, "events": [{"type": "pageview", "url": "u"}]}', "$.siteId"),
        (b'{"siteId": "st_x", "events": []}', "$.events"),
        (b'{"siteId": "st_x", "events": [{"type": "click", "url": "u"}]}', "$.events[0].type"),
        (b'{"siteId": "st_x", "events": [{"type": "pageview"}]}', "$.events[0].url"),
        (
            b'{"siteId": "st_x", "events": [{"type": "vital", "name": "FID", "value": 1, "url": "u"}]}',
            "$.events[0].name",
        ),
        (
            b'{"siteId": "st_x", "events": [{"type": "vital", "name": "LCP", "value": -1, "url": "u"}]}',
            "$.events[0].value",
        ),
        (
            b'{"siteId": "st_x", "events": [{"type": "event", "name": "a", "url": "u", "props": {"a": {"b": 1}}}]}',
            "$.events[0].props[...]",
        ),
        (
            b'{"siteId": "st_x", "screen": "wide", "events": [{"type": "pageview", "url": "u"}]}',
            "$.screen",
        ),
    ],
)
async def test_invalid_body_is_400_naming_the_field(
    client: AsyncTestClient,
    reader: StreamReader,
    body: bytes,
    field: str,  # type: ignore[type-arg]
) -> None:
    response = await client.post(
        "/collect", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "invalid_input"
    assert error["field"] == field
    assert error["message"]
    assert await reader.pending() == 0


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["events"].extend([{"type": "pageview", "url": "u"}] * 60), "$.events"),
        (lambda b: b["events"][0].update(url="https://x.com/" + "a" * 3000), "$.events[0].url"),
        (
            lambda b: b["events"][0].update(referrer="https://r.com/" + "a" * 3000),
            "$.events[0].referrer",
        ),
        (
            lambda b: b["events"][1].update(props={f"k{i}": i for i in range(40)}),
            "$.events[1].props",
        ),
        (lambda b: b["events"][1].update(props={"k": "v" * 600}), "$.events[1].props.k"),
        (lambda b: b["events"][1].update(name="n" * 200), "$.events[1].name"),
    ],
)
async def test_limits_are_400(
    client: AsyncTestClient,
    site_id: str,
    mutate: object,
    field: str,  # type: ignore[type-arg]
) -> None:
    body = beacon(site_id)
    mutate(body)  # type: ignore[operator]
    response = await client.post("/collect", content=json.dumps(body))
    assert response.status_code == 400
    assert response.json()["field"] == field


async def test_body_over_limit_is_413(client: AsyncTestClient, site_id: str) -> None:  # type: ignore[type-arg]
    body = beacon(site_id, padding="x" * 70_000)
    response = await client.post("/collect", content=json.dumps(body))
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png"],
)
async def test_other_content_types_are_415(
    client: AsyncTestClient,
    site_id: str,
    content_type: str,  # type: ignore[type-arg]
) -> None:
    response = await client.post(
        "/collect", content=json.dumps(beacon(site_id)), headers={"content-type": content_type}
    )
    assert response.status_code == 415
    assert response.json()["field"] == "content-type"


async def test_get_is_405(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/collect")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


async def test_unknown_site_is_dropped_with_204(
    client: AsyncTestClient, reader: StreamReader
) -> None:  # type: ignore[type-arg]
    response = await client.post("/collect", content=json.dumps(beacon("st_doesnotexist")))
    assert response.status_code == 204
    assert await reader.pending() == 0
    gateway = client.app.state.gateway
    assert gateway.metrics.rejected_by_reason["unknown_site"] == 1
    assert gateway.metrics.events_unknown_site == 4


async def test_many_beacons_each_land_once(
    client: AsyncTestClient,
    reader: StreamReader,
    site_id: str,  # type: ignore[type-arg]
) -> None:
    import asyncio

    bodies = [
        json.dumps(
            {
                "siteId": site_id,
                "events": [
                    {"type": "event", "name": "n", "url": "https://example.com/", "props": {"i": i}}
                ],
            }
        )
        for i in range(200)
    ]
    responses = await asyncio.gather(*(client.post("/collect", content=b) for b in bodies))
    assert {r.status_code for r in responses} == {204}
    batches = await reader.batches(expect=200)
    seen = sorted(b.events[0].props["i"] for batch in batches for b in batch.beacons)  # type: ignore[union-attr]
    assert seen == list(range(200))
    assert len({batch.batch_id for batch in batches}) == len(batches)


async def test_health_and_readiness(client: AsyncTestClient, site_id: str) -> None:  # type: ignore[type-arg]
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["sites"] >= 1


async def test_site_registered_later_is_accepted(
    client: AsyncTestClient,
    reader: StreamReader,
    nc,
    bus_settings,  # type: ignore[no-untyped-def]
) -> None:
    import asyncio

    from traytic.core import bus
    from traytic.core.sites import create_site

    kv = await bus.ensure_sites_bucket(nc.jetstream(), bus_settings)
    site = await create_site(kv, "late.example", allowed_hostnames=["example.com"])
    registry = client.app.state.gateway.registry
    for _ in range(100):
        if site.site_id in registry:
            break
        await asyncio.sleep(0.02)
    response = await client.post("/collect", content=json.dumps(beacon(site.site_id)))
    assert response.status_code == 204
    assert [b.site_id for b in await reader.beacons(expect=1)] == [site.site_id]
