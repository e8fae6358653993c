"""The cluster (tests/cluster/topology.py) for the whole module that asks for it, started once.

ZooKeeper comes from Debian's `zookeeper` package: when it is missing and we are root with
apt-get (CI, a fresh machine), it is installed here; only when that is impossible do the cluster
tests skip, saying why. Without PostgreSQL or clickhouse-server they skip as the other tests do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.cluster.processes import ZooKeeper
from tests.cluster.topology import CLUSTER, Cluster, postgres_problem
from tests.fixtures.clickhouse import find_binary


def install_zookeeper() -> str | None:
    """Make ZooKeeper available; the reason it cannot be, or None."""
    if ZooKeeper.available():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "ZooKeeper is not installed and we cannot install it: apt-get install zookeeper"
    done = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "zookeeper"],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if not ZooKeeper.available():
        return f"apt-get install zookeeper failed: {done.stderr.strip()[-500:]}"
    return None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if find_binary() is None:
        pytest.skip("no clickhouse-server installed: apt-get install clickhouse-server")
    problem = postgres_problem() or install_zookeeper()
    if problem:
        pytest.skip(problem)
    with Cluster(tmp_path_factory.mktemp("cluster"), CLUSTER) as running:
        yield running
