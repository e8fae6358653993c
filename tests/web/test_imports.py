"""Data in and out in the dashboard (Chromium against `traytic dev`): an owner uploads a
Plausible export in the site's settings and watches the progress bar reach 100%; the dashboard's
"Imported data" switch then adds the file's figures to the key figures, and a filter leaves
them out and says so; the export link downloads the view's reports; the current filters are
saved as a segment, which the segment menu then applies."""

from __future__ import annotations

import zipfile
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


async def test_export_link_and_segment_menu(browser: Browser, dev: Dev, tmp_path: Path) -> None:
    dev.beacon([{"type": "pageview", "url": "http://localhost/segments-page"}], chrome_version=99)
    page = await log_in(browser, dev)
    await page.goto(f"/sites/{dev.site_id}?period=7d&path=/segments-page")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Export CSV").click()
    download = await waiting.value
    saved = tmp_path / "reports.zip"
    await download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert any(name.endswith(".csv") for name in archive.namelist())

    page.once("dialog", lambda dialog: dialog.accept("Segments page"))
    await page.get_by_role("button", name="Save as segment").click()
    menu = page.get_by_label("Segment", exact=True)
    await expect(menu.locator("option:checked")).to_have_text("Segments page")
    assert "path=" not in page.url and "segment=" in page.url
    await expect(page.locator(".chip")).to_have_count(0)
    await menu.select_option(label="All visitors")
    await expect(menu.locator("option:checked")).to_have_text("All visitors")
    assert "segment=" not in page.url
