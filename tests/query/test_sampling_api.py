"""Sampling through the stats API (chDB; the scaled figures are checked against the truth on
both engines in tests/warehouse/stats/test_sampling.py): past `sample_above` a filtered report
says `sampled` (an unfiltered one too when it reads visit figures), `?sampling=exact` reads
everything, a bad value is a 400 that names it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.query.conftest import Api, fast_settings
from tests.query.test_stats import RANGE, chdb_warehouse, site_with_data
from traytic.query.settings import QuerySettings

__all__ = ["chdb_warehouse", "site_with_data"]  # fixtures


@pytest.fixture
def query_settings() -> QuerySettings:
    return fast_settings(sample_above=10)


async def test_a_filtered_report_past_the_limit_says_it_sampled(
    site_with_data: tuple[Any, Any, str], api: Api
) -> None:
    _, site, key = site_with_data
    base = f"/api/events/{site['id']}"
    for name in ("overview", "timeseries", "pages", "sources", "countries", "devices", "events"):
        sampled = await api.call("GET", f"{base}/{name}?{RANGE}&device=desktop", key=key)
        assert sampled.status_code == 200, sampled.text
        assert 0 < sampled.json()["sampled"] < 1, name
        exact = await api.call(
            "GET", f"{base}/{name}?{RANGE}&device=desktop&sampling=exact", key=key
        )
        assert exact.status_code == 200 and "sampled" not in exact.json(), name
    # Unfiltered, only the visit figures (from `sessions`) are sampled; the rollups never are.
    unfiltered = await api.call("GET", f"{base}/overview?{RANGE}", key=key)
    whole = await api.call("GET", f"{base}/overview?{RANGE}&sampling=exact", key=key)
    assert 0 < unfiltered.json()["sampled"] < 1 and "sampled" not in whole.json()
    assert unfiltered.json()["visitors"] == whole.json()["visitors"]
    sources = await api.call("GET", f"{base}/sources?{RANGE}", key=key)
    assert sources.status_code == 200 and "sampled" not in sources.json()
    bad = await api.call("GET", f"{base}/overview?{RANGE}&sampling=some", key=key)
    assert bad.status_code == 400 and bad.json()["field"] == "sampling", bad.text
