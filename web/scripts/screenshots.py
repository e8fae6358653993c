"""Full-page PNGs of the dashboard's main views into docs/screenshots/ (light and dark, desktop
and phone width), against a fresh `traytic dev` filled by `traytic demo` (30 days, seeded).

    uv run python web/scripts/screenshots.py      # after `npm run build` in web/ (make screenshots)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import start_dev  # noqa: E402
from tests.web.conftest import ARGS, CHROMIUM, Dev  # noqa: E402

OUT = REPO / "docs" / "screenshots"
DEMO_SEED = 14  # the same dataset each time the pictures are refreshed (up to the date)


def fill(data_dir: Path) -> None:
    """`traytic demo` as a user runs it beside `make dev`: 30 days through `/collect`."""
    subprocess.run(
        [sys.executable, "-m", "traytic.cli.main", "demo", "--seed", str(DEMO_SEED)],
        env={**os.environ, "TRAYTIC_DATA_DIR": str(data_dir)},
        check=True,
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        process = start_dev(data_dir)
        try:
            dev = Dev(process, json.loads((data_dir / "dev.json").read_text()))
            fill(data_dir)
            shoot(dev)
        finally:
            process.stop()


def shoot(dev: Dev) -> None:
    views = {"dashboard": f"/sites/{dev.site_id}?period=30d", "settings": "/settings"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for scheme in ("light", "dark"):
            for device, viewport in (("desktop", (1280, 800)), ("phone", (390, 844))):
                context = browser.new_context(
                    base_url=dev.url,
                    color_scheme=scheme,
                    viewport={"width": viewport[0], "height": viewport[1]},
                    device_scale_factor=1 if device == "desktop" else 2,
                )
                page = context.new_page()
                page.goto("/login")
                page.screenshot(path=OUT / f"login-{scheme}-{device}.png", full_page=True)
                page.get_by_label("Email").fill(dev.email)
                page.get_by_label("Password").fill(dev.password)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url("**/sites/**")
                for name, url in views.items():
                    page.goto(url)
                    page.wait_for_load_state("networkidle")
                    if name == "dashboard":  # a custom event's props, opened
                        page.get_by_role("button", name="Properties of signup").click()
                    page.wait_for_timeout(500)
                    page.screenshot(path=OUT / f"{name}-{scheme}-{device}.png", full_page=True)
                context.close()
        browser.close()
    print(f"saved to {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
