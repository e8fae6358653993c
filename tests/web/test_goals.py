"""Goals end to end: a `track()` with revenue in a real Chromium, through the gateway and the
consumer of `traytic dev`, to the Goals panel and a funnel page of the dashboard (whose bars
sit over a table that carries the same figures for keyboards and screen readers)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.conftest import allow_hostnames
from tests.e2e.test_tracker_e2e import ARGS as TRACKER_ARGS
from tests.web.conftest import CHROMIUM, Dev, log_in


@pytest.fixture(scope="module")
def shop(dev: Dev) -> Iterator[int]:
    """`shop.test`: a pricing page, then a checkout that reports a purchase in euros."""
    allow_hostnames(dev.process, ["shop.test"])
    script = f"http://gateway.test:{dev.process.port}/script.js"
    head = f'<script defer src="{script}" data-site-id="{dev.site_id}"></script>'
    pages = {
        "/pricing": f'<!doctype html><title>pricing</title>{head}<a id="buy" href="/checkout">buy</a>',
        "/checkout": f"""<!doctype html><title>checkout</title>{head}
<button id="pay" onclick='traytic.track("purchase", {{ plan: "pro" }}, {{ revenue: {{ amount: "29.90", currency: "EUR" }} }}); document.title = "paid"'>pay</button>""",
    }

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # the handler's contract
            body = pages.get(self.path.split("?", 1)[0], "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


async def write(page: Page, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """An admin's write through the dashboard's session (cookie and CSRF header)."""
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    response = await page.request.fetch(
        path, method=method, data=body, headers={"X-CSRF-Token": cookies["traytic_csrf"]}
    )
    assert response.ok, await response.text()
    found: dict[str, Any] = await response.json()
    return found


async def test_a_purchase_in_chromium_reaches_the_goals_and_the_funnel(dev: Dev, shop: int) -> None:
    async with async_playwright() as playwright:
        buyer: Browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *TRACKER_ARGS,
                "--host-resolver-rules=MAP shop.test 127.0.0.1, MAP gateway.test 127.0.0.1",
            ],
        )
        page = await buyer.new_page()
        await page.goto(f"http://shop.test:{shop}/pricing")
        await page.click("#buy")
        await page.wait_for_url("**/checkout")
        await page.click("#pay")
        await expect(page).to_have_title("paid")
        # Leaving the page sends what is queued, as the pricing page's did. Closing the page
        # instead lost that beacon on loaded CI runs (two clean-clone runs in a row): a close
        # need not give the page's unload handlers their turn.
        await page.goto("about:blank")
        deadline = time.monotonic() + 30
        while not any(e["name"] == "purchase" for e in dev.stats("events")["events"]):
            assert time.monotonic() < deadline, "the purchase did not reach the warehouse"
            await asyncio.sleep(0.3)
        await buyer.close()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        admin = await log_in(browser, dev)
        me = await (await admin.request.get("/api/auth/me")).json()
        org = me["organisations"][0]["id"]
        base = f"/api/orgs/{org}/sites/{dev.site_id}"
        await write(admin, "PATCH", base, {"currency": "EUR"})
        pricing = await write(
            admin,
            "POST",
            f"{base}/goals",
            {"name": "Pricing", "kind": "pageview", "match": "/pricing"},
        )
        purchase = await write(
            admin, "POST", f"{base}/goals",
            {"name": "Purchase", "kind": "revenue", "match": "purchase", "propKey": "plan", "propValue": "pro"},
        )  # fmt: skip
        funnel = await write(
            admin, "POST", f"{base}/funnels",
            {"name": "Checkout", "steps": [pricing["id"], purchase["id"]], "windowMinutes": 30},
        )  # fmt: skip

        await admin.goto(f"/sites/{dev.site_id}?period=24h")
        row = admin.locator(f"tr[data-goal='{purchase['id']}']")
        await expect(row).to_contain_text("Purchase")
        await expect(row).to_contain_text("29.90")
        await expect(row).to_contain_text("€")

        await admin.get_by_role("link", name="Checkout").click()
        await admin.wait_for_url(f"**/funnels/{funnel['id']}**")
        table = admin.get_by_role("table", name="Visitors at each step")
        await expect(table.get_by_role("row", name="1. Pricing")).to_contain_text("100%")
        await expect(table.get_by_role("row", name="2. Purchase")).to_contain_text("100%")
        await table.get_by_role("link", name="Sources of Purchase").click()
        await admin.wait_for_url(f"**goal={purchase['id']}**")
        await expect(admin.get_by_text("Converted goal:")).to_be_visible()
        await browser.close()
