"""ClickHouse server backend over HTTP (aiochclient's aiohttp session), from version 18.16 on.

Inserts POST a raw Native body (`SERVER_INSERT_FORMAT`, the cheapest measured on 18.16 to
encode and to parse) through the session, skipping aiochclient's per-value tuple encoding;
queries come back as `FORMAT JSON`. A refused or timed-out connection raises
`WarehouseUnavailable` so callers back off and retry.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import structlog
from aiochclient import ChClient

from traytic.warehouse.base import Warehouse, check_database_name
from traytic.warehouse.cluster import CLUSTER_SETTINGS
from traytic.warehouse.errors import WarehouseError, WarehouseUnavailable
from traytic.warehouse.formats import (
    SERVER_FORMATS,
    SERVER_INSERT_FORMAT,
    encode_sessions_native,
)
from traytic.warehouse.rows import COLUMNS, EventRow
from traytic.warehouse.sessions import SESSION_COLUMNS, SessionRow
from traytic.warehouse.settings import WarehouseSettings
from traytic.warehouse.sql import bind, decode_json_result

_INSERT = f"INSERT INTO events ({', '.join(f'`{c}`' for c in COLUMNS)}) FORMAT "
_INSERT_SESSIONS = f"INSERT INTO sessions ({', '.join(SESSION_COLUMNS)}) FORMAT Native"
_UNAVAILABLE_STATUSES = {502, 503, 504}
KEEPALIVE_S = 2.0
"""How long an idle connection is kept for reuse: less than the server's `keep_alive_timeout`
(3 s on 18.16, 10 s later), so a statement is never written to a connection the server is
closing. With aiohttp's 15 s default a CI teardown once failed that way ("Cannot write to
closing transport", after the test sat idle); a probe around 3 s of idle did not reproduce it."""
SETTLE_TIMEOUT_S = 30.0
"""How long a check for stored events waits on inserts still running; past it, it goes on
(an insert running that long is stuck, and the check must not block ingest for good)."""

log = structlog.get_logger()


def _basic_auth(settings: WarehouseSettings) -> str:
    # Basic auth (not ?user=&password=) keeps the password out of URLs and access logs.
    token = f"{settings.clickhouse_user}:{settings.clickhouse_password}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")


class ServerWarehouse(Warehouse):
    """The warehouse in a ClickHouse server reached at `clickhouse_url`."""

    def __init__(self, settings: WarehouseSettings) -> None:
        if not settings.clickhouse_url:
            raise ValueError("ServerWarehouse needs clickhouse_url")
        self.database = check_database_name(settings.clickhouse_database)
        self._url = settings.clickhouse_url.rstrip("/") + "/"
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=settings.clickhouse_timeout, connect=settings.clickhouse_connect_timeout
            ),
            headers={"Authorization": _basic_auth(settings)},
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
        )
        self.client = ChClient(self._session, url=self._url)
        """aiochclient on the same session, for callers that want its typed API."""
        self._insert_prefix = f"traytic-insert-{self.database}-"

    async def _post(
        self, body: bytes | str, params: dict[str, str], *, in_database: bool = True
    ) -> bytes:
        if in_database:
            params = {"database": self.database, **params}
        if self.cluster:
            params = {**CLUSTER_SETTINGS, **params}
        try:
            async with self._session.post(self._url, params=params, data=body) as response:
                payload = await response.read()
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise WarehouseUnavailable(
                f"ClickHouse at {self._url} is unavailable: {type(exc).__name__}: {exc}"
            ) from exc
        if response.status != 200:
            message = payload.decode(errors="replace").strip()[:2000]
            if response.status in _UNAVAILABLE_STATUSES:
                raise WarehouseUnavailable(f"ClickHouse answered {response.status}: {message}")
            raise WarehouseError(f"ClickHouse rejected the statement: {message}")
        return payload

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        await self._post(bind(sql, params), {})

    async def query(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        body = await self._post(bind(sql, params), {"default_format": "JSON"})
        return decode_json_result(body)

    async def insert_events(
        self, rows: Sequence[EventRow], *, fmt: str = SERVER_INSERT_FORMAT
    ) -> None:
        """`fmt` exists for the benchmark; the default is the fastest measured on 18.16."""
        if not rows:
            return
        await self._post(
            SERVER_FORMATS[fmt](rows),
            {"query": _INSERT + fmt, "query_id": f"{self._insert_prefix}{uuid.uuid4().hex}"},
        )

    async def settle_inserts(self, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
        # Inserts are recognised by their query id (18.16's `system.processes` names no
        # database); on a cluster this sees the node this replica talks to.
        deadline = time.monotonic() + timeout_s
        while True:
            [row] = await self.query(
                "SELECT count() AS running FROM system.processes"
                " WHERE startsWith(query_id, {prefix:String})",
                {"prefix": self._insert_prefix},
            )
            if not int(row["running"]):
                return
            if time.monotonic() >= deadline:
                log.warning("inserts_still_running", running=int(row["running"]))
                return
            await asyncio.sleep(0.05)

    async def insert_sessions(self, rows: Sequence[SessionRow]) -> None:
        if not rows:
            return
        await self._post(encode_sessions_native(rows), {"query": _INSERT_SESSIONS})

    async def ping(self) -> bool:
        try:
            async with self._session.get(self._url + "ping") as response:
                return response.status == 200 and (await response.read()).strip() == b"Ok."
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def create_database(self) -> None:
        await self._post(f"CREATE DATABASE IF NOT EXISTS {self.database}", {}, in_database=False)

    async def drop_database(self) -> None:
        await self._post(f"DROP DATABASE IF EXISTS {self.database}", {}, in_database=False)

    async def close(self) -> None:
        await self._session.close()
