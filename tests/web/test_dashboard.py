"""The dashboard shows what the stats API answers: KPIs, the period, filters and live visitors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.web.conftest import Dev, log_in

KPIS = ("visitors", "visits", "pageviews", "viewsPerVisit", "bounceRate", "visitDuration")


def js_number(value: float) -> str:
    """How JavaScript's String() writes a JSON number (shortest round-trip, no trailing .0)."""
    return str(int(value)) if float(value).is_integer() else repr(value)


@pytest.fixture(scope="module")
def seeded(dev: Dev) -> Dev:
    home = {"type": "pageview", "url": "http://localhost/", "referrer": "https://google.com/"}
    dev.beacon([home, {"type": "pageview", "url": "http://localhost/pricing"}], chrome_version=120)
    dev.beacon([home], chrome_version=121)
    dev.beacon([home, {"type": "pageview", "url": "http://localhost/blog"}], chrome_version=122)
    dev.wait_for_pageviews(5)
    return dev


async def expect_kpis(page: Page, overview: dict[str, Any]) -> None:
    for key in KPIS:
        value = page.locator(f'[data-kpi="{key}"] .kpi-value')
        await expect(value).to_have_attribute("data-value", js_number(overview[key]["value"]))


# Each panel's first tab: the report and its list.
PANELS = {
    "pages": "pages",
    "sources": "sources",
    "countries": "countries",
    "devices": "devices",
    "events": "events",
}


async def expect_panels(page: Page, dev: Dev, query: str) -> None:
    """Every panel shows the visitors the API answers for the same query."""
    for report, field in PANELS.items():
        rows = dev.stats(report, f"{query}&limit=10")[field]
        counts = [str(row["visitors"]) for row in rows]
        if report == "events":  # each event, then its props
            counts = [
                str(n)
                for row in rows
                for n in [row["visitors"], *(p["visitors"] for p in row["props"])]
            ]
        buttons = page.locator(f'[data-panel="{report}"] .row')
        await expect(buttons).to_have_count(len(counts))
        for i, count in enumerate(counts):
            await expect(buttons.nth(i)).to_have_attribute("data-count", count)


async def test_kpis_equal_the_overview(browser: Browser, seeded: Dev) -> None:
    page = await log_in(browser, seeded)
    overview = seeded.stats("overview", "period=30d")
    assert overview["pageviews"]["value"] == 5
    await expect_kpis(page, overview)
    await expect(page.locator('[data-panel="pages"]')).to_contain_text("/pricing")
    await expect_panels(page, seeded, "period=30d")


async def test_the_period_lives_in_the_url(browser: Browser, seeded: Dev) -> None:
    page = await log_in(browser, seeded)
    await page.get_by_label("Period").select_option("7d")
    await page.wait_for_url("**period=7d**")
    await expect_kpis(page, seeded.stats("overview", "period=7d"))
    await page.reload()
    await expect(page.get_by_label("Period")).to_have_value("7d")


async def test_clicking_a_page_filters_the_dashboard(browser: Browser, seeded: Dev) -> None:
    page = await log_in(browser, seeded)
    await page.locator('[data-panel="pages"] .row', has_text="/pricing").click()
    await page.wait_for_url("**path=%2Fpricing**")
    chip = page.locator(".chip")
    await expect(chip).to_contain_text("Page: /pricing")
    filtered = seeded.stats("overview", "period=30d&path=/pricing")
    assert filtered["visitors"]["value"] == 1
    await expect_kpis(page, filtered)

    await expect_panels(page, seeded, "period=30d&path=/pricing")

    await chip.get_by_role("button").click()
    await expect(chip).to_have_count(0)
    await expect_kpis(page, seeded.stats("overview", "period=30d"))


async def test_the_live_count_goes_up_without_a_reload(browser: Browser, seeded: Dev) -> None:
    page = await log_in(browser, seeded)
    count = page.locator("[data-live-visitors]")
    await expect(count).not_to_have_attribute("data-live-visitors", "")
    before = int(await count.get_attribute("data-live-visitors") or 0)
    await asyncio.to_thread(
        seeded.beacon, [{"type": "pageview", "url": "http://localhost/live"}], 130
    )
    await expect(count).to_have_attribute("data-live-visitors", str(before + 1), timeout=15_000)


async def test_a_custom_range_lives_in_the_url(browser: Browser, seeded: Dev) -> None:
    page = await log_in(browser, seeded)
    await page.get_by_label("Period").select_option("custom")
    await page.wait_for_url("**from=**")
    start = await page.get_by_label("From", exact=True).input_value()
    end = await page.get_by_label("To", exact=True).input_value()
    assert "period=" not in page.url
    await expect_kpis(page, seeded.stats("overview", f"from={start}&to={end}"))


async def test_compare_draws_the_previous_period(browser: Browser, seeded: Dev) -> None:
    page = await log_in(browser, seeded)
    await page.get_by_label("Compare").check()
    await page.wait_for_url("**compare=1**")
    await expect(page.locator(".u-legend")).to_contain_text("Visitors (previous)")
    await page.get_by_label("Compare").uncheck()
    await expect(page.locator(".u-legend")).not_to_contain_text("previous")
