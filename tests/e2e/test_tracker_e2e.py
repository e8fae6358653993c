"""The tracker in a real Chromium, through the real gateway and consumer of `traytic dev`.

The page runs on `site.test` (mapped to 127.0.0.1: the tracker stays silent on localhost) and
loads `/script.js` from the gateway, which also receives its beacons. An event is in the
warehouse when its live message arrives: the consumer publishes live only after the insert.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import nats
import pytest

from tests.e2e.conftest import DevProcess, allow_hostnames
from traytic.core.events import LIVE_DECODER, LiveEvent

CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP site.test 127.0.0.1, MAP gateway.test 127.0.0.1,"
    " MAP elsewhere.test 127.0.0.1",
    # Headless Chromium says "HeadlessChrome" and would be filtered as a bot, rightly. The flag,
    # unlike a per-page override, also covers beacons sent while the page unloads.
    f"--user-agent={CHROME_UA}",
]


@pytest.fixture(scope="module")
def site(dev: DevProcess) -> Iterator[int]:
    allow_hostnames(dev, ["site.test"])
    script = f"http://gateway.test:{dev.port}/script.js"
    pages = {
        "/": f"""<!doctype html><title>home</title>
<script>window.traytic = window.traytic || {{ q: [], track: function () {{ window.traytic.q.push(arguments) }} }};</script>
<script defer src="{script}" data-site-id="{dev.site_id}"></script>
<script>traytic.track("signup", {{ plan: "pro", seats: 3 }});</script>
<h1>Hello</h1><p>Some text for the largest contentful paint.</p><a id="next" href="/pricing">pricing</a>""",
        "/pricing": "<!doctype html><title>pricing</title><p>pricing</p>",
        # A click that blocks the main thread for 150 ms, and the page's own record of when the
        # browser has timed it, so the test leaves only once INP has a value.
        "/slow": f"""<!doctype html><title>slow</title>
<script>
  window.clickTimed = false;
  new PerformanceObserver((list) => {{
    if (list.getEntries().some((e) => e.name === "click")) window.clickTimed = true;
  }}).observe({{ type: "event", durationThreshold: 16 }});
</script>
<script defer src="{script}" data-site-id="{dev.site_id}"></script>
<h1>Slow</h1><button onclick="const t = performance.now(); while (performance.now() - t < 150) {{}}">slow</button>
<a id="next" href="/pricing">pricing</a>""",
        # 4000 px tall in an 800 px viewport: scrolled to 2400 px, the deepest point seen is 80%.
        "/article": f"""<!doctype html><title>article</title>
<style>body {{ margin: 0 }} #long {{ height: 4000px }}</style>
<script defer src="{script}" data-site-id="{dev.site_id}" data-vitals="false"
  data-outbound-links data-file-downloads data-track-errors></script>
<script>addEventListener("load", () => setTimeout(() => null.boom, 300));</script>
<div id="long"><a id="file" href="/files/report.pdf?v=2" onclick="return false">report</a>
<a id="out" href="http://elsewhere.test:{{port}}/landing">elsewhere</a></div>""",
        "/landing": "<!doctype html><title>elsewhere</title><p>another site</p>",
        "/missing": f"""<!doctype html><title>not found</title>
<script defer src="{script}" data-site-id="{dev.site_id}" data-vitals="false" data-not-found></script>
<p>Nothing here.</p>""",
    }

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            page = pages.get(path, "").replace("{port}", str(self.server.server_address[1]))
            body = page.encode()
            self.send_response(404 if not body or path == "/missing" else 200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


async def collect_live(
    dev: DevProcess, visit: Callable[[Any], Awaitable[None]], want: set[str]
) -> list[LiveEvent]:
    """Open a page in Chromium, `visit` it, and return the live events of the site until their
    types and vital names cover `want` (or 10 s have passed)."""
    from playwright.async_api import async_playwright

    received: list[LiveEvent] = []
    live = await nats.connect(dev.nats_url)

    async def on_live(message: nats.aio.msg.Msg) -> None:
        received.extend(LIVE_DECODER.decode(message.data).events)

    await live.subscribe(f"traytic.live.{dev.site_id}", cb=on_live)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        # Headless Chromium says "HeadlessChrome" and would be filtered as a bot, rightly.
        context = await browser.new_context(
            user_agent=CHROME_UA, viewport={"width": 1280, "height": 800}
        )
        await visit(await context.new_page())
        # Keep the browser open meanwhile: closing it would cancel the beacon in flight.
        for _ in range(100):
            got = {e.type for e in received} | {e.name for e in received if e.type == "vital"}
            if got >= want:
                break
            await asyncio.sleep(0.1)
        await context.close()
        await browser.close()
    await live.close()
    return received


async def test_page_view_event_and_vitals_reach_the_warehouse(dev: DevProcess, site: int) -> None:
    async def visit(page: Any) -> None:
        await page.goto(f"http://site.test:{site}/?utm_source=newsletter&utm_medium=email")
        await page.click("body")  # an interaction, for INP
        # Leave at once: the page view, the event and the vitals all wait in the tracker's
        # queue and must leave with the page (sendBeacon on pagehide), not by the timer.
        await page.click("#next")
        await page.wait_for_load_state()

    want = {"pageview", "event", "vital", "LCP", "CLS", "TTFB", "FCP"}
    received = await collect_live(dev, visit, want)

    kinds = {e.type for e in received}
    assert {"pageview", "event", "vital"} <= kinds, received
    pageview = next(e for e in received if e.type == "pageview")
    assert (pageview.hostname, pageview.pathname, pageview.browser, pageview.channel) == (
        "site.test",
        "/",
        "Chrome",
        "Email",
    )
    assert any(e.type == "event" and e.name == "signup" for e in received)
    # Engagement (on by default) is stored as a vital-like row of its page (migration 0015).
    measured = [e for e in received if e.type == "vital" and e.name != "engagement"]
    vitals = {e.name: e.value for e in measured}
    assert len(vitals) == len(measured)  # once per page view
    assert {"LCP", "CLS", "TTFB", "FCP"} <= set(vitals) <= {"LCP", "CLS", "INP", "TTFB", "FCP"}
    # Real measurements of a page served from this machine, in milliseconds since navigation.
    assert 0 < vitals["TTFB"] <= vitals["FCP"] <= vitals["LCP"] < 30_000
    assert vitals["CLS"] == 0  # nothing moves on this page
    assert all(e.pathname == "/" for e in received if e.type == "vital")
    assert len({e.visitor_id for e in received}) == 1  # one cookieless visitor, one page session


async def test_inp_of_a_slow_click_reaches_the_warehouse(dev: DevProcess, site: int) -> None:
    async def visit(page: Any) -> None:
        await page.goto(f"http://site.test:{site}/slow")
        await page.click("button")
        await page.wait_for_function("() => window.clickTimed")
        await page.click("#next")
        await page.wait_for_load_state()

    received = await collect_live(dev, visit, {"vital", "INP"})

    inp = [e for e in received if e.type == "vital" and e.name == "INP"]
    assert len(inp) == 1, received
    assert 150 <= inp[0].value < 5_000
    assert inp[0].pathname == "/slow"


async def test_engagement_scroll_links_errors_and_404s_reach_the_stats(
    dev: DevProcess, site: int
) -> None:
    """What Chromium did (its clock, its scroll, its clicks) against what the stats API answers
    once the consumer has stored it."""
    timing: dict[str, float] = {}

    async def visit(page: Any) -> None:
        await page.goto(f"http://site.test:{site}/article")
        # Engaged time runs from when script.extras.js started: no sooner than it arrived.
        arrived = await page.wait_for_function(
            """() => {
                const [entry] = performance.getEntriesByType("resource")
                    .filter((e) => e.name.endsWith("/script.extras.js"));
                return entry && window.traytic && entry.responseEnd;
            }"""
        )
        timing["arrived"] = await arrived.json_value()
        await page.mouse.wheel(0, 1200)
        await page.wait_for_timeout(700)
        await page.evaluate("window.scrollTo(0, 2400)")
        await page.wait_for_timeout(1500)
        await page.evaluate("window.scrollTo(0, 0)")  # the deepest point stays 80%
        await page.wait_for_timeout(300)
        await page.click("#file")
        timing["left"] = await page.evaluate("performance.now()")
        await page.click("#out")
        await page.wait_for_url("**/landing")
        await page.goto(f"http://site.test:{site}/missing")
        await page.wait_for_function("() => window.traytic && window.traytic._t")
        await page.wait_for_timeout(1200)  # the tracker's batching delay: the 404 leaves

    want = {"pageview", "event", "error", "vital", "engagement"}
    received = await collect_live(dev, visit, want)
    names = {e.name for e in received if e.type == "event"}
    assert {"File Download", "Outbound Link: Click"} <= names, received
    deadline = asyncio.get_running_loop().time() + 15
    while "404" not in names and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
        names |= {row["name"] for row in dev_stats(dev, "events", "period=24h")["events"]}

    report = dev_stats(dev, "engagement", "period=24h")
    [article] = [p for p in report["pages"] if p["value"] == "/article"]
    assert article["views"] == 1
    assert article["scrollDepth"] == 80
    # Engaged from the extras' start (after `arrived`) until the page was hidden, just after
    # `left` (the outbound click navigates); nothing idle or hidden in between.
    engaged_ms = article["timeOnPage"] * 1000
    assert timing["left"] - timing["arrived"] - 500 <= engaged_ms, (engaged_ms, timing)
    assert engaged_ms <= timing["left"] - timing["arrived"] + 2000, (engaged_ms, timing)
    site_url = f"http://site.test:{site}"
    assert [(r["value"], r["events"]) for r in report["downloads"]] == [
        (f"{site_url}/files/report.pdf", 1)
    ]
    assert [(r["value"], r["events"]) for r in report["outboundLinks"]] == [
        (f"http://elsewhere.test:{site}/landing", 1)
    ]
    assert [(r["value"], r["events"]) for r in report["notFound"]] == [(f"{site_url}/missing", 1)]
    [error] = dev_stats(dev, "errors", "period=24h")["errors"]
    assert (error["page"], error["errors"], error["visitors"]) == ("/article", 1, 1)
    assert "null" in error["message"] and "boom" in error["message"]
    assert error["source"].startswith(f"{site_url}/article:")
    pages = dev_stats(dev, "pages", "period=24h")["pages"]
    [row] = [p for p in pages if p["value"] == "/article"]
    assert (row["timeOnPage"], row["scrollDepth"]) == (article["timeOnPage"], 80)


def dev_stats(dev: DevProcess, report: str, query: str) -> Any:
    info = json.loads((dev.log.parent / dev.log.stem / "dev.json").read_text())
    response = httpx.get(
        f"{dev.url}/api/events/{dev.site_id}/{report}?{query}",
        headers={"Authorization": f"Bearer {info['api_key']}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()
