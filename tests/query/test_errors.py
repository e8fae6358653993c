"""Errors leak nothing internal: when the warehouse rejects a statement (its database is gone)
or cannot be reached, the body says what kind of failure it was and carries a request id; the
engine's words, the SQL, the database name and the server's URL go to the log only, under the
same id. On both engines."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.query.conftest import Api
from traytic.core.bus import BusSettings
from traytic.core.logging import configure_logging
from traytic.db import DbSettings
from traytic.http.errors import EXCEPTION_HANDLERS
from traytic.query.app import Query
from traytic.query.settings import QuerySettings
from traytic.warehouse import WarehouseSettings


@dataclass
class ServiceParts:
    query: QuerySettings
    db: DbSettings
    bus: BusSettings
    capsys: pytest.CaptureFixture[str]


@pytest.fixture
def parts(
    query_settings: QuerySettings,
    db_settings: DbSettings,
    bus_settings: BusSettings,
    clean_database: None,
    capsys: pytest.CaptureFixture[str],
) -> ServiceParts:
    return ServiceParts(query_settings, db_settings, bus_settings, capsys)


@contextlib.asynccontextmanager
async def query_over(warehouse: WarehouseSettings, ctx: ServiceParts) -> AsyncIterator[Api]:
    """The query service opening its own warehouse from `warehouse` (in the app's event loop,
    where its clients must live)."""
    configure_logging("info", "json")
    query = Query(ctx.query, ctx.db, ctx.bus, warehouse)
    app = Litestar(
        route_handlers=query.route_handlers,
        lifespan=[query.lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    async with AsyncTestClient(app) as client:
        yield Api(client, ctx.capsys)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _logged(out: str, request_id: str) -> list[dict[str, Any]]:
    lines = []
    for line in out.splitlines():
        if request_id in line and line.startswith("{"):
            lines.append(json.loads(line))
    return lines


async def _failing_overview(api: Api) -> tuple[Any, str]:
    owner = await api.signup()
    site = await api.create_site(owner)
    api.capsys.readouterr()
    response = await api.call("GET", f"/api/events/{site['id']}/overview?period=7d", owner)
    return response, api.capsys.readouterr().err


async def test_a_rejected_statement_is_a_bare_500_with_a_request_id(
    warehouse_settings: WarehouseSettings, parts: ServiceParts
) -> None:
    """The warehouse's database was never created: every statement is rejected."""
    async with query_over(warehouse_settings, parts) as api:
        response, out = await _failing_overview(api)
    assert response.status_code == 500
    body = response.json()
    request_id = response.headers["x-request-id"]
    assert body == {
        "error": "warehouse_error",
        "message": "internal server error",
        "requestId": request_id,
    }
    text = response.text.lower()
    database = warehouse_settings.clickhouse_database
    for internal in (database, "select", "exception", "clickhouse", "chdb"):
        assert internal.lower() not in text
    [logged] = [line for line in _logged(out, request_id) if line["event"] == "request_failed"]
    assert "Exception" in logged["message"]  # the engine's own words, kept for the operator


async def test_an_unreachable_warehouse_is_a_503_without_its_address(
    parts: ServiceParts,
) -> None:
    port = _closed_port()
    unreachable = WarehouseSettings(
        clickhouse_url=f"http://127.0.0.1:{port}/", clickhouse_database="t_x"
    )
    async with query_over(unreachable, parts) as api:
        response, out = await _failing_overview(api)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    body = response.json()
    assert body["error"] == "warehouse_unavailable"
    assert str(port) not in response.text and "127.0.0.1" not in response.text
    assert body["requestId"] == response.headers["x-request-id"]
    [logged] = [
        line for line in _logged(out, body["requestId"]) if line["event"] == "request_failed"
    ]
    assert str(port) in logged["message"]


async def test_every_answer_carries_a_request_id(api: Api) -> None:
    ok = await api.call("GET", "/api/auth/me")
    assert ok.status_code == 401
    assert ok.headers["x-request-id"]
    assert "requestId" not in ok.json()  # a 4xx says what to fix; only a 5xx needs the log
    sent = await api.client.get("/api/auth/me", headers={"X-Request-Id": "trace-1234abcd"})
    assert sent.headers["x-request-id"] == "trace-1234abcd"  # a proxy's id is kept
    forged = await api.client.get("/api/auth/me", headers={"X-Request-Id": "bad\nid"})
    assert forged.headers["x-request-id"] != "bad\nid"
