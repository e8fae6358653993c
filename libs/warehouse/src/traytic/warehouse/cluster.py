"""Cluster mode of the migrations: one `CREATE TABLE` becomes a replicated local table and a
`Distributed` table over it, both `ON CLUSTER`; a materialized view links the local tables.

`TRAYTIC_CLICKHOUSE_CLUSTER` names a cluster of the servers' `remote_servers`; the servers need
ZooKeeper or ClickHouse Keeper and the macros `{shard}` and `{replica}`. Readers and writers keep
using the plain table names (`events`, `schema_migrations`): those are the `Distributed` tables,
and the data lives in `<name>_local` on every shard. Rows are sharded by a hash of the sorting key,
so a row inserted twice lands on the same shard and (Replacing)MergeTree can still collapse it.
With no cluster, `MigrationPlan` hands every statement through unchanged.

Every request in cluster mode carries `CLUSTER_SETTINGS` (the server backend adds them): the
consumer's read-after-write steps (the dedupe lookup, the visits' rewrite from their events, the
applied migrations) are only right when a write has reached its shard before the ack and every
reader and writer of a shard uses the same replica while it is up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from traytic.warehouse.errors import WarehouseError

LOCAL_SUFFIX = "_local"
CLUSTER_SETTINGS: dict[str, str] = {
    # An insert returns once its rows are written on their shard, not queued on the node that
    # took it (which may die with them queued, after the consumer acked).
    "insert_distributed_sync": "1",
    # Reads and writes of a shard go to its first live replica, for every client alike: a
    # write is then seen by the next read at once (replication to the others is asynchronous).
    # 18.16 writes a shard's rows into the receiving node when it is one of the shard's
    # replicas whatever the settings, so clients enter through first replicas (deploy/README).
    "load_balancing": "in_order",
    "prefer_localhost_replica": "1",
    # Replicated tables drop an inserted block whose bytes equal a recent one's; a rollup
    # view's block (one visitor's pageview in one quarter) can equal another batch's. The
    # consumer dedupes by event id instead.
    "insert_deduplicate": "0",
}
"""ClickHouse settings sent with every request in cluster mode (see the module docstring)."""
REPLICA_PATH = "/clickhouse/tables/{shard}/%s/%s"

_CREATE_TABLE = re.compile(
    r"^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?P<columns>\(.*\))\s*"
    r"ENGINE\s*=\s*(?P<engine>[A-Za-z]*MergeTree)\s*\((?P<args>[^)]*)\)"
    r"(?P<rest>.*)$",
    re.DOTALL | re.IGNORECASE,
)
_CREATE_VIEW = re.compile(
    r"^CREATE\s+MATERIALIZED\s+VIEW\s+IF\s+NOT\s+EXISTS\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+"
    r"TO\s+(?P<target>[A-Za-z_][A-Za-z0-9_]*)\s+AS\s+(?P<select>SELECT\b.*)$",
    re.DOTALL | re.IGNORECASE,
)
_FROM_TABLE = re.compile(r"\bFROM\s+(?P<table>[A-Za-z_][A-Za-z0-9_]*)\b", re.IGNORECASE)
_ORDER_BY = re.compile(
    r"\bORDER\s+BY\s+(?P<key>.+?)\s*(?:\bSETTINGS\b|$)", re.DOTALL | re.IGNORECASE
)
_CLUSTER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def check_cluster_name(name: str) -> str:
    if not _CLUSTER_NAME.match(name):
        raise ValueError(f"invalid ClickHouse cluster name {name!r}")
    return name


def _sharding_key(rest: str) -> str:
    match = _ORDER_BY.search(rest)
    if match is None:
        raise WarehouseError("cluster mode needs an ORDER BY to derive the sharding key")
    key = match.group("key").strip()
    if key.startswith("(") and key.endswith(")"):
        key = key[1:-1].strip()
    return f"cityHash64({key})"


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """The statements to run for each migration statement, and where applied names are recorded."""

    database: str
    cluster: str = ""

    migrations_table = "schema_migrations"
    """Recorded through the `Distributed` table in cluster mode too (inserts are synchronous
    there, `CLUSTER_SETTINGS`), so every node reads every applied migration: a record in one
    node's local table alone would make a process entering through another shard apply a
    migration and its backfill a second time."""

    def setup(self) -> tuple[str, ...]:
        """Extra statements before any table: the database on every node of the cluster."""
        if not self.cluster:
            return ()
        return (f"CREATE DATABASE IF NOT EXISTS {self.database} ON CLUSTER {self.cluster}",)

    def statements(self, statement: str) -> tuple[str, ...]:
        if not self.cluster:
            return (statement,)
        view = _CREATE_VIEW.match(statement.strip())
        if view is not None:
            return (self._local_view(view),)
        match = _CREATE_TABLE.match(statement.strip())
        if match is None:
            raise WarehouseError(
                "cluster mode knows only `CREATE TABLE IF NOT EXISTS ... ENGINE = *MergeTree(...)`"
                " and `CREATE MATERIALIZED VIEW IF NOT EXISTS ... TO ...`;"
                f" teach traytic.warehouse.cluster this statement: {statement[:200]!r}"
            )
        name, rest = match.group("name"), match.group("rest").strip()
        local = name + LOCAL_SUFFIX
        args = [f"'{REPLICA_PATH % (self.database, local)}'", "'{replica}'"]
        if match.group("args").strip():
            args.append(match.group("args").strip())
        return (
            f"CREATE TABLE IF NOT EXISTS {self.database}.{local} ON CLUSTER {self.cluster}\n"
            f"{match.group('columns')}\n"
            f"ENGINE = Replicated{match.group('engine')}({', '.join(args)})\n{rest}",
            f"CREATE TABLE IF NOT EXISTS {self.database}.{name} ON CLUSTER {self.cluster}"
            f" AS {self.database}.{local}\n"
            f"ENGINE = Distributed({self.cluster}, {self.database}, {local},"
            f" {_sharding_key(rest)})",
        )

    def _local_view(self, view: re.Match[str]) -> str:
        """A view on every node, from the local source table into the local target: each shard
        rolls up the rows it stores, and the `Distributed` target reads all shards' states."""
        db = self.database
        select = _FROM_TABLE.sub(
            lambda m: f"FROM {db}.{m['table']}{LOCAL_SUFFIX}", view.group("select"), count=1
        )
        return (
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{view['name']} ON CLUSTER {self.cluster}"
            f" TO {db}.{view['target']}{LOCAL_SUFFIX} AS {select}"
        )
