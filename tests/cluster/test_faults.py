"""Faults during load, nothing lost or doubled: while a workload streams in through both
gateways, one NATS node is killed (-9), one consumer is killed (-9) mid-batch and started
again, one ClickHouse replica is stopped for a while and brought back, and a gateway restarts.
Every beacon answered 204 is stored exactly once, every visit is whole, the stats equal the
truth, and the live stream keeps flowing to clients of both query replicas. What each fault did
to ingest and to the dashboards is printed (and kept in the cluster's `faults.json`) for
deploy/README.md."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.cluster.answers import mismatches, read_stats, settled_copies, visit_shapes
from tests.cluster.diagnose import lost_beacons
from tests.cluster.topology import Cluster, Site
from tests.cluster.workload import Sender, generate, truth_of

VISITORS = 500
RATE = 25.0
"""Beacons per second: about a minute of load, within what this shared machine sustains."""


async def listen(url: str, site: Site, received: list[float], stop: asyncio.Event) -> None:
    """One SSE client of a query replica: the time of each live event; reconnects if cut."""
    headers = {"Authorization": f"Bearer {site.api_key}"}
    while not stop.is_set():
        try:
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=30.0)) as client,
                client.stream("GET", f"{url}/api/stream/{site.site_id}", headers=headers) as body,
            ):
                async for line in body.aiter_lines():
                    if line.startswith('data: {"ts"'):  # a live event (visitor counts have none)
                        received.append(time.monotonic())
                    if stop.is_set():
                        return
        except httpx.HTTPError:
            await asyncio.sleep(0.5)


async def probe_dashboards(
    cluster: Cluster, site: Site, probes: list[tuple[float, int, str, float]], stop: asyncio.Event
) -> None:
    """Each query replica's overview once a second: (time, replica, status, seconds)."""
    headers = {"Authorization": f"Bearer {site.api_key}"}
    async with httpx.AsyncClient(timeout=30.0, headers=headers) as client:
        while not stop.is_set():
            for index, query in enumerate(cluster.queries):
                started = time.monotonic()
                try:
                    response = await client.get(
                        f"{query.url}/api/events/{site.site_id}/overview", params={"period": "24h"}
                    )
                    status = str(response.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                probes.append((started, index, status, time.monotonic() - started))
            await asyncio.sleep(1.0)


async def inject_faults(
    cluster: Cluster, began: float, log: list[tuple[str, float, float]]
) -> None:
    """The faults, at fixed offsets from the start of the load: (name, start, end)."""

    async def at(offset: float) -> None:
        await asyncio.sleep(max(0.0, began + offset - time.monotonic()))

    nats = cluster.nats[1]
    consumer = cluster.consumers[0]
    replica = cluster.clickhouse[1][1]  # shard 2's second replica: nobody enters through it
    gateway = cluster.gateways[1]

    await at(8)
    start = time.monotonic()
    await asyncio.to_thread(nats.kill)
    log.append(("kill -9 one NATS node", start, time.monotonic()))

    await at(16)
    start = time.monotonic()
    await asyncio.to_thread(consumer.kill)
    await asyncio.sleep(8)
    await asyncio.to_thread(consumer.start, 120)
    log.append(("kill -9 one consumer, start it 8 s later", start, time.monotonic()))

    await at(30)
    start = time.monotonic()
    await asyncio.to_thread(replica.stop)
    await asyncio.sleep(15)
    await asyncio.to_thread(replica.start, 120)
    log.append(("stop one ClickHouse replica for 15 s", start, time.monotonic()))

    await at(50)
    start = time.monotonic()
    await asyncio.to_thread(gateway.stop)
    await asyncio.to_thread(gateway.start, 120)
    log.append(("restart one gateway (SIGTERM, start)", start, time.monotonic()))

    start = time.monotonic()
    await asyncio.to_thread(nats.start, 60)
    await asyncio.to_thread(cluster.wait_nats_healthy, 120)
    log.append(("the killed NATS node back, caught up", start, time.monotonic()))


def report(
    faults: list[tuple[str, float, float]],
    sender: Sender,
    probes: list[tuple[float, int, str, float]],
    began: float,
) -> list[dict[str, Any]]:
    """Per fault, from its start to 10 s after its end: failed beacon attempts by outcome,
    the slowest 204 round trip, and what the dashboards answered."""
    rows = []
    for name, start, end in faults:
        until = end + 10
        failed = Counter(outcome for t, _, outcome in sender.failures if start <= t <= until)
        answers = Counter(
            f"replica {i + 1}: {status}" for t, i, status, _ in probes if start <= t <= until
        )
        slowest = max((s for t, _, _, s in probes if start <= t <= until), default=0.0)
        rows.append(
            {
                "fault": name,
                "at_s": round(start - began, 1),
                "took_s": round(end - start, 1),
                "failed_beacon_attempts": dict(failed),
                "dashboard_answers": dict(answers),
                "slowest_dashboard_s": round(slowest, 2),
            }
        )
    return rows


@pytest.mark.timeout(900)
async def test_nothing_lost_or_doubled_through_faults(cluster: Cluster) -> None:
    site = await cluster.add_site("faults.example")
    workload = generate(site.site_id, site.domain, VISITORS, seed=5)
    sender = Sender([gateway.url for gateway in cluster.gateways], concurrency=4)
    stop = asyncio.Event()
    received: list[list[float]] = [[] for _ in cluster.queries]
    probes: list[tuple[float, int, str, float]] = []
    faults: list[tuple[str, float, float]] = []
    listeners = [
        asyncio.create_task(listen(query.url, site, received[i], stop))
        for i, query in enumerate(cluster.queries)
    ]
    prober = asyncio.create_task(probe_dashboards(cluster, site, probes, stop))
    await asyncio.sleep(2)  # the streams are open before the first beacon
    began = time.monotonic()
    faulting = asyncio.create_task(inject_faults(cluster, began, faults))
    deliveries = await sender.send(workload.beacons, rate=RATE)
    await faulting
    settle_started = time.monotonic()
    copies = await settled_copies(
        cluster.warehouse_settings(), site.site_id, len(workload.beacons), timeout_s=300
    )
    drained_s = time.monotonic() - settle_started
    await asyncio.sleep(3)
    stop.set()
    for task in (*listeners, prober):
        task.cancel()
    await asyncio.gather(*listeners, prober, return_exceptions=True)

    rows = report(faults, sender, probes, began)
    summary = {
        "beacons": len(deliveries),
        "attempts_failed": len(sender.failures),
        "stored_after_load_s": round(drained_s, 1),
        "faults": rows,
        "live_events_per_replica": [len(times) for times in received],
    }
    print(json.dumps(summary, indent=2))
    (cluster.root / "faults.json").write_text(json.dumps(summary, indent=2))
    if len(copies) < len(workload.beacons):
        lost = await lost_beacons(cluster, site, deliveries, copies, began, faults)
        (cluster.root / "lost.json").write_text(json.dumps(lost, indent=2))

    assert all(delivery.stored_answer for delivery in deliveries)
    assert len(copies) == len(workload.beacons), "a beacon answered 204 was lost"
    for delivery in deliveries:
        stored = copies[delivery.beacon.number]
        # Exactly once, unless an earlier attempt failed after its message may have landed
        # (the client retried a 503 or a cut connection): then at most once per such attempt.
        assert 1 <= stored <= 1 + delivery.uncertain, (delivery.beacon.number, delivery.attempts)
    truth = truth_of(workload.beacons, copies)
    for query in cluster.queries:
        assert mismatches(await read_stats(query.url, site.site_id, site.api_key), truth) == []
    assert await visit_shapes(cluster.warehouse_settings(), site.site_id) == truth.visit_shapes
    # The live stream kept flowing to both replicas' clients through every fault.
    load_end = max(delivery.answered_at for delivery in deliveries)
    for times in received:
        for name, start, _ in faults:
            if start < load_end - 2:  # a fault after the last beacons has nothing to carry
                assert any(t > start for t in times), f"no live event after: {name}"
