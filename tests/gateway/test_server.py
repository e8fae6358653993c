"""The gateway as it runs in production: `traytic gateway` under Granian, over real HTTP.

It gets a NATS server of its own, so these tests can stop and restart NATS: beacons are refused
with 503 while it is down, accepted again once it is back, and every beacon answered 204 is in
the stream exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from tests.gateway.conftest import StreamReader

from traytic.core import bus
from traytic.core.embedded_nats import EmbeddedNats, free_port
from traytic.core.sites import create_site

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def own_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path_factory.mktemp("gateway-nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server_bus(own_nats: EmbeddedNats) -> bus.BusSettings:
    return bus.BusSettings(nats_url=own_nats.url, namespace="gw")


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def gateway_url(
    server_bus: bus.BusSettings, tmp_path_factory: pytest.TempPathFactory, metrics_port: int
) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "TRAYTIC_NATS_URL": server_bus.nats_url,
        "TRAYTIC_NAMESPACE": server_bus.namespace,
        "TRAYTIC_PORT": str(port),
        "TRAYTIC_METRICS_PORT": str(metrics_port),
        "TRAYTIC_TRUSTED_PROXIES": "127.0.0.1/32",
        "TRAYTIC_PUBLISH_TIMEOUT_S": "1",
        "TRAYTIC_LOG_FORMAT": "json",
    }
    log_path = Path(tmp_path_factory.mktemp("gateway")) / "gateway.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "traytic.cli.main", "gateway"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded CI machine starts Granian slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, log_path.read_text()
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("gateway did not become ready: " + log_path.read_text())
    yield url
    process.terminate()
    process.wait(timeout=15)
    assert "Traceback" not in log_path.read_text()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http(gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server_nc(own_nats: EmbeddedNats, server_bus: bus.BusSettings):  # type: ignore[no-untyped-def]
    client = await bus.connect(server_bus, name="tests")
    yield client
    await client.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server_site(server_nc, server_bus: bus.BusSettings, http: httpx.AsyncClient) -> str:  # type: ignore[no-untyped-def]
    kv = await bus.ensure_sites_bucket(server_nc.jetstream(), server_bus)
    site_id = (await create_site(kv, "example.org")).site_id
    for _ in range(100):  # the gateway's watch picks it up
        probe = await http.post("/collect", content=_beacon(site_id, "probe"))
        if probe.status_code == 204 and await _landed(server_nc, server_bus):
            return site_id
        await asyncio.sleep(0.05)
    pytest.fail("site never registered")


async def _landed(nc, settings: bus.BusSettings) -> bool:  # type: ignore[no-untyped-def]
    info = await nc.jetstream().stream_info(bus.names(settings.namespace).stream)
    return bool(info.state.messages)


def _beacon(site_id: str, name: str) -> bytes:
    return json.dumps(
        {
            "siteId": site_id,
            "events": [{"type": "event", "name": name, "url": "https://example.org/"}],
        }
    ).encode()


@pytest.fixture(scope="module")
def server_reader(server_nc, server_bus: bus.BusSettings) -> StreamReader:  # type: ignore[no-untyped-def]
    return StreamReader(server_nc, server_bus)


async def _names_in_stream(reader: StreamReader) -> list[str]:
    return [b.events[0].name for b in await reader.beacons(timeout=0.5)]  # type: ignore[union-attr]


async def test_chunked_body_over_limit_is_413_before_the_body_ends(
    gateway_url: str, server_site: str
) -> None:
    """No Content-Length: the gateway counts while reading and answers 413 once past the limit,
    without waiting for (or reading) the rest. A raw socket, because an HTTP client that is still
    sending when the server closes may see a reset instead of the answer."""
    host, port = gateway_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /collect HTTP/1.1\r\nHost: gateway\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 1024
    for _ in range(70):  # 70 KiB, over the 64 KiB limit; the final 0-chunk is never sent
        writer.write(b"400\r\n" + chunk + b"\r\n")
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    writer.close()
    assert status_line.split()[1] == b"413"


@pytest.mark.parametrize(
    ("forwarded_for", "expected"),
    [
        (None, "127.0.0.1"),
        ("203.0.113.7", "203.0.113.7"),
        ("198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the rightmost hop not ours is the client
        ("203.0.113.7, 127.0.0.1", "203.0.113.7"),  # our own proxies are skipped
        ("not-an-ip", "127.0.0.1"),
    ],
)
async def test_forwarded_for_is_believed_from_trusted_proxy(
    http: httpx.AsyncClient,
    server_site: str,
    server_reader: StreamReader,
    forwarded_for: str | None,
    expected: str,
) -> None:
    await server_reader.beacons(timeout=0.2)  # start from an empty stream
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    response = await http.post("/collect", content=_beacon(server_site, "ip"), headers=headers)
    assert response.status_code == 204
    [received] = await server_reader.beacons(expect=1)
    assert received.ip == expected


@pytest.mark.parametrize("path", ["/script.js", "/script.vitals.js", "/script.extras.js"])
async def test_script_js_is_cacheable_or_explains_itself(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await http.get(path)
    if response.status_code == 404:
        assert "make" in response.json()["message"]
        return
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert "max-age" in response.headers["cache-control"]
    again = await http.get(path, headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
    head = await http.head(path)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(response.content)
    assert head.headers["etag"] == response.headers["etag"]


async def test_nats_down_gives_503_then_recovers_losing_nothing_answered_204(
    http: httpx.AsyncClient, own_nats: EmbeddedNats, server_site: str, server_reader: StreamReader
) -> None:
    await server_reader.beacons(timeout=0.2)
    accepted: list[str] = []

    async def send(name: str) -> int:
        response = await http.post("/collect", content=_beacon(server_site, name))
        if response.status_code == 204:
            accepted.append(name)
        else:
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) > 0
            assert response.json()["error"] == "service_unavailable"
        return response.status_code

    for i in range(20):
        assert await send(f"before-{i}") == 204
    own_nats.stop()
    during = [await send(f"during-{i}") for i in range(10)]
    assert 503 in during
    own_nats.start()

    deadline = time.monotonic() + 20
    while await send("after-probe") != 204:
        assert time.monotonic() < deadline, "gateway did not recover after NATS came back"
        await asyncio.sleep(0.2)
    for i in range(20):
        assert await send(f"after-{i}") == 204

    ready = await http.get("/readyz")
    assert ready.status_code == 200

    await asyncio.sleep(1.0)  # the reader's connection reconnects too
    landed = await _names_in_stream(server_reader)
    assert sorted(landed) == sorted(accepted)  # all answered 204, none twice
    assert len(set(landed)) == len(set(accepted)) - (accepted.count("after-probe") - 1)


async def test_concurrent_requests_share_messages_and_each_lands_once(
    gateway_url: str, server_site: str, server_reader: StreamReader
) -> None:
    await server_reader.beacons(timeout=0.2)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=gateway_url, limits=limits, timeout=10) as client:
        responses = await asyncio.gather(
            *(client.post("/collect", content=_beacon(server_site, f"c{i}")) for i in range(300))
        )
    assert {r.status_code for r in responses} == {204}
    batches = await server_reader.batches(expect=300)
    names = [b.events[0].name for batch in batches for b in batch.beacons]  # type: ignore[union-attr]
    assert sorted(names) == sorted(f"c{i}" for i in range(300))
    assert len(batches) < 300  # concurrent requests were coalesced into shared messages


async def test_metrics_answer_on_their_own_port_only(
    http: httpx.AsyncClient, server_site: str, metrics_port: int
) -> None:
    assert (await http.get("/metrics")).status_code == 404
    async with httpx.AsyncClient() as scraper:
        response = await scraper.get(f"http://127.0.0.1:{metrics_port}/metrics")
    assert response.status_code == 200
    assert "traytic_gateway_beacons_accepted_total" in response.text
