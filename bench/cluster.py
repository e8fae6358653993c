"""Cluster benchmark: events/s from the EVENTS stream into the sharded, replicated ClickHouse,
with 1 and with 2 consumers, beside the single-node install measured in the same run.

Beacons are sent first with the consumers stopped (the stream buffers them, as during a
consumer outage); then `k` consumers start and the clock runs until every beacon is stored.
That isolates the part that scales with consumers (decode, enrich, insert, visits, ack) from
the gateways. On a 2-core machine shared with the four ClickHouse servers, three NATS servers
and ZooKeeper, two consumers compete for the same cores as the servers they feed: the ratio
printed is what this machine shows, not what two consumer cores would (deploy/README.md
extrapolates with the per-core figures).

    uv run python bench/cluster.py [--visitors 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.cluster.answers import settled_copies  # noqa: E402
from tests.cluster.topology import CLUSTER, SINGLE, Cluster, Shape, run_async  # noqa: E402
from tests.cluster.workload import Sender, generate  # noqa: E402


async def drain(install: Cluster, consumers: int, visitors: int, seed: int) -> tuple[int, float]:
    """(events stored, seconds) for `consumers` consumers draining a pre-filled stream."""
    site = await install.add_site(f"bench{seed}.example")
    workload = generate(site.site_id, site.domain, visitors, seed=seed)
    for consumer in install.consumers:
        await asyncio.to_thread(consumer.stop)
    await Sender([gateway.url for gateway in install.gateways], concurrency=16).send(
        workload.beacons
    )
    started = time.monotonic()
    for consumer in install.consumers[:consumers]:
        await asyncio.to_thread(consumer.start, 120)
    copies = await settled_copies(
        install.warehouse_settings(), site.site_id, len(workload.beacons), timeout_s=600
    )
    # settled_copies waits one extra poll to see the count stable; take that out.
    seconds = time.monotonic() - started - 3.0
    events = sum(len(beacon.events) for beacon in workload.beacons)
    assert len(copies) == len(workload.beacons)
    return events, seconds


def measure(shape: Shape, root: Path, runs: list[int], visitors: int) -> list[float]:
    with Cluster(root, shape) as install:
        rates = []
        for index, consumers in enumerate(runs):
            events, seconds = run_async(drain(install, consumers, visitors, seed=100 + index))
            rates.append(events / seconds)
        return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="traytic-bench-cluster-") as folder:
        (baseline,) = measure(SINGLE, Path(folder) / "single", [1], args.visitors)
        one, two = measure(CLUSTER, Path(folder) / "cluster", [1, 2], args.visitors)
    print("cluster ingest (events/s, stream → ClickHouse, consumers draining a full stream)")
    print(f"  single node, 1 consumer (baseline)  {baseline:8.0f}  1.00x")
    print(f"  2 shards x 2 replicas, 1 consumer   {one:8.0f}  {one / baseline:.2f}x")
    print(f"  2 shards x 2 replicas, 2 consumers  {two:8.0f}  {two / baseline:.2f}x")
    print(f"  2 consumers / 1 consumer: {two / one:.2f}x (target on 2 free cores: ~1.8x)")
    print("  one 2-core machine runs every server here: see deploy/README.md for the arithmetic")
    return 0


if __name__ == "__main__":
    sys.exit(main())
