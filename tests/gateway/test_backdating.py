"""Only an in-process host can stamp a beacon with another time (`traytic demo` does); nothing a
client sends to the public `/collect` moves `received_at` away from the server's clock."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from tests.gateway.conftest import StreamReader

from traytic.cli.demo.send import DemoSender
from traytic.cli.demo.traffic import SampleBeacon
from traytic.core import bus
from traytic.gateway.settings import GatewaySettings

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
A_MONTH_AGO = time.time() - 30 * 86_400
TIME_FIELDS = ("ts", "at", "time", "timestamp", "receivedAt", "received_at", "date")
TIME_HEADERS = ("date", "x-received-at", "x-timestamp", "last-modified", "if-modified-since")


def _beacon(site_id: str, moment: object) -> dict[str, object]:
    """A beacon whose body names `moment` under every time-like key, top-level and per event."""
    event: dict[str, object] = {"type": "pageview", "url": "https://example.com/old"}
    body: dict[str, object] = {"siteId": site_id, "events": [event]}
    for key in TIME_FIELDS:
        body[key] = moment
        event[key] = moment
    return body


async def test_a_client_cannot_backdate_through_collect(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
) -> None:
    headers = {"content-type": "text/plain", "user-agent": UA}
    headers |= dict.fromkeys(TIME_HEADERS, "Tue, 01 Oct 2024 10:00:00 GMT")
    before = time.time()
    for moment in (A_MONTH_AGO, "2024-10-01T10:00:00Z", int(A_MONTH_AGO * 1000)):
        response = await client.post(
            "/collect", content=json.dumps(_beacon(site_id, moment)), headers=headers
        )
        assert response.status_code == 204, response.text  # unknown fields are ignored
    received = await reader.beacons(expect=3)
    after = time.time()
    assert len(received) == 3
    assert all(before <= beacon.received_at <= after for beacon in received)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moment=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False), st.integers(), st.text(max_size=40)
    )
)
async def test_no_time_field_value_backdates(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
    moment: object,
) -> None:
    before = time.time()
    response = await client.post(
        "/collect",
        content=json.dumps(_beacon(site_id, moment)),
        headers={"content-type": "text/plain", "user-agent": UA},
    )
    assert response.status_code == 204, response.text
    [received] = await reader.beacons(expect=1)
    assert before <= received.received_at <= time.time()


@pytest.fixture
def demo_gateway_settings() -> GatewaySettings:
    # The public gateway trusts no proxy: the demo's own gateway trusts 127.0.0.1 alone.
    return GatewaySettings(publish_timeout_s=2.0)


async def test_the_demos_in_process_gateway_stamps_its_sample_time(
    demo_gateway_settings: GatewaySettings,
    bus_settings: bus.BusSettings,
    reader: StreamReader,
    site_id: str,
) -> None:
    sender = DemoSender(demo_gateway_settings, bus_settings, concurrency=4)
    sample = SampleBeacon(
        at=A_MONTH_AGO,
        ip="81.2.69.142",
        user_agent=UA,
        language="en-GB,en;q=0.9",
        body={
            "siteId": site_id,
            "screen": 390,
            "events": [{"type": "pageview", "url": "https://example.com/"}],
        },
    )
    async with sender.connected():
        await sender.post(sample)
    [received] = await reader.beacons(expect=1)
    assert received.received_at == A_MONTH_AGO
    assert (received.ip, received.user_agent, received.accept_language) == (
        "81.2.69.142",
        UA,
        "en-GB,en;q=0.9",
    )
    assert received.screen == 390
