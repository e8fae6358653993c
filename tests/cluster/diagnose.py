"""What to look at when a beacon answered 204 is missing: which ones (number, gateway, when,
against the fault windows), the `EVENTS` stream and the consumers' state in JetStream, and
each ClickHouse node's own rows. Written to the cluster's `lost.json` by the fault test."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import nats

from tests.cluster.topology import Cluster, Site
from tests.cluster.workload import HOSTING, Delivery
from traytic.core import bus


async def _jetstream(cluster: Cluster) -> dict[str, Any]:
    names = bus.names("")
    found: dict[str, Any] = {}
    nc = await nats.connect(
        cluster.nats_url.split(","), connect_timeout=5, max_reconnect_attempts=1
    )
    try:
        js = nc.jetstream(timeout=10.0)
        stream = await js.stream_info(names.stream)
        found["stream"] = {
            "messages": stream.state.messages,
            "first_seq": stream.state.first_seq,
            "last_seq": stream.state.last_seq,
            "leader": stream.cluster.leader if stream.cluster else None,
            "replicas": [
                {"name": r.name, "current": r.current, "lag": r.lag}
                for r in (stream.cluster.replicas or [] if stream.cluster else [])
            ],
        }
        consumers = []
        for info in await js.consumers_info(names.stream):
            consumers.append(
                {
                    "name": info.name,
                    "pending": info.num_pending,
                    "ack_pending": info.num_ack_pending,
                    "redelivered": info.num_redelivered,
                    "waiting": info.num_waiting,
                    "delivered": info.delivered.stream_seq if info.delivered else None,
                    "ack_floor": info.ack_floor.stream_seq if info.ack_floor else None,
                    "leader": info.cluster.leader if info.cluster else None,
                }
            )
        found["consumers"] = consumers
        with contextlib.suppress(Exception):
            dead = await js.stream_info(names.dead_letter_stream)
            found["dead_letters"] = dead.state.messages
    finally:
        await nc.close()
    return found


async def _node_rows(cluster: Cluster, site: Site) -> dict[str, Any]:
    """Each ClickHouse node's local `events` rows of the beacons' marker: who holds what."""
    found: dict[str, Any] = {}
    sql = (
        "SELECT count() FROM {db}.events_local WHERE site_id = '{site}'"
        " AND type = 'event' AND name = 'beacon' FORMAT TSV"
    )
    async with httpx.AsyncClient(timeout=30.0) as client:
        for node in cluster.clickhouse_nodes:
            try:
                response = await client.post(
                    node.url, content=sql.format(db="traytic", site=site.site_id)
                )
                found[node.name] = response.text.strip()
            except httpx.HTTPError as exc:
                found[node.name] = type(exc).__name__
    return found


async def lost_beacons(
    cluster: Cluster,
    site: Site,
    deliveries: list[Delivery],
    copies: dict[int, int],
    began: float,
    faults: list[tuple[str, float, float]],
) -> dict[str, Any]:
    missing = [d for d in deliveries if d.beacon.number not in copies]
    found: dict[str, Any] = {
        "missing": len(missing),
        "faults": [(name, round(s - began, 1), round(e - began, 1)) for name, s, e in faults],
        "beacons": [
            {
                "n": d.beacon.number,
                "visitor": d.beacon.visitor,
                "attempts": d.attempts,
                "answered_s": round(d.answered_at - began, 1),
                # Dropped by the gateway's datacenter filter, with a 204, by design.
                "hosting_address": d.beacon.ip in HOSTING,
            }
            for d in missing
        ],
    }
    for name, work in (("jetstream", _jetstream(cluster)), ("nodes", _node_rows(cluster, site))):
        try:
            found[name] = await work
        except Exception as exc:  # a diagnosis must not hide the failure it explains
            found[name] = repr(exc)
    return found
