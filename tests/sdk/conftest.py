"""Fixtures for the tracker's browser tests: a site server, a collector and Debian's Chromium.

Chromium resolves `site.test` and `*.collector.test` to 127.0.0.1, so test pages run on a host name
the tracker treats as a real site (localhost is silent by default) and send cross-origin to the
collector, as a page sends to a Traytic gateway on another host. The collector also serves the
built `script.js`, so the script's default endpoint (`/collect` beside the script) is the one
tested.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from tests.sdk.local_servers import Collector, Request, Site, serve

DIST = Path(__file__).resolve().parents[2] / "sdk" / "js" / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
"""A desktop Chrome: headless Chromium says "HeadlessChrome", which the gateway counts as a bot."""


def app_browser_args(host_rules: str) -> list[str]:
    """Chromium's arguments for a scratch app on test hostnames (`MAP shop.test 127.0.0.1`)."""
    from tests.web.conftest import ARGS

    return [*ARGS, f"--host-resolver-rules={host_rules}", f"--user-agent={CHROME_UA}"]


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP site.test 127.0.0.1, MAP *.collector.test 127.0.0.1",
]

# Counts every sendBeacon and fetch call the page makes, so a test can tell "nothing was sent"
# from "nothing has arrived yet" and see which transport was used.
INSTRUMENT = """
window.__sent = [];
const beacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = (url, body) => {
  window.__sent.push({ via: "beacon", url: String(url), body: typeof body });
  return beacon(url, body);
};
const fetcher = window.fetch.bind(window);
window.fetch = (url, init) => {
  window.__sent.push({ via: "fetch", url: String(url) });
  return fetcher(url, init);
};
"""


@pytest.fixture(scope="session")
def built_script() -> Path:
    script = DIST / "script.js"
    if not script.exists() or not (DIST / "script.vitals.js").exists():
        pytest.fail("sdk/js/dist/script.js is missing: run `npm ci && npm run build` in sdk/js")
    return script


@pytest.fixture(scope="session")
def collector(built_script: Path) -> Iterator[Collector]:
    state = Collector()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.record(
                Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
            )

        def _no_content(self) -> None:
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.end_headers()

        def do_POST(self) -> None:
            self._record()
            self._no_content()

        def do_OPTIONS(self) -> None:
            self._record()
            self._no_content()

        def do_GET(self) -> None:
            name = self.path.split("?", 1)[0].lstrip("/")
            if name not in {"script.js", "script.vitals.js", "script.extras.js"}:
                self.send_error(404)
                return
            body = (DIST / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    for port in serve(Handler):
        state.port = port
        yield state


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            html = state.pages.get(self.path.split("?", 1)[0].split("#", 1)[0])
            if html is None:
                self.send_error(404)
                return
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    for port in serve(Handler):
        state.port = port
        yield state


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Any]:
    """Module-scoped: Playwright's sync API keeps an event loop running in the main thread
    while it is open, which would break every asyncio test that runs after this module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Any) -> Iterator[Any]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Any, collector: Collector) -> Iterator[Any]:
    collector.clear()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def dnt_page(playwright_instance: Any, collector: Collector, tmp_path: Path) -> Iterator[Any]:
    """A page in a Chromium profile with "Send a Do Not Track request" on (the real setting)."""
    collector.clear()
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text('{"enable_do_not_track": true}')
    context = playwright_instance.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    context.add_init_script(INSTRUMENT)
    yield context.new_page()
    context.close()
