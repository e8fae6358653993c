"""Reading an install's answers (the stats API of a query replica, the visits table) and holding
them against the truth a workload computes (`workload.truth_of`) or against another install's."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from tests.cluster.workload import Truth
from traytic.warehouse import WarehouseSettings, open_warehouse

ENDPOINTS = ("overview", "pages", "sources", "countries", "devices", "vitals", "events")
TIMING = {"range", "previousRange", "visitDuration", "entryPages", "exitPages"}
"""Parts of an answer that depend on when it was asked or on beacons' arrival times to the
second (a visit's duration, which of two pageviews in one second came first): two runs of one
workload differ there, so comparisons between installs leave them out."""


async def read_stats(query_url: str, site_id: str, api_key: str) -> dict[str, Any]:
    """Every stats endpoint of one query replica over the last 24 hours, as JSON."""
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=query_url, headers=headers, timeout=60.0) as client:

        async def one(endpoint: str) -> Any:
            response = await client.get(
                f"/api/events/{site_id}/{endpoint}", params={"period": "24h", "limit": 100}
            )
            response.raise_for_status()
            return response.json()

        answers = await asyncio.gather(*(one(endpoint) for endpoint in ENDPOINTS))
    return dict(zip(ENDPOINTS, answers, strict=True))


def comparable(stats: dict[str, Any]) -> Any:
    """The answers without `TIMING`, lists sorted, so equal installs compare equal."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMING}
        if isinstance(value, list):
            return sorted((strip(item) for item in value), key=repr)
        return value

    return strip(stats)


def mismatches(stats: dict[str, Any], truth: Truth) -> list[str]:
    """Where the answers differ from the truth; empty when they agree."""
    found: list[str] = []

    def check(what: str, got: Any, expected: Any) -> None:
        if got != expected:
            found.append(f"{what}: {got!r} != {expected!r}")

    overview = stats["overview"]
    check("visitors", overview["visitors"]["value"], truth.visitors)
    check("visits", overview["visits"]["value"], truth.visits)
    check("pageviews", overview["pageviews"]["value"], truth.pageviews)
    check("events", overview["events"]["value"], truth.events)
    check(
        "bounce rate",
        round(overview["bounceRate"]["value"], 6),
        round(truth.bounces / truth.visits, 6),
    )
    pages = {row["value"]: (row["visitors"], row["pageviews"]) for row in stats["pages"]["pages"]}
    check("pages", pages, truth.pages)
    names = {row["name"]: (row["events"], row["visitors"]) for row in stats["events"]["events"]}
    check("custom events", names, truth.event_names)
    vitals = {
        row["metric"]: {
            "samples": row["samples"],
            **{k: round(row[k], 6) for k in ("good", "needsImprovement", "poor")},
        }
        for row in stats["vitals"]["overall"]
    }
    expected_vitals = {
        metric: {
            "samples": values["samples"],
            "good": round(values["good"], 6),
            "needsImprovement": round(values["needs_improvement"], 6),
            "poor": round(values["poor"], 6),
        }
        for metric, values in truth.vitals.items()
    }
    check("vitals", vitals, expected_vitals)
    return found


async def visit_shapes(settings: WarehouseSettings, site_id: str) -> Counter[tuple[int, int]]:
    """(pageviews, custom events) of each stored visit, as the visits table has them."""
    store = open_warehouse(settings)
    try:
        rows = await store.query(
            "SELECT pageviews, events FROM sessions FINAL WHERE site_id = {site:String}",
            {"site": site_id},
        )
    finally:
        await store.close()
    return Counter((int(row["pageviews"]), int(row["events"])) for row in rows)


async def beacon_copies(settings: WarehouseSettings, site_id: str) -> dict[int, int]:
    """How many times each numbered beacon's marker event is stored: rows read without
    `FINAL`, so a duplicate shows until a merge would hide it (the rollups would not)."""
    store = open_warehouse(settings)
    try:
        rows = await store.query(
            "SELECT props.value[indexOf(props.key, 'n')] AS n, count() AS copies FROM events"
            " WHERE site_id = {site:String} AND type = 'event' AND name = 'beacon' GROUP BY n",
            {"site": site_id},
        )
    finally:
        await store.close()
    return {int(row["n"]): int(row["copies"]) for row in rows}


async def settled_copies(
    settings: WarehouseSettings, site_id: str, expected: int, *, timeout_s: float = 240.0
) -> dict[int, int]:
    """`beacon_copies` once every one of `expected` beacons is stored and two reads a few
    seconds apart agree (a redelivered batch would still be on its way otherwise)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    previous: dict[int, int] | None = None
    while True:
        copies = await beacon_copies(settings, site_id)
        if len(copies) >= expected and copies == previous:
            return copies
        if asyncio.get_running_loop().time() > deadline:
            return copies
        previous = copies if len(copies) >= expected else None
        await asyncio.sleep(3.0 if previous is not None else 1.0)
