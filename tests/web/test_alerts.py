"""The alert and report pages against `traytic dev` with a real SMTP server (STARTTLS): an admin
sets up a spike alert in the browser, three visitors arrive, and the email comes within a
minute at the default pace; a refused address shows as failed with its reason; a weekly report
shows when it goes out; a viewer sees all of it and no form."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.alerts.receivers import SmtpServer, smtp_server
from tests.e2e.conftest import start_dev
from tests.web.conftest import Dev, _ensure_built, log_in


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Dev]:
    _ensure_built()
    data_dir = tmp_path_factory.mktemp("web-alerts") / "data"
    process = start_dev(
        data_dir,
        {
            "TRAYTIC_SMTP_HOST": smtp.host,
            "TRAYTIC_SMTP_PORT": str(smtp.port),
            "TRAYTIC_SMTP_CA_FILE": smtp.ca_file,
            "TRAYTIC_MAIL_FROM": "Traytic <alerts@traytic.test>",
        },
    )
    try:
        yield Dev(process, json.loads((data_dir / "dev.json").read_text()))
    finally:
        process.stop()


async def test_a_spike_alert_set_up_in_the_browser_emails_within_a_minute(
    browser: Browser, dev: Dev, smtp: SmtpServer
) -> None:
    page = await log_in(browser, dev)
    await page.goto(f"/settings/sites/{dev.site_id}")
    await page.get_by_role("link", name="Traffic alerts").click()
    await page.wait_for_url("**/alerts")
    form = page.get_by_role("form", name="New alert")
    await form.get_by_label("Visitors at once", exact=True).fill("2")
    await form.get_by_label("Name", exact=True).fill("Launch day")
    await form.get_by_label("Email addresses").fill("ops@example.com, bounce-ops@example.com")
    await form.get_by_role("button", name="Add alert").click()
    row = page.locator("tr[data-alert='Launch day']")
    await expect(row).to_contain_text("more than 2 visitors at once")
    await expect(row).to_contain_text("ops@example.com")

    spiked = time.monotonic()
    for version in (120, 121, 122):
        dev.beacon([{"type": "pageview", "url": "http://localhost/launch"}], version)
    (mail,) = await asyncio.to_thread(smtp.mailbox.wait_for, 1, 90)
    assert time.monotonic() - spiked < 60
    assert mail["To"] == "ops@example.com"
    assert mail["Subject"].startswith("Traffic spike on localhost: 3 visitors now")
    assert smtp.mailbox.tls == [True]

    await page.reload()
    await expect(page.locator("tr[data-alert='Launch day']")).to_contain_text("firing")
    failed = page.locator("tr[data-delivery='failed']")
    await expect(failed).to_contain_text("bounce-ops@example.com")
    await expect(failed).to_contain_text("refused the address (550)")
    await expect(page.locator("tr[data-delivery='sent']")).to_contain_text("ops@example.com")


async def test_a_report_shows_when_it_goes_out_and_bad_input_names_the_field(
    browser: Browser, dev: Dev
) -> None:
    page = await log_in(browser, dev)
    await page.goto(f"/settings/sites/{dev.site_id}/reports")
    form = page.get_by_role("form", name="New report")
    await form.get_by_label("Email addresses").fill("not-an-address")
    await form.get_by_role("button", name="Add report").click()
    await expect(page.get_by_role("alert")).to_contain_text("recipients[0].target")
    await form.get_by_label("Email addresses").fill("team@example.com")
    await form.get_by_label("Name", exact=True).fill("Monday numbers")
    await form.get_by_role("button", name="Add report").click()
    row = page.locator("tr[data-report='Monday numbers']")
    await expect(row).to_contain_text("Mondays at 08:00")
    await expect(row).to_contain_text("team@example.com")
    await page.wait_for_timeout(6000)  # the scheduler's next round schedules it
    await page.reload()
    await expect(page.locator("tr[data-report='Monday numbers']")).not_to_contain_text("next never")
