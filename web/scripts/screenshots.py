"""Full-page PNGs of the dashboard's main views into docs/screenshots/ (light and dark, desktop
and phone width), against a fresh `traytic dev` seeded with a few dozen beacons.

    uv run python web/scripts/screenshots.py      # after `npm run build` in web/
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import start_dev  # noqa: E402
from tests.web.conftest import ARGS, CHROMIUM, DESKTOP_UA, Dev  # noqa: E402

OUT = REPO / "docs" / "screenshots"
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PAGES = ["/", "/pricing", "/blog/hello-world", "/docs/install", "/blog/cookieless", "/about"]
REFERRERS = ["https://www.google.com/", "https://news.ycombinator.com/", "https://github.com/", ""]


def seed(dev: Dev) -> None:
    rng = random.Random(8)  # noqa: S311 (a fixed, made-up dataset)
    for visitor in range(40):
        kind = rng.random()
        if kind < 0.25:
            user_agent, screen = PHONE_UA.replace("17_4", f"17_{visitor}"), 390
        elif kind < 0.4:
            user_agent, screen = FIREFOX_UA.replace("128.0", f"{100 + visitor}.0"), 1280
        else:
            user_agent, screen = DESKTOP_UA.format(version=100 + visitor), 1920
        pages = rng.sample(PAGES, rng.randint(1, 4))
        utm = "?utm_source=newsletter&utm_medium=email" if rng.random() < 0.2 else ""
        events: list[dict[str, Any]] = [
            {
                "type": "pageview",
                "url": f"https://example.com{page}{utm if i == 0 else ''}",
                "referrer": rng.choice(REFERRERS) if i == 0 else "",
            }
            for i, page in enumerate(pages)
        ]
        events.append(
            {"type": "vital", "name": "LCP", "value": rng.gauss(2100, 900), "url": events[0]["url"]}
        )
        events.append(
            {
                "type": "vital",
                "name": "CLS",
                "value": abs(rng.gauss(0.06, 0.08)),
                "url": events[0]["url"],
            }
        )
        events.append(
            {
                "type": "vital",
                "name": "INP",
                "value": abs(rng.gauss(160, 120)),
                "url": events[0]["url"],
            }
        )
        events.append(
            {
                "type": "vital",
                "name": "TTFB",
                "value": abs(rng.gauss(500, 300)),
                "url": events[0]["url"],
            }
        )
        events.append(
            {
                "type": "vital",
                "name": "FCP",
                "value": abs(rng.gauss(1500, 600)),
                "url": events[0]["url"],
            }
        )
        if rng.random() < 0.3:
            plan = rng.choice(["free", "pro"])
            events.append(
                {
                    "type": "event",
                    "name": "signup",
                    "url": events[-1]["url"],
                    "props": {"plan": plan},
                }
            )
        if rng.random() < 0.25:
            events.append(
                {
                    "type": "event",
                    "name": "download",
                    "url": events[-1]["url"],
                    "props": {"file": rng.choice(["guide.pdf", "deck.pdf"])},
                }
            )
        dev.send(events, user_agent, screen)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        process = start_dev(data_dir)
        try:
            dev = Dev(process, json.loads((data_dir / "dev.json").read_text()))
            seed(dev)
            time.sleep(3)
            shoot(dev)
        finally:
            process.stop()


def shoot(dev: Dev) -> None:
    views = {"dashboard": f"/sites/{dev.site_id}?period=24h&compare=1", "settings": "/settings"}
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
