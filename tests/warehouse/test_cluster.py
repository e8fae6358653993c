"""Cluster mode of the warehouse migrations: the SQL it generates, the plain mode unchanged, and
the `Distributed` half of it on a single real server (replication needs Keeper, which we lack)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.warehouse.test_contract import make_row
from traytic.core.errors import ConfigurationError
from traytic.warehouse import EventRow, Warehouse, WarehouseSettings, open_warehouse
from traytic.warehouse.cluster import MigrationPlan
from traytic.warehouse.errors import WarehouseError
from traytic.warehouse.imports import DailyFigures, ImportStore, Sums
from traytic.warehouse.migrate import (
    SCHEMA_MIGRATIONS,
    add_columns,
    backfills,
    load_migrations,
    views_of,
)
from traytic.warehouse.rebuild import rebuild
from traytic.warehouse.server import ServerWarehouse


class RecordingWarehouse(Warehouse):
    """Records the statements a migration runs; remembers inserted migration names. It says
    `events` holds rows, as in an upgrade, so that every backfill runs too."""

    def __init__(self, cluster: str = "") -> None:
        self.database = "traytic"
        self.cluster = cluster
        self.executed: list[tuple[str, dict[str, Any] | None]] = []

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.executed.append((sql, dict(params) if params is not None else None))

    async def query(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        if "engine_full" in sql:  # as the cluster plan made the Distributed table
            assert params is not None
            local = f"{params['table']}_local"
            return [{"engine_full": f"Distributed({self.cluster}, traytic, {local}, rand())"}]
        if sql == "SELECT count() AS n FROM events":
            return [{"n": 1}]
        return []

    async def insert_events(self, rows: Sequence[EventRow]) -> None: ...
    async def ping(self) -> bool:
        return True

    async def close(self) -> None: ...
    async def create_database(self) -> None: ...
    async def drop_database(self) -> None: ...


async def test_without_a_cluster_the_statements_are_byte_for_byte_the_plain_ones() -> None:
    store = RecordingWarehouse()
    await store.migrate()
    expected: list[tuple[str, dict[str, Any] | None]] = [(SCHEMA_MIGRATIONS, None)]
    for migration in load_migrations():
        for statement in migration.statements:
            step = rebuild(statement)
            if step is not None:
                # Nothing to copy here (no parts): the views go, the names swap, they come back.
                views = views_of(step.table, before=migration.name)
                expected.append(
                    (f"CREATE TABLE IF NOT EXISTS {step.new} AS {step.table} {step.engine}", None)
                )
                expected.extend((f"DROP TABLE IF EXISTS {view.split()[6]}", None) for view in views)
                old = f"{step.table}_replaced"
                expected.append(
                    (f"RENAME TABLE {step.table} TO {old}, {step.new} TO {step.table}", None)
                )
                expected.extend((view, None) for view in views)
                expected.append((f"DROP TABLE IF EXISTS {old}", None))
                continue
            # A table this recorder reports without columns gets every column it adds.
            adding = add_columns(statement)
            run = adding.statement(f"traytic.{adding.table}", frozenset()) if adding else statement
            expected.append((run or "", None))
        expected.extend((backfill.sql, backfill.params) for backfill in backfills(migration))
        expected.append(
            (
                "INSERT INTO schema_migrations (name, applied_at) SELECT {name:String}, now()",
                {"name": migration.name},
            )
        )
    assert store.executed == expected


def test_plan_without_cluster_is_the_identity() -> None:
    plan = MigrationPlan("traytic")
    assert plan.setup() == ()
    assert plan.migrations_table == "schema_migrations"
    for migration in load_migrations():
        for statement in migration.statements:
            assert plan.statements(statement) == (statement,)


def test_cluster_events_table_is_replicated_local_plus_distributed() -> None:
    plan = MigrationPlan("traytic", "analytics")
    (events,) = [m for m in load_migrations() if m.name == "0001_events"]
    local, distributed = plan.statements(events.statements[0])
    assert local.startswith(
        "CREATE TABLE IF NOT EXISTS traytic.events_local ON CLUSTER analytics\n("
    )
    assert (
        "ENGINE = ReplicatedReplacingMergeTree("
        "'/clickhouse/tables/{shard}/traytic/events_local', '{replica}')"
    ) in local
    assert "PARTITION BY toYYYYMM(ts)" in local
    assert "ORDER BY (site_id, toDate(ts), event_id)" in local
    assert "props Nested(key String, value String)" in local
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS traytic.events ON CLUSTER analytics AS traytic.events_local\n"
        "ENGINE = Distributed(analytics, traytic, events_local,"
        " cityHash64(site_id, toDate(ts), event_id))"
    )


async def test_cluster_migration_records_through_the_distributed_table() -> None:
    store = RecordingWarehouse(cluster="analytics")
    await store.migrate()
    statements = [sql for sql, _ in store.executed]
    assert statements[0] == "CREATE DATABASE IF NOT EXISTS traytic ON CLUSTER analytics"
    assert "traytic.schema_migrations_local ON CLUSTER analytics" in statements[1]
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/traytic/" in statements[1]
    assert "cityHash64(name)" in statements[2]
    assert all("ON CLUSTER analytics" in sql for sql in statements if sql.startswith("CREATE"))
    # Through the Distributed table: a process entering through another shard must see it.
    assert statements[-1].startswith("INSERT INTO schema_migrations (name, applied_at)")


def test_cluster_views_link_the_local_tables() -> None:
    plan = MigrationPlan("traytic", "analytics")
    views = [
        statement
        for migration in load_migrations()
        for statement in migration.statements
        if statement.startswith("CREATE MATERIALIZED VIEW")
    ]
    assert views
    for view in views:
        (planned,) = plan.statements(view)
        name, target = view.split()[6], view.split()[8]
        assert planned.startswith(
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS traytic.{name} ON CLUSTER analytics"
            f" TO traytic.{target}_local AS SELECT"
        )
        assert "FROM traytic.events_local" in planned
        assert planned.count("FROM ") == view.count("FROM ")


def test_engine_arguments_are_kept_after_the_replication_ones() -> None:
    statement = (
        "CREATE TABLE IF NOT EXISTS rollup\n(site_id String, v UInt32)\n"
        "ENGINE = ReplacingMergeTree(v)\nORDER BY site_id\nSETTINGS index_granularity = 8192"
    )
    local, distributed = MigrationPlan("db", "c").statements(statement)
    assert (
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/rollup_local', '{replica}', v)"
        in local
    )
    assert local.endswith("ORDER BY site_id\nSETTINGS index_granularity = 8192")
    assert distributed.endswith("Distributed(c, db, rollup_local, cityHash64(site_id))")


async def test_cluster_adds_columns_to_the_local_tables_then_makes_the_distributed_ones_again() -> (
    None
):
    """18.16 refuses `ALTER ... ON CLUSTER` of a Distributed table on replicated shards: the
    Distributed table (which holds no rows) is dropped and made again over its local table."""
    store = RecordingWarehouse("analytics")
    await store.migrate()
    executed = [sql for sql, _ in store.executed]
    added = "ADD COLUMN revenue_micros Int64, ADD COLUMN revenue_currency String"
    alter = executed.index(f"ALTER TABLE traytic.events_local ON CLUSTER analytics {added}")
    assert executed[alter + 1 : alter + 3] == [
        "DROP TABLE IF EXISTS traytic.events ON CLUSTER analytics",
        "CREATE TABLE IF NOT EXISTS traytic.events ON CLUSTER analytics AS traytic.events_local"
        " ENGINE = Distributed(analytics, traytic, events_local, rand())",
    ]
    assert not [sql for sql in executed if sql.startswith("ALTER TABLE traytic.events ")]


def test_statements_cluster_mode_cannot_translate_are_refused() -> None:
    with pytest.raises(WarehouseError, match="teach"):
        MigrationPlan("db", "c").statements("ALTER TABLE events ADD COLUMN x String")


async def test_cluster_needs_a_server_and_a_valid_name() -> None:
    with pytest.raises(ConfigurationError, match="TRAYTIC_CLICKHOUSE_URL"):
        open_warehouse(WarehouseSettings(clickhouse_cluster="analytics"))
    with pytest.raises(ValueError, match="cluster name"):
        open_warehouse(
            WarehouseSettings(clickhouse_url="http://127.0.0.1:1", clickhouse_cluster="a b")
        )


# ---- on a real 18.16 server: everything but replication and ON CLUSTER (both need Keeper)

_CLUSTER_CONFIG = """<?xml version="1.0"?>
<yandex>
  <remote_servers>
    <single>
      <shard><replica><host>127.0.0.1</host><port>{tcp_port}</port></replica></shard>
    </single>
  </remote_servers>
  <macros><shard>01</shard><replica>r1</replica></macros>
</yandex>
"""
_REPLICATED = re.compile(r"Replicated(\w*MergeTree)\('[^']*', '\{replica\}'(?:, )?")


class SingleServerClusterWarehouse(ServerWarehouse):
    """Runs the cluster plan with what needs Keeper taken out: no ON CLUSTER, plain MergeTree."""

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        sql = sql.replace(f" ON CLUSTER {self.cluster}", "")
        await super().execute(_REPLICATED.sub(r"\1(", sql), params)


@pytest.fixture
def single_shard_server(tmp_path: Path) -> Any:
    from tests.fixtures.clickhouse import ClickHouseServer, find_binary

    binary = find_binary()
    if binary is None:
        pytest.skip("no clickhouse-server installed")
    server = ClickHouseServer(binary, tmp_path)
    (tmp_path / "config.d").mkdir()
    (tmp_path / "config.d" / "cluster.xml").write_text(
        _CLUSTER_CONFIG.format(tcp_port=server.tcp_port)
    )
    server.start()
    yield server
    server.stop()


async def test_distributed_tables_work_on_a_single_real_server(single_shard_server: Any) -> None:
    settings = WarehouseSettings(
        clickhouse_url=single_shard_server.url, clickhouse_database="t_cluster"
    )
    store = SingleServerClusterWarehouse(settings)
    store.cluster = "single"
    try:
        assert await store.migrate() == [m.name for m in load_migrations()]
        assert await store.migrate() == [m.name for m in load_migrations()]  # idempotent
        engines = {
            row["name"]: row["engine"]
            for row in await store.query(
                "SELECT name, engine FROM system.tables WHERE database = 't_cluster'"
            )
        }
        assert engines == {
            "events": "Distributed",
            "events_local": "ReplacingMergeTree",
            "schema_migrations": "Distributed",
            "schema_migrations_local": "ReplacingMergeTree",
            "traffic_hours": "Distributed",
            "traffic_hours_local": "AggregatingMergeTree",
            "traffic_hours_mv": "MaterializedView",
            "traffic_quarters": "Distributed",
            "traffic_quarters_local": "AggregatingMergeTree",
            "traffic_quarters_mv": "MaterializedView",
            "daily_stats": "Distributed",
            "daily_stats_local": "AggregatingMergeTree",
            "daily_stats_mv": "MaterializedView",
            "daily_pages_mv": "MaterializedView",
            "event_stats": "Distributed",
            "event_stats_local": "AggregatingMergeTree",
            "event_stats_mv": "MaterializedView",
            "session_events": "Distributed",
            "session_events_local": "ReplacingMergeTree",
            "session_events_mv": "MaterializedView",
            "sessions": "Distributed",
            "sessions_local": "ReplacingMergeTree",
            "imported_stats": "Distributed",
            "imported_stats_local": "MergeTree",
            "imports": "Distributed",
            "imports_local": "ReplacingMergeTree",
        }
        rows = [make_row(1, event_id=42), make_row(2, event_id=43, type="event", name="signup")]
        await store.insert_events(rows)
        found = await store.existing_event_ids(
            [rows[0].site_id], rows[0].ts - 1, rows[1].ts, [42, 9]
        )
        assert found == {42}
        # The views on the local events table fill the local rollups, read back through the
        # Distributed tables.
        quarters = await store.query(
            "SELECT sumMerge(pageviews) AS pageviews, sumMerge(events) AS events"
            " FROM traffic_quarters WHERE site_id = {site:String}",
            {"site": rows[0].site_id},
        )
        assert [int(quarters[0]["pageviews"]), int(quarters[0]["events"])] == [1, 1]
        # Imports: written through the Distributed tables, their old rows deleted on the
        # local ones (a mutation ON CLUSTER), read back through the Distributed ones.
        imports = ImportStore(store)
        figures = DailyFigures()
        figures.add("visitors", date(2020, 1, 1), "", Sums(visitors=3, visits=4, pageviews=5))
        for _ in range(2):
            job = await imports.start("st_cluster", "plausible", "export.zip")
            job = await imports.write(job, figures, "UTC")
        assert job.status == "done" and await imports.visible_runs("st_cluster") == (job.run,)
        assert await imports.delete("st_cluster", "plausible")
        assert await imports.visible_runs("st_cluster") == ()
    finally:
        await store.drop_database()
        await store.close()
