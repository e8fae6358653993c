"""Billing in the dashboard's settings when a payment provider is configured: `traytic dev` with
Polar pointed at the local stand-in of its API (`tests/billing/providers.py`). The plan and the
usage are the billing API's, Upgrade opens Polar's hosted checkout for the organisation, and a
paid subscription (a signed webhook, applied by the worker) shows Pro and the manage link.

Without a provider the settings have no billing section: `test_settings.py` checks that."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, Route, expect

from tests.billing.conftest import POLAR_SECRET, POLAR_TOKEN, polar_webhook
from tests.billing.payloads import polar_subscription_event
from tests.billing.providers import PolarStub
from tests.e2e.conftest import start_dev
from tests.web.conftest import Dev, _ensure_built, log_in


@pytest.fixture(scope="module")
def polar() -> Iterator[PolarStub]:
    stub = PolarStub(POLAR_TOKEN)
    with stub.running():
        yield stub


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, polar: PolarStub) -> Iterator[Dev]:
    """`traytic dev` with billing on (its settings come from the environment it starts in)."""
    _ensure_built()
    data_dir = tmp_path_factory.mktemp("web-billing") / "data"
    settings = {
        "TRAYTIC_POLAR_ACCESS_TOKEN": POLAR_TOKEN,
        "TRAYTIC_POLAR_WEBHOOK_SECRET": POLAR_SECRET,
        "TRAYTIC_POLAR_SERVER": polar.url,
        "TRAYTIC_POLAR_PRODUCT_PRO": "prod_pro",
        "TRAYTIC_POLAR_PRODUCT_TEAM": "prod_team",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setenv(name, value)
        process = start_dev(data_dir)
    try:
        yield Dev(process, json.loads((data_dir / "dev.json").read_text()))
    finally:
        process.stop()


def billing(dev: Dev) -> Any:
    request = urllib.request.Request(
        f"{dev.url}/api/billing", headers={"Authorization": f"Bearer {dev.api_key}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


async def test_plan_usage_upgrade_and_manage(browser: Browser, dev: Dev, polar: PolarStub) -> None:
    dev.beacon([{"type": "pageview", "url": "http://localhost/"}] * 3)
    dev.wait_for_pageviews(3)
    answer = billing(dev)
    assert answer["plan"] == "free"

    page = await log_in(browser, dev)
    await page.goto("/settings")
    section = page.locator("#billing")
    await expect(section.locator("[data-plan]")).to_have_attribute("data-plan", "free")
    usage = section.locator(".usage")
    await expect(usage).to_have_attribute("data-used", str(answer["usage"]["eventsThisMonth"]))
    await expect(usage).to_have_attribute("data-limit", str(answer["usage"]["eventsLimit"]))
    await expect(section.get_by_role("progressbar", name="Events this month")).to_have_attribute(
        "aria-valuenow", str(answer["usage"]["eventsThisMonth"])
    )
    await expect(section.get_by_role("link", name="Manage the subscription")).to_have_count(0)

    # Upgrade: the billing service asks Polar for a checkout; the browser goes there.
    async def polar_page(route: Route) -> None:
        await route.fulfill(body="<title>Polar checkout</title>", content_type="text/html")

    await page.route("https://sandbox.polar.sh/**", polar_page)
    await section.get_by_role("button", name="Upgrade to Pro").click()
    await page.wait_for_url("https://sandbox.polar.sh/checkout/**")
    checkouts = [body for method, path, body in polar.requests if path == "/v1/checkouts/"]
    assert checkouts[-1]["products"] == ["prod_pro"]
    assert checkouts[-1]["external_customer_id"] == answer["organisationId"]

    # Polar says it is paid: the worker applies the webhook, and the page shows Pro.
    org_id = answer["organisationId"]
    polar.customers.add(org_id)
    event = polar_subscription_event(
        "subscription.active", status="active", org_id=org_id, period_end="2099-01-01T00:00:00Z"
    )
    body, headers = polar_webhook(event)
    request = urllib.request.Request(
        f"{dev.url}/webhooks/polar", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    deadline = time.monotonic() + 20
    while billing(dev)["plan"] != "pro":
        assert time.monotonic() < deadline, "the worker did not apply the subscription"
        time.sleep(0.2)

    await page.goto("/settings/billing")
    section = page.locator("#billing")
    await expect(section.locator("[data-plan]")).to_have_attribute("data-plan", "pro")
    await expect(section.locator(".usage")).to_have_attribute("data-limit", "")
    manage = section.get_by_role("link", name="Manage the subscription")
    # Each answer carries a fresh customer session: the same portal, another token. The link is
    # for owners and admins: read as the signed-in owner (an API key never gets one).
    assert billing(dev)["manageUrl"] is None
    as_owner = await (await page.request.get(f"{dev.url}/api/billing")).json()
    portal = as_owner["manageUrl"].split("?")[0]
    await expect(manage).to_have_attribute("href", re.compile("^" + re.escape(portal) + r"\?"))
    await expect(section.get_by_role("button", name="Upgrade to Pro")).to_have_count(0)
    await expect(section.get_by_role("button", name="Upgrade to Team")).to_be_visible()
