"""The tracker in a real Chromium, through the real gateway and consumer of `traytic dev`.

The page runs on `site.test` (mapped to 127.0.0.1: the tracker stays silent on localhost) and
loads `/script.js` from the gateway, which also receives its beacons. An event is in the
warehouse when its live message arrives: the consumer publishes live only after the insert.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
    "--host-resolver-rules=MAP site.test 127.0.0.1, MAP gateway.test 127.0.0.1",
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
    }

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = pages.get(self.path.split("?", 1)[0], "").encode()
            self.send_response(200 if body else 404)
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
    vitals = {e.name: e.value for e in received if e.type == "vital"}
    assert len(vitals) == sum(e.type == "vital" for e in received)  # once per page view
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
