"""The npm package as a user gets it: `npm pack` of sdk/js installed into a scratch Next.js app.

The app (`next_app/`) is the brief's quick start as written (`<Analytics siteId="..." />` with no
endpoint, in `app/layout.tsx`) plus `withTraytic(nextConfig)` in `next.config.ts`, so its pages
post to their own origin's `/collect`, which Next.js proxies to a real `traytic dev`. It is built
with `next build` (which also type-checks the config against Next.js's own types) and served by
`next start`; Chromium opens it as `shop.test` (the tracker is silent on localhost). The beacons
must reach the warehouse, visitor's country included: the proxy forwards `X-Forwarded-For` and
the gateway trusts the app's address, as the README tells operators to set up.

Slow by nature (an npm install of Next.js and a production build, about two minutes here); one
module-scoped app serves every test in this file.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Request, async_playwright
from tests.data import MAXMIND
from tests.sdk.conftest import CHROMIUM, app_browser_args
from tests.web.conftest import Dev, running_dev

from traytic.core.embedded_nats import free_port

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "sdk" / "js"
NEXT_APP = Path(__file__).parent / "next_app"
LONDON = "81.2.69.142"  # in MaxMind's test database: GB, England, London
ARGS = app_browser_args("MAP shop.test 127.0.0.1")


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    if not (SDK / "dist" / "next-config.js").is_file():
        pytest.fail("sdk/js/dist is not built: run `make tracker`")
    return npm


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    print(f"{Path(command[0]).name} {command[1]}: {time.monotonic() - started:.0f} s")


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "next start exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, "next start did not listen"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    settings = {
        "TRAYTIC_GEOIP_PATH": str(MAXMIND / "GeoIP2-City-Test.mmdb"),
        # the Next.js server proxies the beacons: its X-Forwarded-For names the visitor
        "TRAYTIC_TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
    }
    data_dir = tmp_path_factory.mktemp("npm-dev") / "data"
    with running_dev(data_dir, ["shop.test"], settings) as running:
        yield running


@pytest.fixture(scope="module")
def next_app(tmp_path_factory: pytest.TempPathFactory, dev: Dev) -> Iterator[str]:
    """The scratch app, built against the packed tarball and served; yields its URL."""
    npm = _npm()
    root = tmp_path_factory.mktemp("npm-package")
    app = root / "app"
    shutil.copytree(NEXT_APP, app)
    for page in (app / "app" / "layout.tsx", app / "public" / "plain.html"):
        page.write_text(page.read_text().replace("your_site_id", dev.site_id))
    env = {
        **os.environ,
        "NEXT_TELEMETRY_DISABLED": "1",
        "TRAYTIC_HOST": f"http://127.0.0.1:{dev.process.port}",
    }
    packed = subprocess.run(
        [npm, "pack", "--json", "--pack-destination", str(root)],
        cwd=SDK,
        capture_output=True,
        text=True,
        check=True,
    )
    [pack] = json.loads(packed.stdout)
    assert {"LICENSE", "README.md", "dist/next-config.js", "dist/script.js"} <= {
        file["path"] for file in pack["files"]
    }
    tarball = root / pack["filename"]
    install = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", str(tarball)]
    _run(install, app, env)
    installed = json.loads((app / "node_modules/@traytic/analytics/package.json").read_text())
    assert installed["version"] == json.loads((SDK / "package.json").read_text())["version"]
    next_bin = str(app / "node_modules" / ".bin" / "next")
    _run([next_bin, "build"], app, env)
    port = free_port()
    server = subprocess.Popen(
        [next_bin, "start", "-p", str(port), "-H", "127.0.0.1"],
        cwd=app,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, server)
        yield f"http://shop.test:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(app / "node_modules", ignore_errors=True)  # ~370 MB
        shutil.rmtree(app / ".next", ignore_errors=True)


@pytest.fixture
async def visitor() -> AsyncIterator[BrowserContext]:
    """Chromium whose requests carry a London address in `X-Forwarded-For`, as a load balancer
    in front of the Next.js app would pass the visitor's address on."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield await browser.new_context(extra_http_headers={"X-Forwarded-For": LONDON})
        await browser.close()


def _wait_for_pages(dev: Dev, paths: set[str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        pages = {row["value"] for row in dev.stats("pages", "period=24h&limit=100")["pages"]}
        if paths <= pages:
            return
        assert time.monotonic() < deadline, f"the beacons did not arrive: {pages}"
        time.sleep(0.5)


async def test_the_quick_start_counts_pages_and_events_through_the_first_party_proxy(
    visitor: BrowserContext, next_app: str, dev: Dev
) -> None:
    page = await visitor.new_page()
    beacons: list[str] = []
    page.on("request", lambda r: beacons.append(r.url) if "/collect" in r.url else None)

    def beacon_with(path: str) -> Callable[[Request], bool]:
        return lambda r: r.url.endswith("/collect") and f'{path}"' in (r.post_data or "")

    await page.goto(f"{next_app}/")
    await page.get_by_role("button", name="Sign up").click()
    async with page.expect_request(beacon_with("/about"), timeout=10_000):
        await page.get_by_role("link", name="About").click()  # a client-side route change
    async with page.expect_request(beacon_with("/plain.html"), timeout=10_000):
        await page.goto(f"{next_app}/plain.html")  # the script tag, through the same proxy
    await visitor.close()  # every page view has left: its beacon was seen

    assert beacons and all(url == f"{next_app}/collect" for url in beacons), beacons
    _wait_for_pages(dev, {"/", "/about", "/plain.html"})
    countries = dev.stats("countries", "period=24h")
    # Every page view is London's. (Web Vitals leave as the page unloads, when Chromium no
    # longer adds the test's header: those few rows have no country.)
    pageviews = {row["value"]: row["pageviews"] for row in countries["countries"]}
    assert pageviews["GB"] == 3 and sum(pageviews.values()) == 3, pageviews
    assert "London" in [row["value"] for row in countries["cities"]]
    events = dev.stats("events", "period=24h")["events"]
    [signup] = [event for event in events if event["name"] == "signup"]
    props = {(prop["key"], prop["value"]) for prop in signup["props"]}
    assert props == {("plan", "pro"), ("source", "landing")}


async def test_the_proxy_serves_the_gateways_tracker(next_app: str, dev: Dev) -> None:
    for name in ("script.js", "script.vitals.js", "script.extras.js"):
        first_party = f"{next_app.replace('shop.test', '127.0.0.1')}/{name}"
        with urllib.request.urlopen(first_party, timeout=10) as proxied:
            body = proxied.read()
        with urllib.request.urlopen(f"{dev.url}/{name}", timeout=10) as direct:
            assert body == direct.read()
