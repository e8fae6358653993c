"""The framework adapters in real apps built by the frameworks' own tooling, opened in Chromium,
their beacons going to a real `traytic dev`:

- `@traytic/analytics/vue`: vue and vue-router (the package's dev dependencies, from npm)
  bundled by Vite into a scratch app on `vue.test`. The router's navigations must be page views,
  and the page left on each one must report its engagement.
- `@traytic/analytics/astro`: Astro installed from npm into a scratch site on `astro.test`,
  built by `astro build` with the integration and `<ClientRouter />`. Each view transition must
  be a page view.

Slow by nature (an npm install of Astro, about a minute, and two builds); one `traytic dev`
serves both.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright
from tests.sdk.conftest import CHROMIUM, app_browser_args
from tests.web.conftest import Dev, running_dev

SDK = Path(__file__).resolve().parents[2] / "sdk" / "js"
ARGS = app_browser_args(
    "MAP vue.test 127.0.0.1, MAP astro.test 127.0.0.1, MAP gateway.test 127.0.0.1"
)
ASTRO_VERSION = "5"

MAIN = """
import { createApp, h } from "vue";
import { createRouter, createWebHistory, RouterLink, RouterView } from "vue-router";
import { Traytic } from "@traytic/analytics/vue";

const Home = { render: () => h("main", [h("h1", "Home"), h(RouterLink, { to: "/docs", id: "docs" }, () => "Docs")]) };
const Docs = { render: () => h("main", { style: "height: 4000px" }, [h("h1", "Docs")]) };
const router = createRouter({
  history: createWebHistory(),
  routes: [{ path: "/", component: Home }, { path: "/docs", component: Docs }],
});
createApp({ render: () => h(RouterView) })
  .use(router)
  .use(Traytic, { siteId: "__SITE__", endpoint: "__ENDPOINT__", router, vitals: false })
  .mount("#app");
"""
INDEX = """<!doctype html><html><head><title>vue app</title></head>
<body style="margin: 0"><div id="app"></div><script type="module" src="/main.js"></script></body></html>
"""


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    data_dir = tmp_path_factory.mktemp("apps-dev") / "data"
    with running_dev(data_dir, ["vue.test", "astro.test"]) as running:
        yield running


@pytest.fixture(scope="module")
def vue_app(tmp_path_factory: pytest.TempPathFactory, dev: Dev) -> Iterator[str]:
    """The app built by `vite build` and served with a history fallback; yields its origin."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (SDK / "dist" / "vue.js").is_file() or not (SDK / "node_modules" / "vue").is_dir():
        pytest.fail("sdk/js is not built: run `make tracker`")
    app = tmp_path_factory.mktemp("vue-app")
    endpoint = f"http://gateway.test:{dev.process.port}/collect"
    (app / "index.html").write_text(INDEX)
    (app / "main.js").write_text(
        MAIN.replace("__SITE__", dev.site_id).replace("__ENDPOINT__", endpoint)
    )
    link_package(app, "vue", "vue-router", "@vue")
    vite = str(SDK / "node_modules" / ".bin" / "vite")
    run([vite, "build", "--logLevel", "warn"], app, {**os.environ, "NODE_ENV": "production"})
    with serve_static(app / "dist", "vue.test", fallback="/index.html") as origin:
        yield origin


def run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


@contextlib.contextmanager
def serve_static(dist: Path, hostname: str, fallback: str | None = None) -> Iterator[str]:
    """`dist` over HTTP (a path that is no file is `fallback`, as an SPA host serves its
    routes); yields the origin under `hostname`."""

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def send_head(self):  # type: ignore[no-untyped-def]
            wanted = dist / self.path.lstrip("/").split("?")[0]
            if fallback and not wanted.is_file() and not (wanted / "index.html").is_file():
                self.path = fallback
            return super().send_head()

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(dist)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{hostname}:{server.server_address[1]}"
    finally:
        server.shutdown()


def link_package(app: Path, *dependencies: str) -> None:
    """The app's node_modules as an install lays them out: the package itself (its `exports`
    point into dist/) and `dependencies` from the package's own node_modules."""
    modules = app / "node_modules"
    (modules / "@traytic").mkdir(parents=True, exist_ok=True)
    (modules / "@traytic" / "analytics").symlink_to(SDK)
    for name in dependencies:
        (modules / name).symlink_to(SDK / "node_modules" / name)


def wait_for_engagement(dev: Dev, hostname: str, paths: set[str]) -> dict[str, Any]:
    """The engagement report of `hostname` once it holds `paths`, by page."""
    deadline = time.monotonic() + 30
    while True:
        report = dev.stats("engagement", f"period=24h&hostname={hostname}")
        read = {row["value"]: row for row in report["pages"]}
        if paths <= set(read):
            return read
        assert time.monotonic() < deadline, f"the engagement did not arrive: {report}"
        time.sleep(0.3)


def pageviews(dev: Dev, hostname: str) -> dict[str, int]:
    pages = dev.stats("pages", f"period=24h&hostname={hostname}")["pages"]
    return {row["value"]: row["pageviews"] for row in pages}


async def test_router_navigations_are_page_views_with_their_engagement(
    vue_app: str, dev: Dev
) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await page.goto(f"{vue_app}/")
        await page.wait_for_selector("#docs")
        await page.wait_for_timeout(600)
        await page.click("#docs")  # a client-side navigation by vue-router
        await page.wait_for_selector("text=Docs")
        await page.mouse.wheel(0, 4000)  # to the bottom: 100% of /docs
        await page.wait_for_timeout(600)
        await page.goto("about:blank")  # leaving: /docs reports its engagement
        await page.wait_for_timeout(300)
        await browser.close()

    read = wait_for_engagement(dev, "vue.test", {"/", "/docs"})
    assert pageviews(dev, "vue.test") == {"/": 1, "/docs": 1}
    assert read["/docs"]["scrollDepth"] == 100
    assert all(0.3 <= row["timeOnPage"] < 30 for row in read.values()), read


ASTRO_PAGE = """---
import { ClientRouter } from "astro:transitions";
---
<html><head><title>__TITLE__</title><ClientRouter /></head>
<body><h1>__TITLE__</h1><a id="next" href="__NEXT__">next</a></body></html>
"""


@pytest.fixture(scope="module")
def astro_site(tmp_path_factory: pytest.TempPathFactory, dev: Dev) -> Iterator[str]:
    """A site built by `astro build` with the integration; yields its origin."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    app = tmp_path_factory.mktemp("astro-site")
    (app / "package.json").write_text('{"name": "astro-site", "private": true, "type": "module"}')
    env = {**os.environ, "ASTRO_TELEMETRY_DISABLED": "1"}
    run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", f"astro@{ASTRO_VERSION}"],
        app,
        env,
    )
    link_package(app)
    endpoint = f"http://gateway.test:{dev.process.port}/collect"
    options = {"siteId": dev.site_id, "endpoint": endpoint, "vitals": False}
    (app / "astro.config.mjs").write_text(
        'import { defineConfig } from "astro/config";\n'
        'import traytic from "@traytic/analytics/astro";\n'
        f"export default defineConfig({{ integrations: [traytic({json.dumps(options)})] }});\n"
    )
    pages = app / "src" / "pages"
    pages.mkdir(parents=True)
    for name, title, following in (("index", "Home", "/docs/"), ("docs", "Docs", "/")):
        page = ASTRO_PAGE.replace("__TITLE__", title).replace("__NEXT__", following)
        (pages / f"{name}.astro").write_text(page)
    run([str(app / "node_modules" / ".bin" / "astro"), "build"], app, env)
    try:
        with serve_static(app / "dist", "astro.test") as origin:
            yield origin
    finally:
        shutil.rmtree(app / "node_modules", ignore_errors=True)  # ~160 MB


async def test_astro_view_transitions_are_page_views(astro_site: str, dev: Dev) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page()
        await page.goto(f"{astro_site}/")
        await page.wait_for_timeout(500)
        for title in ("Docs", "Home"):  # view transitions: no full page load
            await page.click("#next")
            await page.wait_for_selector(f"h1:text('{title}')")
            await page.wait_for_timeout(300)
        assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1
        await page.goto("about:blank")
        await page.wait_for_timeout(300)
        await browser.close()

    # Paths are stored without a trailing slash: Astro's /docs/ is /docs.
    wait_for_engagement(dev, "astro.test", {"/", "/docs"})
    deadline = time.monotonic() + 15
    while (counted := pageviews(dev, "astro.test")) != {"/": 2, "/docs": 1}:
        assert time.monotonic() < deadline, counted
        time.sleep(0.3)
