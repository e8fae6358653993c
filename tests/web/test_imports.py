"""Imports in the dashboard (Chromium against `traytic dev`): an owner uploads a Plausible
export in the site's settings and watches the progress bar reach 100%; the dashboard's
"Imported data" switch then adds the file's figures to the key figures, and a filter leaves
them out and says so."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.warehouse.imports.files import plausible_totals, plausible_zip
from tests.web.conftest import Dev, log_in


async def test_upload_then_switch_imported_data_on(
    browser: Browser, dev: Dev, tmp_path: Path
) -> None:
    page = await log_in(browser, dev)
    await page.goto(f"/settings/sites/{dev.site_id}")
    imports = page.locator("section", has=page.get_by_role("heading", name="Import history"))
    await imports.get_by_label("From").select_option("plausible")
    await imports.get_by_label("Export file").set_input_files(str(plausible_zip(tmp_path)))
    await imports.get_by_role("button", name="Import").click()
    status = imports.get_by_role("status")
    await expect(status).to_contain_text("Imported", timeout=30_000)
    await expect(imports.get_by_label("Import progress")).to_have_attribute("value", "1")
    await expect(imports.locator("ul.imports li").first).to_contain_text(
        "plausible: done 2024-01-01 to 2024-01-03"
    )

    files = plausible_totals(date(2024, 1, 1), date(2024, 1, 3))
    await page.goto(f"/sites/{dev.site_id}?from=2024-01-01&to=2024-01-03")
    visitors = page.locator('[data-kpi="visitors"] .kpi-value')
    await expect(visitors).to_have_attribute("data-value", "0")
    await page.get_by_label("Imported data").check()
    await expect(visitors).to_have_attribute("data-value", str(files["visitors"]))
    await page.goto(f"/sites/{dev.site_id}?from=2024-01-01&to=2024-01-03&imported=1&country=DE")
    await expect(page.get_by_role("status").first).to_contain_text("Imported data is left out")
    await expect(visitors).to_have_attribute("data-value", "0")
