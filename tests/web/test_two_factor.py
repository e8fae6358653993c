"""Two-factor sign-in in the dashboard (Chromium against `traytic dev`): turn it on from the
account page with a code from the secret it shows, see the recovery codes once, then sign in
with the password and a code; the same code again is refused."""

from __future__ import annotations

import time

import pyotp
from playwright.async_api import Browser, Page, expect

from tests.web.conftest import Dev, log_in


async def _password_step(browser: Browser, dev: Dev) -> Page:
    context = await browser.new_context(base_url=dev.url)
    page = await context.new_page()
    await page.goto("/")
    await page.get_by_label("Email").fill(dev.email)
    await page.get_by_label("Password").fill(dev.password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_label("Authentication code")).to_be_visible()
    return page


async def test_enrol_then_sign_in_with_a_code(browser: Browser, dev: Dev) -> None:
    page = await log_in(browser, dev)
    await page.get_by_role("link", name="Account").click()
    await page.get_by_role("button", name="Turn on two-factor sign-in").click()
    await expect(page.locator(".qr svg")).to_be_visible()
    secret = (await page.locator("[data-secret]").inner_text()).strip()
    totp = pyotp.TOTP(secret)
    step = totp.timecode(time.time())  # this step's and the next one's codes stay valid
    await page.get_by_label("Code from your app").fill(totp.generate_otp(step))
    await page.get_by_role("button", name="Confirm").click()
    codes = page.locator("[data-recovery-codes] pre")
    await expect(codes).to_be_visible()
    assert len((await codes.inner_text()).split()) == 10
    await expect(page.locator('[data-two-factor="on"]')).to_contain_text("10 recovery codes")

    # A new browser: the password alone no longer signs in; the code does.
    second = await _password_step(browser, dev)
    await second.get_by_label("Authentication code").fill(totp.generate_otp(step + 1))
    await second.get_by_role("button", name="Verify").click()
    await second.wait_for_url("**/sites/st_*")

    # The code just used is refused, even inside its window.
    third = await _password_step(browser, dev)
    await third.get_by_label("Authentication code").fill(totp.generate_otp(step + 1))
    await third.get_by_role("button", name="Verify").click()
    await expect(third.get_by_role("alert")).to_contain_text("already used")
    await expect(third.get_by_label("Authentication code")).to_be_visible()
