"""The dashboard past the sampling limit (`TRAYTIC_SAMPLE_ABOVE` set low): an unfiltered period
says which of its figures are estimates, a filtered one that all are, and "Show exact figures"
reads everything; the API agrees (the rollups' figures stay exact)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.web.conftest import Dev, _ensure_built, deliver, log_in, running_dev
from tests.web.dataset import Dataset, generate

LIMIT = 20
"""Events a report reads whole: the dataset sends several times as many."""


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    _ensure_built()
    data_dir = tmp_path_factory.mktemp("sampled") / "data"
    with running_dev(data_dir, settings={"TRAYTIC_SAMPLE_ABOVE": str(LIMIT)}) as running:
        yield running


@pytest.fixture(scope="module")
def data(dev: Dev) -> Dataset:
    return deliver(dev, generate(seed=5), "period=24h&sampling=exact")


def test_the_api_samples_only_the_visit_figures_of_an_unfiltered_period(
    dev: Dev, data: Dataset
) -> None:
    expected = data.overview()
    assert expected["pageviews"] + expected["events"] > 2 * LIMIT
    sampled = dev.stats("overview", "period=24h")
    exact = dev.stats("overview", "period=24h&sampling=exact")
    assert 0 < sampled["sampled"] < 1 and "sampled" not in exact
    for name in ("visitors", "pageviews", "events"):
        assert sampled[name]["value"] == exact[name]["value"] == expected[name], name
    assert exact["visits"]["value"] == expected["visits"]
    assert "sampled" not in dev.stats("sources", "period=24h")
    assert dev.stats("pages", "period=24h")["sampled"] == sampled["sampled"]


async def test_the_dashboard_says_what_is_estimated(
    browser: Browser, dev: Dev, data: Dataset
) -> None:
    page = await log_in(browser, dev)
    dashboard = page.url.split("?")[0]
    await page.goto(f"{dashboard}?period=24h")
    note = page.get_by_role("note")
    await expect(note).to_contain_text(
        "Visits, bounce rate, visit duration and entry and exit pages are estimated from"
    )
    await page.goto(f"{dashboard}?period=24h&path=%2Fpricing")
    await expect(note).to_contain_text("this filtered report covers more events")
    await note.get_by_role("button", name="Show exact figures").click()
    await expect(note).to_have_count(0)
    assert "sampling=exact" in page.url
    visitors = page.locator('[data-kpi="visitors"] .kpi-value')
    await expect(visitors).to_have_attribute("data-value", str(data.visitors_of("/pricing")))
