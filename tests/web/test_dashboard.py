"""The dashboard shows what the stats API answers: KPIs, the period, filters and live visitors."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

import pytest
from playwright.async_api import Browser, ConsoleMessage, expect

from tests.web.checks import expect_kpis, expect_panels
from tests.web.conftest import Dev, log_in


@pytest.fixture(scope="module")
def seeded(dev: Dev) -> Dev:
    home = {"type": "pageview", "url": "http://localhost/", "referrer": "https://google.com/"}
    dev.beacon([home, {"type": "pageview", "url": "http://localhost/pricing"}], chrome_version=120)
    dev.beacon([home], chrome_version=121)
    dev.beacon([home, {"type": "pageview", "url": "http://localhost/blog"}], chrome_version=122)
    dev.wait_for_pageviews(5)
    return dev


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


async def test_the_live_feed_shows_streamed_events(browser: Browser, seeded: Dev) -> None:
    page = await log_in(browser, seeded)
    await expect(page.locator(".live .dot.on")).to_have_count(1)  # the stream is open
    await page.get_by_role("button", name=re.compile("current visitor")).click()
    feed = page.get_by_role("log", name="Live events")
    marker = f"/streamed/{time.monotonic_ns()}"
    await asyncio.to_thread(
        seeded.beacon, [{"type": "pageview", "url": f"http://localhost{marker}"}], 131
    )
    await expect(feed).to_contain_text(marker, timeout=15_000)  # no reload: over SSE


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


# The product brief's live-stream example, verbatim: run in a signed-in page of the dashboard's
# origin, it must log each live event.
BRIEF_STREAM_EXAMPLE = """
const es = new EventSource(`/api/stream/${siteId}`)
es.onmessage = (e) => console.log(JSON.parse(e.data))
"""


async def test_the_briefs_live_stream_example_works_as_written(browser: Browser, dev: Dev) -> None:
    page = await log_in(browser, dev)
    logged: asyncio.Queue[object] = asyncio.Queue()

    async def on_console(message: ConsoleMessage) -> None:
        if message.type == "log" and message.args:
            await logged.put(await message.args[0].json_value())

    page.on("console", on_console)
    await page.evaluate(f"(siteId) => {{ {BRIEF_STREAM_EXAMPLE} }}", dev.site_id)
    marker = f"/brief/{time.monotonic_ns()}"
    received: list[dict[str, object]] = []
    deadline = time.monotonic() + 60  # a loaded CI runner; the stream's own latency is in bench
    while not any(event.get("pathname") == marker for event in received):
        # until the stream has subscribed, a beacon is not live yet: send again
        await asyncio.to_thread(
            dev.beacon, [{"type": "pageview", "url": f"http://localhost{marker}"}], 140
        )
        with contextlib.suppress(TimeoutError):
            while True:
                event = await asyncio.wait_for(logged.get(), 1.0)
                assert isinstance(event, dict), event  # only live events reach onmessage
                received.append(event)
        assert time.monotonic() < deadline, f"onmessage logged no live event: {received}"
    [event] = [e for e in received if e["pathname"] == marker][:1]
    assert event["type"] == "pageview" and event["browser"] == "Chrome"
    assert not {"ip", "userAgent", "visitorId"} & set(event)


async def test_engagement_links_and_errors_panels_show_what_was_sent(
    browser: Browser, dev: Dev
) -> None:
    # One visitor reads /blog/engaged twice (42 s in all, 90% deep), leaves by a link, downloads
    # a file and meets an error: beacons as the tracker sends them.
    url = "http://localhost/blog/engaged"
    engagement = {"type": "engagement", "url": url}
    await asyncio.to_thread(
        dev.beacon,
        [
            {**engagement, "engagedMs": 30_000, "scrollDepth": 40},
            {**engagement, "engagedMs": 12_000, "scrollDepth": 90},
            {"type": "event", "name": "Outbound Link: Click", "url": url,
             "props": {"url": "https://github.com/traytic"}},
            {"type": "event", "name": "File Download", "url": url,
             "props": {"url": "http://localhost/guide.pdf"}},
            {"type": "error", "message": "TypeError: boom", "url": url, "source": "x.js:1:2"},
        ],
        150,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not dev.stats("engagement", "period=30d")["pages"]:
        assert time.monotonic() < deadline, "the engagement did not reach the warehouse"
        await asyncio.sleep(0.2)
    report = dev.stats("engagement", "period=30d")
    assert [(p["value"], p["timeOnPage"], p["scrollDepth"]) for p in report["pages"]] == [
        ("/blog/engaged", 42, 90)
    ]

    page = await log_in(browser, dev)
    await expect_kpis(page, dev.stats("overview", "period=30d"))
    panel = page.locator('[data-panel="engagement"]')
    row = panel.locator('tr[data-page="/blog/engaged"]')
    await expect(row.locator("td").nth(1)).to_have_attribute("data-value", "42")
    await expect(row).to_contain_text("42s")
    await expect(row).to_contain_text("90%")
    await panel.get_by_role("tab", name="Outbound links").click()
    await expect(panel.locator(".row")).to_have_count(1)
    await expect(panel.locator(".row")).to_contain_text("https://github.com/traytic")
    await panel.get_by_role("tab", name="Downloads").click()
    await expect(panel.locator(".row")).to_contain_text("http://localhost/guide.pdf")
    errors = page.locator('[data-panel="errors"]')
    await expect(errors.locator('li[data-error="TypeError: boom"]')).to_contain_text(
        "/blog/engaged"
    )
    # A click on the error filters the dashboard to the visits that met it.
    await errors.get_by_role("button", name=re.compile("^TypeError: boom")).click()
    await page.wait_for_url("**error=TypeError**")
    await expect(page.locator(".chip")).to_contain_text("Met error: TypeError: boom")
    await expect_kpis(page, dev.stats("overview", "period=30d&error=TypeError%3A%20boom"))
