"""Browser tests of the dashboard: Debian's Chromium (Playwright, async API) against `traytic dev`.

The dashboard must be built (`npm run build` in `web/`, which `make` runs); the query service
serves `web/dist` from a checkout, so the tests build it themselves when npm is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.conftest import DevProcess, allow_hostnames, start_dev
from tests.web.dataset import Dataset

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{version}.0.0.0 Safari/537.36"
)

# Playwright waits 5 s for a condition by default; on a two-core runner shared by three test
# workers a dashboard request can take longer than that without anything being wrong.
expect.set_options(timeout=15_000)


def _ensure_built() -> None:
    if (WEB / "dist" / "index.html").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("the dashboard is not built and npm is missing")
    if not (WEB / "node_modules").is_dir():
        subprocess.run([npm, "ci"], cwd=WEB, check=True)
    subprocess.run([npm, "run", "build"], cwd=WEB, check=True)


class Dev:
    """`traytic dev` plus what its dev.json says: the login, the site and an API key."""

    def __init__(self, process: DevProcess, info: dict[str, Any]) -> None:
        self.process = process
        self.url: str = info["url"]
        self.site_id: str = info["site_id"]
        self.api_key: str = info["api_key"]
        self.email: str = info["email"]
        self.password: str = info["password"]

    def stats(self, report: str, query: str = "") -> Any:
        request = urllib.request.Request(
            f"{self.url}/api/events/{self.site_id}/{report}?{query}",
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as failed:
            # The answer's body says only a request id; the process log says what went wrong.
            errors = [line for line in self.process.log_text().splitlines() if '"error"' in line]
            raise AssertionError(
                f"{report}?{query}: {failed.code} {failed.read().decode(errors='replace')}\n"
                + "\n".join(errors[-5:])
            ) from failed

    def beacon(self, events: list[dict[str, Any]], chrome_version: int = 124) -> None:
        """POST /collect as a desktop Chrome; each Chrome version is another visitor."""
        self.send(events, DESKTOP_UA.format(version=chrome_version), 1440)

    def send(self, events: list[dict[str, Any]], user_agent: str, screen: int) -> None:
        body = json.dumps({"siteId": self.site_id, "screen": screen, "events": events}).encode()
        request = urllib.request.Request(
            f"{self.url}/collect",
            data=body,
            headers={"content-type": "text/plain", "user-agent": user_agent},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    def wait_for_pageviews(self, count: int) -> None:
        deadline = time.monotonic() + 20
        while self.stats("overview")["pageviews"]["value"] < count:
            assert time.monotonic() < deadline, "the beacons did not reach the warehouse"
            time.sleep(0.2)


@contextlib.contextmanager
def running_dev(
    data_dir: Path, hostnames: Sequence[str] = (), settings: Mapping[str, str] | None = None
) -> Iterator[Dev]:
    """`traytic dev` in `data_dir` (with `settings`), its demo site taking beacons from test
    pages on `hostnames`; stopped on exit."""
    process = start_dev(data_dir, settings)
    try:
        if hostnames:
            allow_hostnames(process, hostnames)
        yield Dev(process, json.loads((data_dir / "dev.json").read_text()))
    finally:
        process.stop()


def deliver(dev: Dev, data: Dataset, query: str = "period=24h") -> Dataset:
    """Send every visitor's beacon, then wait until the overview at `query` counts them all."""
    for visitor in data.visitors:
        dev.send(visitor.events(), visitor.user_agent, visitor.screen)
    expected = data.overview()
    deadline = time.monotonic() + 20
    while True:
        overview = dev.stats("overview", query)
        if (overview["pageviews"]["value"], overview["events"]["value"]) == (
            expected["pageviews"],
            expected["events"],
        ):
            return data
        assert time.monotonic() < deadline, f"the beacons did not all arrive: {overview}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    _ensure_built()
    with running_dev(tmp_path_factory.mktemp("web") / "data") as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()


async def log_in(browser: Browser, dev: Dev) -> Page:
    """A fresh context (no cookies) logged in through the form; lands on a site's dashboard."""
    context = await browser.new_context(base_url=dev.url)
    page = await context.new_page()
    await page.goto("/")
    await page.get_by_label("Email").fill(dev.email)
    await page.get_by_label("Password").fill(dev.password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/sites/st_*")
    return page


async def invitation_link(dev: Dev, email: str) -> str:
    """The newest invitation link `traytic dev` printed, once it printed one for `email`."""
    for _ in range(50):
        log = dev.process.log_text()
        found = re.findall(r"/invite#token=(\S+)", log)
        if found and email in log:
            return f"/invite#token={found[-1]}"
        await asyncio.sleep(0.1)
    raise AssertionError(f"no invitation link was printed for {email}")


async def signup_link(dev: Dev, email: str) -> str:
    """The sign-up link `traytic dev` printed for `email` (console mail mode)."""
    pattern = re.compile(rf"{re.escape(email)}: confirm with \S+(/signup/confirm#token=\S+)")
    for _ in range(50):
        found = pattern.findall(dev.process.log_text())
        if found:
            return str(found[-1])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no sign-up link was printed for {email}")
