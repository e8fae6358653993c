"""Goals and funnels managed in Chromium: an admin adds, edits and deletes them through the
site's settings (bad input names its field; a goal a funnel uses is refused with the reason),
sets the reporting currency and a goal alert, and an invited viewer sees the same lists
without a form."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Browser, expect

from tests.web.conftest import Dev, invitation_link, log_in, signup_link


async def test_an_admin_manages_goals_and_funnels_a_viewer_reads_them(
    browser: Browser, dev: Dev
) -> None:
    page = await log_in(browser, dev)
    await page.goto(f"/settings/sites/{dev.site_id}")
    await page.get_by_label("Reporting currency").fill("eur")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("Saved.")
    await page.get_by_role("link", name="Goals and funnels").click()
    await page.wait_for_url("**/goals")

    goals = page.get_by_role("form", name="Add a goal")
    await goals.get_by_label("Name").fill("Pricing")
    await goals.get_by_label("Path pattern").fill("pricing")  # no leading slash: cannot match
    await goals.get_by_role("button", name="Add goal").click()
    await expect(page.get_by_role("alert")).to_contain_text("(match)")
    await goals.get_by_label("Path pattern").fill("/pricing/**")
    await goals.get_by_role("button", name="Add goal").click()
    await expect(page.locator("tr[data-goal='Pricing']")).to_contain_text("/pricing/**")

    await goals.get_by_label("Name").fill("Purchase")
    await goals.get_by_label("Kind").select_option("revenue")
    await goals.get_by_label("Event name").fill("purchase")
    await goals.get_by_label("Prop (optional)").fill("plan")
    await goals.get_by_label("equal to").fill("pro")
    await goals.get_by_role("button", name="Add goal").click()
    purchase = page.locator("tr[data-goal='Purchase']")
    await expect(purchase).to_contain_text("Revenue: purchase with plan = pro")

    await page.get_by_role("button", name="Edit Pricing").click()
    editing = page.get_by_role("form", name="Edit Pricing")
    await editing.get_by_label("Path pattern").fill("/pricing")
    await editing.get_by_role("button", name="Save goal").click()
    await expect(page.locator("tr[data-goal='Pricing']")).to_contain_text("Page visit: /pricing")

    funnels = page.get_by_role("form", name="Add a funnel")
    await funnels.get_by_label("Name").fill("Checkout")
    await funnels.get_by_label("Step 1").select_option(label="Pricing")
    await funnels.get_by_label("Step 2").select_option(label="Purchase")
    await funnels.get_by_label("Window").fill("2000")
    await funnels.get_by_role("button", name="Add funnel").click()
    await expect(page.get_by_role("alert")).to_contain_text("windowMinutes")
    await funnels.get_by_label("Window").fill("45")
    await funnels.get_by_role("button", name="Add funnel").click()
    checkout = page.locator("tr[data-funnel='Checkout']")
    await expect(checkout).to_contain_text("Pricing → Purchase")
    await expect(checkout).to_contain_text("45 min")

    await page.get_by_role("button", name="Edit Checkout").click()
    editing = page.get_by_role("form", name="Edit Checkout")
    await editing.get_by_label("All steps within one visit").check()
    await editing.get_by_role("button", name="Save funnel").click()
    await expect(checkout).to_contain_text("one visit")

    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name="Delete Purchase").click()
    await expect(page.get_by_role("alert")).to_contain_text("the funnel 'Checkout' uses this goal")

    # A goal alert, set up in the alerts page with the goal chosen by name.
    await page.goto(f"/settings/sites/{dev.site_id}/alerts")
    form = page.get_by_role("form", name="New alert")
    await form.get_by_label("Kind").select_option("goal")
    await form.get_by_label("Goal", exact=True).select_option(label="Purchase")
    await form.get_by_label("Conversions", exact=True).fill("2")
    await form.get_by_label("Counted over the last (minutes)").fill("30")
    await form.get_by_label("Name", exact=True).fill("Sales")
    await form.get_by_label("Email addresses").fill("sales@example.com")
    await form.get_by_role("button", name="Add alert").click()
    await expect(page.locator("tr[data-alert='Sales']")).to_contain_text(
        "Purchase: at least 2 conversions in 30 min"
    )

    # A viewer: the same lists, no form and no buttons.
    await page.goto("/settings")
    await page.get_by_label("Invite by email").fill("goal-viewer@example.org")
    await page.get_by_label("Invited role").select_option("viewer")
    await page.get_by_role("button", name="Invite").click()
    link = await invitation_link(dev, "goal-viewer@example.org")
    context = await browser.new_context(base_url=dev.url)
    viewer = await context.new_page()
    await viewer.goto(link)
    await viewer.get_by_role("link", name="Sign up").click()
    await viewer.get_by_label("Email").fill("goal-viewer@example.org")
    await viewer.get_by_label("Password").fill("a long passphrase for tests")
    await viewer.get_by_role("button", name="Sign up").click()
    await expect(viewer.get_by_role("status")).to_contain_text("Check your email")
    await viewer.goto(await signup_link(dev, "goal-viewer@example.org"))
    await viewer.get_by_role("button", name="Create my account").click()
    await viewer.get_by_role("button", name="Accept the invitation").click()
    await expect(viewer.get_by_role("button", name="Accept the invitation")).to_have_count(0)
    await viewer.get_by_label("Organisation").select_option(label="Demo")
    await viewer.goto(f"/settings/sites/{dev.site_id}/goals")
    await expect(viewer.locator("tr[data-goal='Purchase']")).to_contain_text("purchase")
    await expect(viewer.locator("tr[data-funnel='Checkout']")).to_contain_text("one visit")
    await expect(viewer.get_by_role("form")).to_have_count(0)
    await expect(viewer.get_by_role("button", name=re.compile("^(Edit|Delete) "))).to_have_count(0)
    await context.close()
