"""Gateway fixtures: the app on a real NATS namespace, a registered site, and a reader that
pulls what landed in the stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from litestar.testing.transport import TestClientTransport
from nats.aio.client import Client as NatsClient
from nats.js.api import ConsumerConfig
from nats.js.kv import KeyValue

from traytic.core import bus
from traytic.core.events import IngestBatch, ReceivedBeacon, decode_batch
from traytic.core.sites import create_site
from traytic.gateway.app import create_app
from traytic.gateway.settings import GatewaySettings


class StreamReader:
    """Pulls every message of the namespace's EVENTS stream (acking it, as the consumer does)."""

    def __init__(self, nc: NatsClient, settings: bus.BusSettings) -> None:
        self._js = nc.jetstream()
        self._names = bus.names(settings.namespace)
        self._sub: object | None = None

    async def batches(
        self, *, expect: int | None = None, timeout: float = 1.0
    ) -> list[IngestBatch]:
        if self._sub is None:
            self._sub = await self._js.pull_subscribe(
                self._names.events_filter,
                durable="test-reader",
                stream=self._names.stream,
                config=ConsumerConfig(ack_wait=30),
            )
        found: list[IngestBatch] = []
        while expect is None or sum(len(b.beacons) for b in found) < expect:
            try:
                messages = await self._sub.fetch(100, timeout=timeout)  # type: ignore[attr-defined]
            except TimeoutError:
                break
            for message in messages:
                found.append(decode_batch(message.data))
                await message.ack()
        return found

    async def beacons(self, **kwargs: object) -> list[ReceivedBeacon]:
        return [b for batch in await self.batches(**kwargs) for b in batch.beacons]  # type: ignore[arg-type]

    async def pending(self) -> int:
        info = await self._js.stream_info(self._names.stream)
        return int(info.state.messages)


@pytest.fixture
def gateway_settings() -> GatewaySettings:
    return GatewaySettings(trusted_proxies=["10.0.0.0/8"], publish_timeout_s=2.0, metrics_port=0)


@pytest.fixture
async def site_id(nc: NatsClient, bus_settings: bus.BusSettings) -> str:
    kv = await bus.ensure_sites_bucket(nc.jetstream(), bus_settings)
    return (await create_site(kv, "example.com")).site_id


@pytest.fixture
async def client(
    gateway_settings: GatewaySettings, bus_settings: bus.BusSettings, site_id: str
) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    app = create_app(gateway_settings, bus_settings)
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.fixture
def gateway_with(
    gateway_settings: GatewaySettings, bus_settings: bus.BusSettings
) -> Callable[..., AsyncTestClient]:  # type: ignore[type-arg]
    """Another gateway on the test's namespace, with some settings changed."""

    def make(**changes: object) -> AsyncTestClient:  # type: ignore[type-arg]
        settings = msgspec.structs.replace(gateway_settings, **changes)
        return AsyncTestClient(create_app(settings, bus_settings))

    return make


@pytest.fixture
async def sites_kv(nc: NatsClient, bus_settings: bus.BusSettings) -> KeyValue:
    return await bus.ensure_sites_bucket(nc.jetstream(), bus_settings)


@pytest.fixture
def reader(nc: NatsClient, bus_settings: bus.BusSettings) -> StreamReader:
    return StreamReader(nc, bus_settings)


PEER = "x-test-peer"
"""A request header naming the socket peer the app should see (see `peers`)."""


@pytest.fixture(autouse=True)
def peers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Litestar's test transport says every request comes from "testclient"; let a test choose
    a real address per request with the `x-test-peer` header, as a server's socket would."""
    parse = TestClientTransport.parse_request

    def parse_request(self: TestClientTransport[Any], request: httpx.Request) -> dict[str, Any]:
        peer = request.headers.pop(PEER, None)
        scope = parse(self, request)
        if peer is not None:
            scope["client"] = (peer, 40000)
        return scope

    monkeypatch.setattr(TestClientTransport, "parse_request", parse_request)


def from_address(address: str, **headers: str) -> dict[str, str]:
    """Headers for a request whose socket peer is `address`."""
    return {PEER: address, **headers}


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
