"""Settings: a new site shows its snippet (and an empty dashboard shows it too); API keys are
shown once and can be revoked (and no billing section without a payment provider); a public site reads without login; an invited viewer joins (by a click, not by opening the link) and
gets no controls they may not use."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

from playwright.async_api import Browser, expect

from tests.web.conftest import Dev, invitation_link, log_in, signup_link


async def test_a_new_site_shows_its_snippet(browser: Browser, dev: Dev) -> None:
    page = await log_in(browser, dev)
    await page.get_by_role("link", name="Settings").click()
    await page.get_by_label("Domain").fill("blog.example.org")
    await page.get_by_role("button", name="Add site").click()
    snippet = page.locator(".created pre")
    await expect(snippet).to_contain_text('data-site-id="st_')
    await expect(snippet).to_contain_text("/script.js")
    await page.locator(".created").get_by_role("tab", name="Next.js").click()
    await expect(snippet).to_contain_text("@traytic/analytics/next")

    await page.get_by_label("Site").select_option(label="blog.example.org")
    await page.wait_for_url("**/sites/st_**")
    empty = page.locator(".empty")
    await expect(empty).to_contain_text("No data yet")
    await expect(empty.locator("pre")).to_contain_text("data-site-id")


async def test_a_key_is_shown_once_and_can_be_revoked(browser: Browser, dev: Dev) -> None:
    page = await log_in(browser, dev)
    await page.goto("/settings")
    await page.get_by_label("Name").fill("e2e")
    await page.get_by_role("button", name="Create key").click()
    secret = page.locator(".secret code")
    await expect(secret).to_contain_text("tk_live_")
    key = await secret.inner_text()

    def me_status() -> int:
        request = urllib.request.Request(
            f"{dev.url}/api/auth/me", headers={"Authorization": f"Bearer {key}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    assert me_status() == 200
    # Billing is off in plain `traytic dev` (no payment provider): no billing section.
    await expect(page.get_by_role("heading", name="Members")).to_be_visible()
    await expect(page.locator("#billing")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator('tr[data-key="e2e"]')
    await row.get_by_role("button", name="Revoke").click()
    await expect(row).to_have_count(0)  # the list shows live keys only
    assert me_status() == 401

    await page.reload()
    await expect(page.locator(".secret")).to_have_count(0)


async def test_a_public_site_can_be_read_without_logging_in(browser: Browser, dev: Dev) -> None:
    anonymous = await browser.new_context(base_url=dev.url)
    stranger = await anonymous.new_page()
    await stranger.goto(f"/share/{dev.site_id}")
    await expect(stranger.get_by_role("alert")).to_contain_text("not public")

    page = await log_in(browser, dev)
    await page.goto(f"/settings/sites/{dev.site_id}")
    await page.get_by_label("Public").check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("Saved")
    await expect(page.get_by_role("link", name=f"/share/{dev.site_id}")).to_be_visible()

    await stranger.reload()
    overview = dev.stats("overview", "period=30d")
    value = stranger.locator('[data-kpi="pageviews"] .kpi-value')
    await expect(value).to_have_attribute("data-value", str(overview["pageviews"]["value"]))
    await expect(stranger.get_by_role("link", name="Settings")).to_have_count(0)


async def test_an_invited_viewer_joins_and_cannot_change_settings(
    browser: Browser, dev: Dev
) -> None:
    page = await log_in(browser, dev)
    await page.goto("/settings")
    await page.get_by_label("Invite by email").fill("viewer@example.org")
    await page.get_by_label("Invited role").select_option("viewer")
    await page.get_by_role("button", name="Invite").click()
    await expect(page.get_by_role("status")).to_contain_text("viewer@example.org")

    link = await invitation_link(dev, "viewer@example.org")

    context = await browser.new_context(base_url=dev.url)
    viewer = await context.new_page()
    await viewer.goto(link)
    await expect(viewer.get_by_role("status")).to_contain_text("invited")
    await viewer.get_by_role("link", name="Sign up").click()
    await viewer.get_by_label("Email").fill("viewer@example.org")
    await viewer.get_by_label("Password").fill("a long passphrase for tests")
    await viewer.get_by_role("button", name="Sign up").click()
    await expect(viewer.get_by_role("status")).to_contain_text("Check your email")
    confirm = await signup_link(dev, "viewer@example.org")
    await viewer.goto(confirm)
    await viewer.get_by_role("button", name="Create my account").click()

    # Opening the link joined nothing: the invited person accepts with a click.
    await expect(viewer.get_by_role("button", name="Accept the invitation")).to_be_visible()
    organisation = viewer.get_by_label("Organisation")
    await expect(organisation).to_have_count(0)  # one organisation: no chooser yet
    await viewer.get_by_role("button", name="Accept the invitation").click()
    await expect(viewer.get_by_role("button", name="Accept the invitation")).to_have_count(0)
    await expect(organisation.locator("option")).to_have_count(2)
    await organisation.select_option(label="Demo")
    await viewer.get_by_role("link", name="Settings").click()
    await expect(viewer.locator('tr[data-member="viewer@example.org"]')).to_contain_text("viewer")
    await expect(viewer.get_by_role("button", name="Create key")).to_have_count(0)
    await expect(viewer.get_by_role("button", name="Add site")).to_have_count(0)
    await expect(viewer.get_by_role("button", name="Invite")).to_have_count(0)
    await expect(viewer.get_by_role("heading", name="API keys")).to_have_count(0)

    # Straight to a site's settings: shown, but nothing there can be changed.
    await viewer.goto(f"/settings/sites/{dev.site_id}")
    await expect(viewer.get_by_label("Domain")).to_be_disabled()
    await expect(viewer.get_by_role("button", name="Save")).to_be_disabled()
    await expect(viewer.get_by_role("button", name="Delete site")).to_be_disabled()


async def test_where_beacons_may_come_from_is_edited_in_site_settings(
    browser: Browser, dev: Dev
) -> None:
    page = await log_in(browser, dev)
    await page.goto("/settings")
    await page.get_by_label("Domain").fill("rules.example.org")
    await page.get_by_role("button", name="Add site").click()
    await expect(page.locator(".created pre")).to_contain_text('data-site-id="st_')
    site_id = re.search(r'data-site-id="(st_\w+)"', await page.locator(".created pre").inner_text())
    assert site_id is not None
    await page.goto(f"/settings/sites/{site_id.group(1)}")

    hostnames = page.get_by_label("Other hostnames")
    localhost = page.get_by_label("Accept beacons from localhost")
    datacenter = page.get_by_label("Drop beacons from hosting and cloud networks")
    await expect(hostnames).to_have_value("")
    await expect(localhost).not_to_be_checked()
    await expect(datacenter).to_be_checked()

    await hostnames.fill("https://shop.example.net/")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("alert")).to_contain_text("allowedHostnames[0]")

    await hostnames.fill("Shop.Example.NET\n*.preview.example.org")
    await localhost.check()
    await datacenter.uncheck()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("Saved")

    await page.reload()
    await expect(hostnames).to_have_value("shop.example.net\n*.preview.example.org")
    await expect(localhost).to_be_checked()
    await expect(datacenter).not_to_be_checked()
