"""chDB (ClickHouse in-process) backend for the embedded mode.

chDB calls block and a data directory belongs to one process, so one connection is used from
one worker thread: every call goes through a `ThreadPoolExecutor(max_workers=1)`, never the
event loop. Rows go in as JSONCompactEachRow lines (msgspec encodes an array_like `EventRow`
straight to a JSON array) through chDB's streaming insert, the fastest path measured.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import chdb

from traytic.warehouse.base import Warehouse, check_database_name
from traytic.warehouse.errors import WarehouseError, WarehouseUnavailable
from traytic.warehouse.formats import CHDB_FORMATS, CHDB_INSERT_FORMAT, encode_json_compact_each_row
from traytic.warehouse.rows import COLUMNS, EventRow
from traytic.warehouse.sessions import SESSION_COLUMNS, SessionRow
from traytic.warehouse.settings import WarehouseSettings
from traytic.warehouse.sql import bind, decode_json_result

T = TypeVar("T")
# optimize_on_insert=0: the consumer dedupes before inserting, so collapsing equal keys inside
# each block (ReplacingMergeTree's insert-time pass) is work for nothing; measured ~10% less
# insert CPU. chDB only: the 18.16 server does not know the setting.
_INSERT = (
    f"INSERT INTO events ({', '.join(f'`{c}`' for c in COLUMNS)}) SETTINGS optimize_on_insert=0"
)

_INSERT_SESSIONS = f"INSERT INTO sessions ({', '.join(SESSION_COLUMNS)})"

_SESSION_SETTINGS = ("do_not_merge_across_partitions_select_final = 1",)
"""`FINAL` (the `sessions` reads) merges versions within each month only: a visit never spans two
partitions (the month of its fixed start), and a month merged into one part costs no merge."""


class ChdbWarehouse(Warehouse):
    """The warehouse in a local chDB data directory (`chdb_path`)."""

    def __init__(self, settings: WarehouseSettings) -> None:
        self.database = check_database_name(settings.clickhouse_database)
        self._path = settings.chdb_path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chdb")
        self._conn: Any = None
        self._closed = False

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise WarehouseUnavailable("the chDB warehouse is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def _connection(self) -> Any:
        # Runs in the worker thread only.
        if self._conn is None:
            Path(self._path).mkdir(parents=True, exist_ok=True)
            try:
                # Typed or untyped depending on which of `chdb` / `chdb-core` wrote
                # `chdb/__init__.py` last (both ship one): call it as Any either way.
                module: Any = chdb
                self._conn = module.connect(self._path)
            except Exception as exc:
                raise WarehouseUnavailable(f"cannot open chDB at {self._path}: {exc}") from exc
            for setting in _SESSION_SETTINGS:
                self._conn.query(f"SET {setting}")
            self._use_database(self._conn)
        return self._conn

    def _use_database(self, conn: Any) -> None:
        try:
            conn.query(f"USE {self.database}")
        except Exception as exc:
            # Before migrate() creates it the database is absent: stay in `default` until then.
            if "UNKNOWN_DATABASE" not in str(exc):
                raise WarehouseError(str(exc)) from exc

    def _query_sync(self, sql: str, fmt: str) -> bytes:
        conn = self._connection()
        try:
            result = conn.query(sql, fmt)
        except Exception as exc:
            raise WarehouseError(f"chDB rejected the query: {exc}") from exc
        data: bytes = result.bytes()
        return data

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        await self._run(self._query_sync, bind(sql, params), "CSV")

    async def query(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        body = await self._run(self._query_sync, bind(sql, params), "JSON")
        return decode_json_result(body)

    def _insert_sync(self, body: bytes, fmt: str, statement: str = _INSERT) -> None:
        conn = self._connection()
        try:
            with conn.send_insert(statement, fmt) as inserter:
                inserter.append(body)
                inserter.finish()
        except Exception as exc:
            raise WarehouseError(f"chDB rejected the insert: {exc}") from exc

    async def insert_events(
        self, rows: Sequence[EventRow], *, fmt: str = CHDB_INSERT_FORMAT
    ) -> None:
        """`fmt` exists for the benchmark; the default is the fastest measured."""
        if not rows:
            return
        await self._run(self._insert_sync, CHDB_FORMATS[fmt](rows), fmt)

    async def insert_sessions(self, rows: Sequence[SessionRow]) -> None:
        if not rows:
            return
        body = encode_json_compact_each_row(rows)
        await self._run(self._insert_sync, body, "JSONCompactEachRow", _INSERT_SESSIONS)

    async def ping(self) -> bool:
        try:
            await self._run(self._query_sync, "SELECT 1", "CSV")
        except Exception:
            return False
        return True

    def _create_database_sync(self) -> None:
        conn = self._connection()
        conn.query(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        self._use_database(conn)

    async def create_database(self) -> None:
        await self._run(self._create_database_sync)

    async def drop_database(self) -> None:
        await self._run(self._query_sync, f"DROP DATABASE IF EXISTS {self.database} SYNC", "CSV")

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        if self._closed:
            return
        await self._run(self._close_sync)
        self._closed = True
        self._executor.shutdown(wait=True)
