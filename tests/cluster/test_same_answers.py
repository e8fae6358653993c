"""The cluster answers like one server: a workload sent through both gateways in turn gives,
from either query replica, the stats counted from what was sent, the same answers as a
single-node install of the same workload, and every visit whole although its events were
enriched by different consumers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster.answers import (
    comparable,
    mismatches,
    read_stats,
    settled_copies,
    visit_shapes,
)
from tests.cluster.topology import SINGLE, Cluster, Site
from tests.cluster.workload import Sender, generate, truth_of

VISITORS = 300


async def run_workload(install: Cluster, site: Site) -> tuple[list[dict[str, object]], object]:
    """Send the workload to `install`, wait until it is stored; the answers of each query
    replica and the visits' shapes."""
    workload = generate(site.site_id, site.domain, VISITORS)
    deliveries = await Sender([gateway.url for gateway in install.gateways]).send(workload.beacons)
    assert all(delivery.attempts == [(delivery.attempts[0][0], "204")] for delivery in deliveries)
    settings = install.warehouse_settings()
    copies = await settled_copies(settings, site.site_id, len(workload.beacons))
    assert set(copies.values()) == {1} and len(copies) == len(workload.beacons)
    truth = truth_of(workload.beacons)
    answers = [await read_stats(query.url, site.site_id, site.api_key) for query in install.queries]
    for answer in answers:
        assert mismatches(answer, truth) == []
    assert await visit_shapes(settings, site.site_id) == truth.visit_shapes
    return answers, truth


@pytest.mark.timeout(900)
async def test_cluster_answers_equal_the_truth_and_a_single_node(
    cluster: Cluster, tmp_path: Path
) -> None:
    site = await cluster.add_site("same.example")
    clustered, _ = await run_workload(cluster, site)
    first, second = (comparable(answer) for answer in clustered)
    assert first == second

    with Cluster(tmp_path / "single", SINGLE) as single:
        assert single.site is not None
        alone = await single.add_site("same.example")
        (answer,), _ = await run_workload(single, alone)
    assert comparable(answer) == first
