"""Probes of the billing service alone."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_healthz_and_readyz(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready"}
