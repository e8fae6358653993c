"""`@traytic/analytics/vue` in a real Vue app: vue and vue-router (the package's dev
dependencies, from npm) bundled by Vite, the framework's own tooling, into a scratch app that
Chromium opens as `vue.test`; its beacons go to a real `traytic dev`. The router's navigations
must be page views, and the page left on each one must report its engagement.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from tests.sdk.conftest import CHROMIUM, app_browser_args
from tests.web.conftest import Dev, running_dev

SDK = Path(__file__).resolve().parents[2] / "sdk" / "js"
ARGS = app_browser_args("MAP vue.test 127.0.0.1, MAP gateway.test 127.0.0.1")

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
    with running_dev(tmp_path_factory.mktemp("vue-dev") / "data", ["vue.test"]) as running:
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
    # The app's dependencies, as an install would lay them out: the package itself (its
    # `exports` map points into dist/) and Vue from the package's own node_modules.
    modules = app / "node_modules"
    (modules / "@traytic").mkdir(parents=True)
    (modules / "@traytic" / "analytics").symlink_to(SDK)
    for name in ("vue", "vue-router", "@vue"):
        (modules / name).symlink_to(SDK / "node_modules" / name)
    vite = str(SDK / "node_modules" / ".bin" / "vite")
    built = subprocess.run(
        [vite, "build", "--logLevel", "warn"],
        cwd=app,
        env={**os.environ, "NODE_ENV": "production"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    dist = app / "dist"

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def send_head(self):  # type: ignore[no-untyped-def]
            # A route of the app (`/docs`) is its index.html, as any SPA host serves it.
            if not (dist / self.path.lstrip("/").split("?")[0]).is_file():
                self.path = "/index.html"
            return super().send_head()

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(dist)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://vue.test:{server.server_address[1]}"
    finally:
        server.shutdown()


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

    deadline = time.monotonic() + 30
    while True:
        report = dev.stats("engagement", "period=24h")
        read = {row["value"]: row for row in report["pages"]}
        if {"/", "/docs"} <= set(read):
            break
        assert time.monotonic() < deadline, f"the engagement did not arrive: {report}"
        time.sleep(0.3)
    pages = {row["value"]: row["pageviews"] for row in dev.stats("pages", "period=24h")["pages"]}
    assert pages == {"/": 1, "/docs": 1}
    assert read["/docs"]["scrollDepth"] == 100
    assert all(0.3 <= row["timeOnPage"] < 30 for row in read.values()), read
