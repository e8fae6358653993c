"""The `Warehouse` interface both ClickHouse engines implement, and `open_warehouse()`.

Backends supply the I/O (`execute`, `query`, `insert_events`, `ping`, `close`); the rules that
must not differ between engines (migrations, the dedupe lookup) live here once.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import structlog

from traytic.core.errors import ConfigurationError
from traytic.warehouse import rebuild, sessions
from traytic.warehouse.cluster import LOCAL_SUFFIX, MigrationPlan, check_cluster_name
from traytic.warehouse.errors import WarehouseError
from traytic.warehouse.migrate import (
    SCHEMA_MIGRATIONS,
    AddColumns,
    add_columns,
    backfills,
    load_migrations,
    views_of,
)
from traytic.warehouse.rows import EventRow
from traytic.warehouse.settings import WarehouseSettings

log = structlog.get_logger()

_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
IDS_PER_LOOKUP = 2_000
"""event ids per dedupe query: keeps each query well under 18.16's 256 KiB `max_query_size`."""


def check_database_name(name: str) -> str:
    if not _DATABASE_NAME.match(name):
        raise ValueError(f"invalid ClickHouse database name {name!r}")
    return name


ENGINE_READ_ATTEMPTS = 5


class Warehouse(ABC):
    """The events store: migrations, bulk inserts, the dedupe lookup and read queries."""

    database: str
    cluster: str = ""
    """A ClickHouse cluster: migrations run `ON CLUSTER` it (see `traytic.warehouse.cluster`)."""

    @abstractmethod
    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no rows (DDL, INSERT ... SELECT) in `database`."""

    @abstractmethod
    async def query(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Rows of a SELECT as dicts; `{name}` / `{name:Type}` placeholders bind `params`."""

    @abstractmethod
    async def insert_events(self, rows: Sequence[EventRow]) -> None:
        """Append rows to `events` in one insert (atomic per batch on both engines)."""

    async def insert_sessions(self, rows: Sequence[sessions.SessionRow]) -> None:
        """Append rows to `sessions` in one insert (the consumer's visits; see `sessions`).

        Not abstract, so a `Warehouse` written before it existed still works where nothing
        calls it; both engines' backends implement it."""
        raise NotImplementedError(f"{type(self).__name__} cannot insert sessions")

    async def settle_inserts(self) -> None:
        """Return once no insert into `events` sent earlier by any consumer is still running.

        An in-process engine has none: its inserts die with the process that made them. A
        server finishes an insert whose body it received even after its client was killed, so
        a redelivered batch could be checked before the first delivery's rows land."""
        return

    @abstractmethod
    async def ping(self) -> bool:
        """True when the engine answers; never raises."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def create_database(self) -> None:
        """`CREATE DATABASE IF NOT EXISTS` for `database`."""

    @abstractmethod
    async def drop_database(self) -> None:
        """Drop `database` and everything in it (tests, `traytic reset`)."""

    async def migrate(self) -> list[str]:
        """Apply pending migrations; returns the names of all applied ones, in order."""
        plan = MigrationPlan(self.database, self.cluster)
        await self.create_database()
        for statement in (*plan.setup(), *plan.statements(SCHEMA_MIGRATIONS)):
            await self.execute(statement)
        applied = await self._applied_migrations()
        for migration in load_migrations():
            if migration.name in applied:
                continue
            for statement in migration.statements:
                adding = add_columns(statement)
                if adding is not None:
                    await self._add_columns(adding, plan)
                    continue
                step = rebuild.rebuild(statement)
                if step is not None:
                    views = views_of(step.table, before=migration.name, applied=frozenset(applied))
                    await rebuild.run(self, step, [*views], plan)
                    continue
                for planned in plan.statements(statement):
                    await self.execute(planned)
            fills = backfills(migration)
            # Every backfill reads `events`; empty there (a new install), each would insert
            # nothing at ~10 ms a statement. Asked after the views exist, so a row inserted
            # since is the views' own and none is missed.
            if fills and await self._holds_events():
                for backfill in fills:
                    await self.execute(backfill.sql, backfill.params)
            await self.execute(
                f"INSERT INTO {plan.migrations_table} (name, applied_at)"
                " SELECT {name:String}, now()",
                {"name": migration.name},
            )
            log.info("warehouse_migration_applied", migration=migration.name, db=self.database)
            self._can_sample = None  # a rebuild may have given a table its sampling key
        return sorted(await self._applied_migrations())

    async def _add_columns(self, adding: AddColumns, plan: MigrationPlan) -> None:
        """Add the columns a table lacks; in cluster mode to the replicated local tables
        (`ON CLUSTER`), then the `Distributed` table in front of them is made again over them."""
        table = adding.table + LOCAL_SUFFIX if plan.cluster else adding.table
        on_cluster = f" ON CLUSTER {plan.cluster}" if plan.cluster else ""
        statement = adding.statement(
            f"{self.database}.{table}", await self._columns(table), on_cluster
        )
        if statement is not None:
            try:
                await self.execute(statement)
            except WarehouseError:
                # Another process migrating at once may have added them first.
                if adding.statement(table, await self._columns(table)) is not None:
                    raise
        if plan.cluster and adding.statement(adding.table, await self._columns(adding.table)):
            await self._recreate_distributed(adding.table, plan.cluster)

    async def _recreate_distributed(self, name: str, cluster: str) -> None:
        """The `Distributed` table `name` again, with the columns its local table has now.

        18.16 refuses an `ALTER ... ON CLUSTER` of a table that is not replicated on a cluster
        whose shards are ("isn't replicated, but shard is replicated"), and a Distributed table
        holds no rows (inserts are synchronous, `CLUSTER_SETTINGS`): dropping and creating it
        again is the change. Writers that hit the moment between retry their batch."""
        engine = await self.table_engine(name)
        if not engine:
            raise WarehouseError(f"no table {name} to recreate")
        db = self.database
        await self.execute(f"DROP TABLE IF EXISTS {db}.{name} ON CLUSTER {cluster}")
        await self.execute(
            f"CREATE TABLE IF NOT EXISTS {db}.{name} ON CLUSTER {cluster}"
            f" AS {db}.{name}{LOCAL_SUFFIX} ENGINE = {engine}"
        )

    async def table_engine(self, table: str) -> str:
        """`engine_full` of `table` in this database, '' when there is no such table.

        18.16 reads every table's definition to answer `system.tables` and fails the whole read
        (code 60, unknown table) when another table of the database is dropped meanwhile, as
        when two processes migrate at once: read again then."""
        attempt = 1
        while True:
            try:
                rows = await self.query(
                    "SELECT engine_full FROM system.tables WHERE database = {db:String}"
                    " AND name = {table:String}",
                    {"db": self.database, "table": table},
                )
            except WarehouseError as exc:
                if "Code: 60," not in str(exc) or attempt == ENGINE_READ_ATTEMPTS:
                    raise
                await asyncio.sleep(0.05 * attempt)
                attempt += 1
                continue
            return str(rows[0]["engine_full"]) if rows else ""

    async def _columns(self, table: str) -> frozenset[str]:
        rows = await self.query(
            "SELECT name FROM system.columns WHERE database = {db:String}"
            " AND table = {table:String}",
            {"db": self.database, "table": table},
        )
        return frozenset(row["name"] for row in rows)

    async def _holds_events(self) -> bool:
        rows = await self.query("SELECT count() AS n FROM events")
        return int(rows[0]["n"]) > 0

    async def _applied_migrations(self) -> set[str]:
        rows = await self.query("SELECT DISTINCT name FROM schema_migrations")
        return {row["name"] for row in rows}

    _can_sample: bool | None = None

    async def can_sample(self) -> bool:
        """Whether `events` and `sessions` have their sampling keys (migrations 0005 and 0030;
        not in cluster mode): a sampled report reads both."""
        if self._can_sample is None:
            suffix = LOCAL_SUFFIX if self.cluster else ""
            engines = [await self.table_engine(table + suffix) for table in ("events", "sessions")]
            self._can_sample = all("SAMPLE BY" in engine for engine in engines)
        return self._can_sample

    async def existing_event_ids(
        self,
        site_ids: Iterable[str],
        ts_min: int,
        ts_max: int,
        event_ids: Iterable[int],
    ) -> set[int]:
        """Which of `event_ids` are already stored (for sites `site_ids`, ts in [min, max]).

        Waits first for inserts still running on behalf of a client that is gone (see
        `settle_inserts`): what they hold is stored a moment later and must count as stored."""
        sites = sorted(set(site_ids))
        ids = sorted(set(event_ids))
        found: set[int] = set()
        if not sites or not ids:
            return found
        await self.settle_inserts()
        for start in range(0, len(ids), IDS_PER_LOOKUP):
            chunk = ids[start : start + IDS_PER_LOOKUP]
            # Tuples bind as IN lists, which let both engines use the primary key on site_id;
            # the days again on the key's `toDate(ts)`, which 18.16 does not derive from `ts`
            # (without them it read every row of the site for each batch).
            rows = await self.query(
                "SELECT DISTINCT event_id FROM events WHERE site_id IN {sites}"
                " AND ts >= toDateTime({ts_min:UInt32}) AND ts <= toDateTime({ts_max:UInt32})"
                " AND toDate(ts) >= toDate(toDateTime({ts_min:UInt32}, 'UTC'))"
                " AND toDate(ts) <= toDate(toDateTime({ts_max:UInt32}, 'UTC'))"
                " AND event_id IN {ids}",
                {"sites": tuple(sites), "ts_min": ts_min, "ts_max": ts_max, "ids": tuple(chunk)},
            )
            found.update(row["event_id"] for row in rows)
        return found

    async def refresh_sessions(
        self,
        visits: Mapping[tuple[str, int], int],
        *,
        lookback_s: int = 1800,
        now: int | None = None,
    ) -> None:
        """Rewrite the `sessions` rows of `visits` ((site id, session id) → start, unix seconds)
        from their stored events; idempotent, so safe to repeat after any failure."""
        at = int(time.time()) if now is None else now
        for statement in sessions.refresh(visits, lookback_s, at):
            await self.execute(statement.sql, statement.params)

    async def prune_session_events(self, *, now: int | None = None) -> list[int]:
        """Drop the day partitions of `session_events` older than it keeps; returns them."""
        from traytic.warehouse.retention import drop_partition_statement  # imports this module

        at = int(time.time()) if now is None else now
        oldest_kept = int(time.strftime("%Y%m%d", time.gmtime(at - sessions.RECENT_S)))
        rows = await self.query(
            "SELECT DISTINCT partition FROM system.parts WHERE database = {db:String}"
            " AND table = {table:String} AND active",
            {
                "db": self.database,
                "table": "session_events" + (LOCAL_SUFFIX if self.cluster else ""),
            },
        )
        dropped = sorted(
            int(row["partition"]) for row in rows if int(row["partition"]) < oldest_kept
        )
        for day in dropped:
            await self.execute(drop_partition_statement(self, "session_events", day))
        return dropped


def open_warehouse(settings: WarehouseSettings) -> Warehouse:
    """The server backend when `clickhouse_url` is set, else chDB in `chdb_path` (the `chdb`
    extra: the services' images leave it out)."""
    if settings.clickhouse_url:
        from traytic.warehouse.server import ServerWarehouse

        cluster = settings.clickhouse_cluster and check_cluster_name(settings.clickhouse_cluster)
        warehouse = ServerWarehouse(settings)
        warehouse.cluster = cluster
        return warehouse
    if settings.clickhouse_cluster:
        raise ConfigurationError(
            "TRAYTIC_CLICKHOUSE_CLUSTER needs a ClickHouse server: set TRAYTIC_CLICKHOUSE_URL"
        )
    if importlib.util.find_spec("chdb") is None:
        raise ConfigurationError(
            "TRAYTIC_CLICKHOUSE_URL is not set and chDB is not installed: set it to your"
            " ClickHouse server, or install the embedded engine (traytic-warehouse[chdb])"
        )
    from traytic.warehouse.chdb_backend import ChdbWarehouse

    return ChdbWarehouse(settings)
