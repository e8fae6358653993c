"""Probes of the query service alone: alive, and ready once its database and NATS answer."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_healthz_and_readyz(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready"}


async def test_readyz_is_503_without_nats(app: Litestar, client: AsyncTestClient[Litestar]) -> None:
    await app.state.query.nc.close()  # NATS gone for this replica: not ready, still alive
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["message"] == "not connected to NATS"
    assert int(ready.headers["retry-after"]) > 0
    assert (await client.get("/healthz")).status_code == 200
