"""The processes of a local cluster: a child process with its own log, started at low priority,
stopped gracefully or killed with SIGKILL; and the ZooKeeper, NATS and ClickHouse nodes built on
it (each writes its own config under its folder).

Every child runs in its own session, so a Ctrl-C in the terminal of `make cluster` reaches only
the launcher, which then stops the children in order.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.fixtures.clickhouse import ClickHouseServer, find_binary
from traytic.core.embedded_nats import find_nats_server, free_port

NICE = ("nice", "-n", "10")
"""Cluster processes yield to the test driver and the other engineers' work on a shared machine."""

ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")
"""Debian's `zookeeper` package: the jar's manifest names its dependencies' jars."""


class StartFailed(RuntimeError):
    """A process exited or did not become ready in time; the message ends with its log."""


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Child:
    """One child process: `start()` waits for `ready()`, `stop()` is SIGTERM then SIGKILL,
    `kill()` is SIGKILL at once (what a crash or an OOM kill does)."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def command(self) -> Sequence[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str] | None:
        return None

    def ready(self) -> bool:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def launch(self) -> None:
        """Start without waiting (several children then wait together)."""
        if self.running:
            return
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [*NICE, *self.command()],
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,
            )
        self.starts += 1

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise StartFailed(f"{self.name} exited:\n{tail(self.log)}")
            if self.ready():
                return
            time.sleep(0.1)
        raise StartFailed(f"{self.name} not ready in {timeout:.0f} s:\n{tail(self.log)}")

    def start(self, timeout: float = 60.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL to the whole process group (a Granian server's workers go with it)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class ZooKeeper(Child):
    """A standalone ZooKeeper for ClickHouse replication and `ON CLUSTER` DDL (64 MiB heap)."""

    HEAP_MB = 64

    def __init__(self, folder: Path) -> None:
        super().__init__("zookeeper", folder)
        self.port = free_port()
        (folder / "data").mkdir(exist_ok=True)
        (folder / "zoo.cfg").write_text(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\n"
            f"dataDir={folder / 'data'}\nclientPort={self.port}\nclientPortAddress=127.0.0.1\n"
            "admin.enableServer=false\nmaxClientCnxns=0\n4lw.commands.whitelist=srvr\n"
            # ClickHouse keeps tens of thousands of small nodes; no snapshots piling up.
            "autopurge.snapRetainCount=3\nautopurge.purgeInterval=1\n"
        )

    @staticmethod
    def available() -> bool:
        return ZOOKEEPER_JAR.is_file() and shutil.which("java") is not None

    def command(self) -> Sequence[str]:
        return (
            "java",
            f"-Xms{self.HEAP_MB}m",
            f"-Xmx{self.HEAP_MB * 2}m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",  # starts in half the time; ZooKeeper's load is tiny here
            "-Dzookeeper.jmx.log4j.disable=true",
            "-cp",
            str(ZOOKEEPER_JAR),
            "org.apache.zookeeper.server.ZooKeeperServerMain",
            str(self.folder / "zoo.cfg"),
        )

    def ready(self) -> bool:
        """Serving requests (`srvr` names the mode only then): 18.16's DDL worker gives up for
        good when its first ZooKeeper session fails, and every `ON CLUSTER` statement hangs."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"srvr")
                return b"Mode: standalone" in sock.recv(1024)
        except OSError:
            return False


class NatsNode(Child):
    """One JetStream server of a NATS cluster (routes to every node, itself included, which
    nats-server ignores): 64 MiB of memory store, file store in its folder."""

    def __init__(self, name: str, folder: Path, *, cluster_size: int) -> None:
        super().__init__(name, folder)
        self.port = free_port()
        self.monitor_port = free_port()
        self.route_port = free_port() if cluster_size > 1 else 0

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def configure(self, routes: Sequence[int]) -> None:
        cluster = ""
        if self.route_port:
            listed = ", ".join(f'"nats-route://127.0.0.1:{port}"' for port in routes)
            cluster = (
                f'cluster {{\n  name: "traytic"\n  listen: "127.0.0.1:{self.route_port}"\n'
                f"  routes: [{listed}]\n}}\n"
            )
        (self.folder / "nats.conf").write_text(
            f'server_name: "{self.name}"\nlisten: "127.0.0.1:{self.port}"\n'
            f'http: "127.0.0.1:{self.monitor_port}"\n'
            f'jetstream {{\n  store_dir: "{self.folder / "store"}"\n'
            "  max_memory_store: 64MB\n  max_file_store: 2GB\n}\n" + cluster
        )

    def command(self) -> Sequence[str]:
        return (find_nats_server(), "-c", str(self.folder / "nats.conf"))

    def environment(self) -> dict[str, str]:
        # Go's runtime would size itself for the whole machine; one core and a soft cap each.
        return {**os.environ, "GOMAXPROCS": "1", "GOMEMLIMIT": "256MiB"}

    def ready(self) -> bool:
        return listening(self.port) and http_ok(
            f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        )

    def healthy(self) -> bool:
        """JetStream is current on this node: the meta leader is known and its streams caught up."""
        return http_ok(f"http://127.0.0.1:{self.monitor_port}/healthz")


CLICKHOUSE_USER_PROFILE = """<?xml version="1.0"?>
<yandex>
  <users><default><networks replace="replace"><ip>127.0.0.0/8</ip></networks></default></users>
  <profiles><default>
    <max_threads>2</max_threads>
    <max_memory_usage>1000000000</max_memory_usage>
    <background_pool_size>4</background_pool_size>
    <background_schedule_pool_size>4</background_schedule_pool_size>
    <insert_distributed_sync>1</insert_distributed_sync>
    <insert_deduplicate>0</insert_deduplicate>
    <load_balancing>in_order</load_balancing>
    <prefer_localhost_replica>1</prefer_localhost_replica>
    <distributed_ddl_task_timeout>120</distributed_ddl_task_timeout>
  </default></profiles>
</yandex>
"""
"""The settings of Traytic's ClickHouse user on every node (deploy/README.md says why each)."""

CLICKHOUSE_SERVER_CONFIG = """<?xml version="1.0"?>
<yandex>
  <listen_host replace="replace">{host}</listen_host>
  <interserver_http_host>{host}</interserver_http_host>
  <interserver_http_port>{interserver_port}</interserver_http_port>
  <mark_cache_size>33554432</mark_cache_size>
  <uncompressed_cache_size>16777216</uncompressed_cache_size>
  <max_concurrent_queries>32</max_concurrent_queries>
  <remote_servers><traytic>
{shards}
  </traytic></remote_servers>
  <zookeeper>
    <node><host>127.0.0.1</host><port>{zookeeper_port}</port></node>
    <session_timeout_ms>10000</session_timeout_ms>
  </zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
  <macros><shard>{shard:02d}</shard><replica>r{replica}</replica></macros>
</yandex>
"""


class ClickHouseNode(Child):
    """One `clickhouse-server` of the cluster: shard `shard`, replica `replica` (from 1)."""

    def __init__(self, folder: Path, *, shard: int, replica: int, host: str) -> None:
        super().__init__(f"clickhouse-s{shard}r{replica}", folder)
        binary = find_binary()
        if binary is None:
            raise StartFailed("clickhouse-server is not installed")
        self.shard = shard
        self.replica = replica
        self.host = host
        """Its own loopback address (127.0.0.N): 18.16 takes every replica at the same address
        as itself for local, whatever the port, and then writes a shard's rows into its own
        table once per such replica (doubled rows) instead of sending them to the replica."""
        # The fixture's server writes the base config (ports, paths, caches); we add config.d.
        self.server = ClickHouseServer(binary, folder)
        self.interserver_port = free_port()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.http_port}"

    @property
    def tcp_port(self) -> int:
        return self.server.tcp_port

    def configure(self, layout: Sequence[Sequence[ClickHouseNode]], zookeeper_port: int) -> None:
        shards = "\n".join(
            "    <shard><internal_replication>true</internal_replication>"
            + "".join(
                f"<replica><host>{node.host}</host><port>{node.tcp_port}</port></replica>"
                for node in replicas
            )
            + "</shard>"
            for replicas in layout
        )
        (self.folder / "config.d").mkdir(exist_ok=True)
        (self.folder / "config.d" / "cluster.xml").write_text(
            CLICKHOUSE_SERVER_CONFIG.format(
                host=self.host,
                interserver_port=self.interserver_port,
                shards=shards,
                zookeeper_port=zookeeper_port,
                shard=self.shard,
                replica=self.replica,
            )
        )
        (self.folder / "users.d").mkdir(exist_ok=True)
        (self.folder / "users.d" / "traytic.xml").write_text(CLICKHOUSE_USER_PROFILE)

    def command(self) -> Sequence[str]:
        return (self.server.binary, f"--config-file={self.folder / 'config.xml'}")

    def ready(self) -> bool:
        if not (self.folder / "config.d").is_dir():
            return http_ok(self.url + "/ping")
        # Replication and ON CLUSTER need its ZooKeeper session up, not only its HTTP port.
        query = "SELECT count() FROM system.zookeeper WHERE path = '/'"
        return http_ok(f"{self.url}/?query={urllib.parse.quote(query)}")

    def stop(self, timeout: float = 5.0) -> None:
        # 18.16 waits out open keep-alive clients on SIGTERM: a few seconds, then SIGKILL.
        super().stop(timeout)


class TrayticProcess(Child):
    """`traytic <role>` with its own settings; `port` is its HTTP port (the consumer's: metrics)."""

    def __init__(
        self,
        name: str,
        role: str,
        folder: Path,
        settings: dict[str, str],
        *,
        python: str,
    ) -> None:
        super().__init__(name, folder)
        self.role = role
        self.port = free_port()
        self.python = python
        self.settings = {
            **settings,
            # Each process its own metrics port, as each container has (HTTP services too).
            "TRAYTIC_METRICS_PORT": str(self.port if role == "consumer" else free_port()),
        }
        if role != "consumer":
            self.settings["TRAYTIC_PORT"] = str(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> Sequence[str]:
        return (self.python, "-m", "traytic.cli.main", self.role)

    def environment(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("TRAYTIC_")}
        return {**inherited, **self.settings}

    def ready(self) -> bool:
        if self.role == "consumer":
            return http_ok(self.url + "/metrics") and "consumer_started" in tail(self.log, 400)
        return http_ok(self.url + "/readyz")


def start_all(children: Sequence[Child], timeout: float = 90.0) -> None:
    """Launch every child, then wait for each: their start-ups overlap."""
    for child in children:
        child.launch()
    for child in children:
        child.wait_ready(timeout)


def stop_all(children: Sequence[Child], stop: Callable[[Child], None] | None = None) -> None:
    """Stop every child (in the order given), even when some stop fails."""
    errors = []
    for child in children:
        try:
            (stop or Child.stop)(child)
        except Exception as exc:  # keep stopping the others, then report
            errors.append(f"{child.name}: {exc}")
    if errors:
        raise RuntimeError("; ".join(errors))
