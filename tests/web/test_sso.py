"""Single sign-on in Chromium: `traytic dev` set up with a stand-in OpenID Connect provider;
the login page offers "Sign in with <name>", and the round trip through the provider (real
redirects, cookies and signed tokens) ends signed in on the dashboard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import start_dev
from tests.query.oidc_provider import CLIENT_ID, CLIENT_SECRET, StandInProvider
from tests.web.conftest import Dev, _ensure_built


@pytest.fixture(scope="module")
def provider() -> Iterator[StandInProvider]:
    stand_in = StandInProvider(
        user={"sub": "w-1", "email": "sso@example.com", "email_verified": True, "name": "Sso"}
    )
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def sso_dev(tmp_path_factory: pytest.TempPathFactory, provider: StandInProvider) -> Iterator[Dev]:
    _ensure_built()
    data_dir = tmp_path_factory.mktemp("sso") / "data"
    settings = {
        "TRAYTIC_OIDC_ISSUER": provider.url,
        "TRAYTIC_OIDC_CLIENT_ID": CLIENT_ID,
        "TRAYTIC_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "TRAYTIC_OIDC_NAME": "Acme ID",
    }
    process = start_dev(data_dir, settings)
    try:
        dev = Dev(process, json.loads((data_dir / "dev.json").read_text()))
        provider.redirect_uri = f"{dev.url}/api/auth/oidc/callback"
        yield dev
    finally:
        process.stop()


async def test_sign_in_with_the_provider(browser: Browser, sso_dev: Dev) -> None:
    context = await browser.new_context(base_url=sso_dev.url)
    page = await context.new_page()
    await page.goto("/login")
    button = page.get_by_role("link", name="Sign in with Acme ID")
    await expect(button).to_be_visible()
    await button.click()
    await page.wait_for_url("**/settings")  # a new account: no site yet
    me: dict[str, Any] = await page.evaluate("fetch('/api/auth/me').then(r => r.json())")
    assert me["user"]["email"] == "sso@example.com"
    await expect(page.get_by_role("link", name="Account")).to_be_visible()
