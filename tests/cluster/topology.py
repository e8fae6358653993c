"""A whole Traytic install as local processes on loopback ports, in one of two shapes:

- `CLUSTER`: a 3-node NATS JetStream cluster (the `EVENTS` stream and KV buckets with 3
  replicas), ClickHouse as 2 shards x 2 replicas with ZooKeeper (migrations in cluster mode),
  PostgreSQL (a fresh database on the machine's server), 2 gateways, 2 consumers, 2 query
  replicas and 1 billing worker;
- `SINGLE`: one of each (one NATS server, one ClickHouse server, no ZooKeeper), the baseline the
  cluster's answers are compared with.

`make cluster` (`python -m tests.cluster`), the cluster tests' fixture and `bench/cluster.py`
all start it through `Cluster`. Every process enters ClickHouse through the first replica of a
shard (`r1`), and the data of every shard goes to its first live replica (`load_balancing =
in_order`): 18.16 writes a shard's rows into the receiving node itself whenever that node is
one of the shard's replicas, so entering through `r1` keeps every write and every read of a
shard on one replica, and a write is seen by the next read (deploy/README.md says more, and
gives the sizes chosen here).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import psycopg
from nats.js.kv import KeyValue
from psycopg import sql

from tests.cluster.processes import (
    Child,
    ClickHouseNode,
    NatsNode,
    StartFailed,
    TrayticProcess,
    ZooKeeper,
    start_all,
    stop_all,
    tail,
)
from traytic.core import bus
from traytic.db import Database, DbSettings
from traytic.query.passwords import Passwords
from traytic.query.provision import create_site, ensure_demo_account
from traytic.warehouse import WarehouseSettings

ADMIN_DSN = os.environ.get(
    "TRAYTIC_TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
CLUSTER_NAME = "traytic"
DATABASE = "traytic"
DEMO_EMAIL = "ops@cluster.test"
DEMO_PASSWORD = "cluster password"
SITE_DOMAIN = "shop.example"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Shape:
    nats: int = 3
    shards: int = 2
    replicas: int = 2
    gateways: int = 2
    consumers: int = 2
    queries: int = 2
    billing: int = 1

    @property
    def clustered(self) -> bool:
        return self.shards * self.replicas > 1


CLUSTER = Shape()
SINGLE = Shape(nats=1, shards=1, replicas=1, gateways=1, consumers=1, queries=1, billing=0)


@dataclass(frozen=True, slots=True)
class Site:
    site_id: str
    api_key: str
    domain: str


def _admin() -> psycopg.Connection:
    return psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3)


def _sqlalchemy_url(database: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    password = f":{info['password']}" if info.get("password") else ""
    return (
        f"postgresql+psycopg://{info.get('user', 'postgres')}{password}"
        f"@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{database}"
    )


def postgres_problem() -> str | None:
    """Why the machine's PostgreSQL cannot be used, or None."""
    try:
        with _admin():
            return None
    except psycopg.OperationalError as exc:
        return f"PostgreSQL is not reachable at {ADMIN_DSN!r}: {exc}"


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to completion from sync code, also when called inside an event loop (an
    async test starting a second install): in a thread of its own."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def add_loopback_addresses(hosts: list[str]) -> None:
    """Make each of `hosts` (127.0.0.N) an address of `lo`, which it must be for ClickHouse
    18.16 to recognise its own entry in a cluster: each node has an address of its own
    (`ClickHouseNode.host` says why), and a node knows itself by address *and* port only
    among the machine's interface addresses. Idempotent; needs root (CI and this machine)."""
    present = subprocess.run(
        ["ip", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True, check=False
    ).stdout
    for host in hosts:
        if f" {host}/" in present:
            continue
        added = subprocess.run(
            ["ip", "addr", "add", f"{host}/32", "dev", "lo"],
            capture_output=True,
            text=True,
            check=False,
        )
        if added.returncode != 0:
            raise StartFailed(
                f"cannot add {host} to the loopback interface ({added.stderr.strip()}):"
                " the ClickHouse cluster needs one loopback address per node (run as root)"
            )


class Cluster:
    """Start with `with Cluster(root, shape) as cluster:`; everything stops on exit, also when
    the start fails half-way."""

    def __init__(self, root: Path, shape: Shape = CLUSTER, *, python: str = sys.executable):
        self.root = root
        self.shape = shape
        self.python = python
        self.zookeeper: ZooKeeper | None = None
        self.clickhouse: list[list[ClickHouseNode]] = []
        self.nats: list[NatsNode] = []
        self.services: dict[str, TrayticProcess] = {}
        self.postgres_database = ""
        self.site: Site | None = None
        self.organisation_id: uuid.UUID | None = None
        self.started_s = 0.0

    # ---- the parts, by kind

    @property
    def clickhouse_nodes(self) -> list[ClickHouseNode]:
        return [node for shard in self.clickhouse for node in shard]

    def role(self, role: str) -> list[TrayticProcess]:
        return [service for service in self.services.values() if service.role == role]

    @property
    def gateways(self) -> list[TrayticProcess]:
        return self.role("gateway")

    @property
    def consumers(self) -> list[TrayticProcess]:
        return self.role("consumer")

    @property
    def queries(self) -> list[TrayticProcess]:
        return self.role("query")

    @property
    def entry_nodes(self) -> list[ClickHouseNode]:
        """The nodes the services talk to: the first replica of each shard (see the docstring)."""
        return [shard[0] for shard in self.clickhouse]

    @property
    def nats_url(self) -> str:
        return ",".join(node.url for node in self.nats)

    def warehouse_settings(self, node: ClickHouseNode | None = None) -> WarehouseSettings:
        return WarehouseSettings(
            clickhouse_url=(node or self.entry_nodes[0]).url,
            clickhouse_database=DATABASE,
            clickhouse_cluster=CLUSTER_NAME if self.shape.clustered else "",
            clickhouse_timeout=120.0,
        )

    def settings(self, clickhouse: ClickHouseNode | None = None) -> dict[str, str]:
        """The `TRAYTIC_*` settings every service of this install shares."""
        replicas = str(min(3, len(self.nats)))
        found = {
            "TRAYTIC_NATS_URL": self.nats_url,
            "TRAYTIC_STREAM_REPLICAS": replicas,
            "TRAYTIC_KV_REPLICAS": replicas,
            "TRAYTIC_CLICKHOUSE_URL": (clickhouse or self.entry_nodes[0]).url,
            "TRAYTIC_CLICKHOUSE_DATABASE": DATABASE,
            "TRAYTIC_CLICKHOUSE_TIMEOUT": "120",
            "TRAYTIC_DATABASE_URL": _sqlalchemy_url(self.postgres_database),
            "TRAYTIC_DATABASE_POOL_SIZE": "2",
            "TRAYTIC_DATABASE_MAX_OVERFLOW": "4",
            "TRAYTIC_LOG_FORMAT": "json",
            "TRAYTIC_LOG_LEVEL": "info",
            "TRAYTIC_MIGRATE_ON_START": "false",
            "TRAYTIC_TRUSTED_PROXIES": "127.0.0.1",
            "TRAYTIC_ARGON2_MEMORY_KIB": "8192",
            "TRAYTIC_ARGON2_PARALLELISM": "1",
            "TRAYTIC_ARGON2_TIME_COST": "1",
        }
        if self.shape.clustered:
            found["TRAYTIC_CLICKHOUSE_CLUSTER"] = CLUSTER_NAME
        return found

    # ---- start and stop

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        began = time.monotonic()
        self.root.mkdir(parents=True, exist_ok=True)
        problem = postgres_problem()
        if problem:
            raise StartFailed(problem)
        self._start_clickhouse()
        self._start_nats()
        self.postgres_database = f"traytic_cluster_{secrets.token_hex(4)}"
        with _admin() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.postgres_database))
            )
        self._migrate()
        self.site = run_async(self._provision())
        self._start_services()
        self.started_s = time.monotonic() - began
        self.describe_to(self.root / "cluster.json")

    def _start_clickhouse(self) -> None:
        shape = self.shape
        hosts = [f"127.0.0.{n}" for n in range(2, shape.shards * shape.replicas + 2)]
        if shape.clustered:
            add_loopback_addresses(hosts)
            if not ZooKeeper.available():
                raise StartFailed("ZooKeeper is not installed: apt-get install zookeeper")
            self.zookeeper = ZooKeeper(self.root / "zookeeper")
            self.zookeeper.start()
        self.clickhouse = [
            [
                ClickHouseNode(
                    self.root / f"clickhouse-s{s}r{r}",
                    shard=s,
                    replica=r,
                    host=hosts[(s - 1) * shape.replicas + r - 1]
                    if shape.clustered
                    else "127.0.0.1",
                )
                for r in range(1, shape.replicas + 1)
            ]
            for s in range(1, shape.shards + 1)
        ]
        if shape.clustered:
            assert self.zookeeper is not None
            for node in self.clickhouse_nodes:
                node.configure(self.clickhouse, self.zookeeper.port)
        start_all(self.clickhouse_nodes)

    def _start_nats(self) -> None:
        count = self.shape.nats
        self.nats = [
            NatsNode(f"nats-{i}", self.root / f"nats-{i}", cluster_size=count)
            for i in range(1, count + 1)
        ]
        routes = [node.route_port for node in self.nats]
        for node in self.nats:
            node.configure(routes)
        start_all(self.nats)
        self.wait_nats_healthy()

    def wait_nats_healthy(self, timeout: float = 60.0) -> None:
        """Every running node has JetStream current (a meta leader, streams caught up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(node.healthy() for node in self.nats if node.running):
                return
            time.sleep(0.2)
        raise StartFailed("the NATS cluster did not become healthy")

    def _migrate(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRAYTIC_")}
        done = subprocess.run(
            [self.python, "-m", "traytic.cli.main", "migrate"],
            env={**env, **self.settings()},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        (self.root / "migrate.log").write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise StartFailed(f"traytic migrate failed:\n{done.stdout}\n{done.stderr}")

    @contextlib.asynccontextmanager
    async def _registry(self) -> AsyncIterator[tuple[Database, KeyValue]]:
        """The install's database and the gateways' site registry (KV), for provisioning."""
        replicas = min(3, len(self.nats))
        settings = bus.BusSettings(
            nats_url=self.nats_url, stream_replicas=replicas, kv_replicas=replicas
        )
        nc = await bus.connect(settings, name="cluster-provision")
        db = Database.from_settings(
            DbSettings(database_url=_sqlalchemy_url(self.postgres_database))
        )
        js = nc.jetstream(timeout=30.0)
        try:
            # What every service declares at start, declared once first (as a deployment's
            # migrate job would): seven processes racing to create replicated streams on a
            # busy machine time out JetStream's API.
            await bus.ensure_stream(js, settings)
            await bus.ensure_dead_letter_stream(js, settings)
            await bus.ensure_quotas_bucket(js, settings)
            yield db, await bus.ensure_sites_bucket(js, settings)
        finally:
            await db.dispose()
            await bus.close(nc)

    async def _provision(self) -> Site:
        async with self._registry() as (db, kv):
            demo = await ensure_demo_account(
                db,
                email=DEMO_EMAIL,
                password=DEMO_PASSWORD,
                domain=SITE_DOMAIN,
                kv=kv,
                passwords=Passwords(time_cost=1, memory_kib=8192, parallelism=1),
            )
        assert demo.api_key is not None
        self.organisation_id = demo.organisation_id
        return Site(demo.site_id, demo.api_key, SITE_DOMAIN)

    async def add_site(self, domain: str) -> Site:
        """Another site of the demo organisation (same API key): a fresh slate for a test."""
        assert self.site is not None and self.organisation_id is not None
        async with self._registry() as (db, kv):
            site = await create_site(db, self.organisation_id, domain, kv=kv)
        return Site(site.id, self.site.api_key, domain)

    def _start_services(self) -> None:
        shape = self.shape
        entries = self.entry_nodes
        roles = [
            ("gateway", shape.gateways),
            ("consumer", shape.consumers),
            ("query", shape.queries),
            ("billing", shape.billing),
        ]
        for role, count in roles:
            for i in range(1, count + 1):
                name = f"{role}-{i}"
                node = entries[(i - 1) % len(entries)]
                self.services[name] = TrayticProcess(
                    name,
                    role,
                    self.root / "services",
                    self.settings(node),
                    python=self.python,
                )
        # In waves: the ingest path first, then the readers, so that start-ups (CPU-bound
        # imports on a shared machine) do not all time out their first JetStream requests.
        start_all(self.gateways + self.consumers, timeout=120)
        start_all(self.queries + self.role("billing"), timeout=120)

    def stop(self) -> None:
        """Stop everything started, services first; drop the PostgreSQL database."""
        children: list[Child] = [
            *self.services.values(),
            *self.nats,
            *self.clickhouse_nodes,
            *([self.zookeeper] if self.zookeeper else []),
        ]
        try:
            stop_all(children)
        finally:
            if self.postgres_database:
                with _admin() as admin:
                    admin.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(self.postgres_database)
                        )
                    )
                self.postgres_database = ""

    # ---- for people and scripts

    def children(self) -> Iterator[Child]:
        yield from ([self.zookeeper] if self.zookeeper else [])
        yield from self.clickhouse_nodes
        yield from self.nats
        yield from self.services.values()

    def describe(self) -> dict[str, object]:
        assert self.site is not None
        return {
            "site_id": self.site.site_id,
            "api_key": self.site.api_key,
            "email": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
            "gateways": [service.url for service in self.gateways],
            "queries": [service.url for service in self.queries],
            "billing": [service.url for service in self.role("billing")],
            "consumer_metrics": [service.url + "/metrics" for service in self.consumers],
            "nats": [node.url for node in self.nats],
            "clickhouse": {node.name: node.url for node in self.clickhouse_nodes},
            "zookeeper": f"127.0.0.1:{self.zookeeper.port}" if self.zookeeper else None,
            "postgres_database": self.postgres_database,
            "logs": str(self.root),
            "started_s": round(self.started_s, 1),
        }

    def describe_to(self, path: Path) -> None:
        path.write_text(json.dumps(self.describe(), indent=2) + "\n")

    def logs_tail(self, lines: int = 30) -> str:
        """The end of every child's log, for a failing test's report."""
        return "\n\n".join(
            f"== {child.name}\n{tail(child.log, lines)}" for child in self.children()
        )
