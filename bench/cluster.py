"""Cluster benchmark: events/s from the EVENTS stream into the sharded, replicated ClickHouse,
with 1 and with 2 consumers, beside the single-node install measured in the same run.

Beacons are sent first with the consumers stopped (the stream buffers them, as during a
consumer outage); then `k` consumers start. The stored events are counted every 0.25 s, and the
rate is taken from the first count above zero to the count that holds them all: the consumers'
start-up and the final settle poll are out of the clock (they are printed apart). That isolates
the part that scales with consumers (decode, enrich, insert, visits, ack) from the gateways. On a 2-core machine shared with the four ClickHouse servers, three NATS servers
and ZooKeeper, two consumers compete for the same cores as the servers they feed: the ratio
printed is what this machine shows, not what two consumer cores would (deploy/README.md
extrapolates with the per-core figures).

    uv run python bench/cluster.py [--visitors 8000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.cluster.answers import settled_copies  # noqa: E402
from tests.cluster.topology import CLUSTER, SINGLE, Cluster, Shape, run_async  # noqa: E402
from tests.cluster.workload import Sender, generate  # noqa: E402

from traytic.warehouse import Warehouse, open_warehouse  # noqa: E402


class Drain(NamedTuple):
    events: int
    start_up_s: float
    """From starting the consumers to the first stored event."""
    drain_s: float
    """From the first stored event to the last."""
    rate: float
    """Events stored per second of `drain_s` (what was stored by the first count excluded)."""


async def stored_events(store: Warehouse, site_id: str) -> int:
    [row] = await store.query(
        "SELECT count() AS n FROM events WHERE site_id = {site:String}", {"site": site_id}
    )
    return int(row["n"])


async def drain(install: Cluster, consumers: int, visitors: int, seed: int) -> Drain:
    """`consumers` consumers draining a pre-filled stream, timed by counting what is stored."""
    site = await install.add_site(f"bench{seed}.example")
    workload = generate(site.site_id, site.domain, visitors, seed=seed)
    expected = sum(len(beacon.events) for beacon in workload.beacons)
    for consumer in install.consumers:
        await asyncio.to_thread(consumer.stop)
    await Sender([gateway.url for gateway in install.gateways], concurrency=16).send(
        workload.beacons
    )
    store = open_warehouse(install.warehouse_settings())
    try:
        started = time.monotonic()
        await asyncio.gather(
            *(asyncio.to_thread(c.start, 120) for c in install.consumers[:consumers])
        )
        first: tuple[float, int] | None = None
        deadline = started + 600
        while True:
            stored = await stored_events(store, site.site_id)
            now = time.monotonic()
            if first is None and stored:
                first = (now, stored)
            if stored >= expected or now > deadline:
                break
            await asyncio.sleep(0.25)
    finally:
        await store.close()
    copies = await settled_copies(
        install.warehouse_settings(), site.site_id, len(workload.beacons), timeout_s=600
    )
    # A figure for a drain that lost or doubled events would be worthless: stop instead.
    if len(copies) != len(workload.beacons) or set(copies.values()) != {1}:
        raise SystemExit(f"{len(copies)} of {len(workload.beacons)} beacons stored, not once each")
    if first is None or stored != expected:
        raise SystemExit(f"{stored} of {expected} events stored")
    drain_s = max(now - first[0], 1e-3)
    return Drain(expected, first[0] - started, drain_s, (stored - first[1]) / drain_s)


def measure(shape: Shape, root: Path, runs: list[int], visitors: int) -> list[Drain]:
    with Cluster(root, shape) as install:
        return [
            run_async(drain(install, consumers, visitors, seed=100 + index))
            for index, consumers in enumerate(runs)
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=8000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="traytic-bench-cluster-") as folder:
        (single,) = measure(SINGLE, Path(folder) / "single", [1], args.visitors)
        one, two = measure(CLUSTER, Path(folder) / "cluster", [1, 2], args.visitors)
    base = single.rate
    print("cluster ingest: consumers draining a full stream into ClickHouse")
    print(f"  {'':36} {'events':>7} {'events/s':>9} {'ratio':>6} {'drain':>7} {'start-up':>8}")
    for label, run in (
        ("single node, 1 consumer (baseline)", single),
        ("2 shards x 2 replicas, 1 consumer", one),
        ("2 shards x 2 replicas, 2 consumers", two),
    ):
        print(
            f"  {label:36} {run.events:7d} {run.rate:9.0f} {run.rate / base:5.2f}x"
            f" {run.drain_s:6.1f}s {run.start_up_s:7.1f}s"
        )
    print(f"  2 consumers / 1 consumer: {two.rate / one.rate:.2f}x (target on 2 free cores: ~1.8x)")
    print("  one 2-core machine runs every server here: see deploy/README.md for the arithmetic")
    return 0


if __name__ == "__main__":
    sys.exit(main())
