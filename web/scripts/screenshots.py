"""Full-page PNGs of the dashboard's main views into docs/screenshots/ (light and dark, desktop
and phone width), against a fresh `traytic dev` filled by `traytic demo` (30 days, seeded); the
alert and report pages (with a spike alert that fired, through a local SMTP server); the goals:
their settings page, the dashboard's Goals panel and a funnel page (goals made through the
settings form over the demo's traffic, plus purchases with revenue sent through `/collect`); and
a weekly report email as a mail client shows it, sent by the real scheduler over a stored
dataset.

    uv run python web/scripts/screenshots.py      # after `npm run build` in web/ (make screenshots)
    uv run python web/scripts/screenshots.py goals    # only some: views, alerts, goals, email
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.alerts.conftest import RunningClock, fast_settings  # noqa: E402
from tests.alerts.receivers import smtp_server  # noqa: E402
from tests.db.factories import make_organisation  # noqa: E402
from tests.e2e.conftest import start_dev  # noqa: E402
from tests.warehouse.stats.dataset import make_dataset, store  # noqa: E402
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


PARTS = ("views", "alerts", "goals", "email")


def main() -> None:
    parts = set(sys.argv[1:]) or set(PARTS)
    if parts - set(PARTS):
        sys.exit(f"parts are {', '.join(PARTS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, smtp_server(Path(tmp)) as smtp:
        data_dir = Path(tmp) / "data"
        process = start_dev(
            data_dir,
            {
                "TRAYTIC_SMTP_HOST": smtp.host,
                "TRAYTIC_SMTP_PORT": str(smtp.port),
                "TRAYTIC_SMTP_CA_FILE": smtp.ca_file,
                "TRAYTIC_MAIL_FROM": "Traytic <alerts@example.com>",
                "TRAYTIC_ALERTS_CHECK_INTERVAL_S": "2",
            },
        )
        try:
            dev = Dev(process, json.loads((data_dir / "dev.json").read_text()))
            fill(data_dir)
            if "views" in parts:
                shoot(dev)
            if "alerts" in parts:
                shoot_alerts(dev, smtp.mailbox.wait_for)
            if "goals" in parts:
                shoot_goals(dev)
        finally:
            process.stop()
        if "email" in parts:
            email = Path(tmp) / "email.html"
            email.write_text(report_email_html(Path(tmp)))
            shoot_email(email)


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
                    if name == "dashboard" and device == "desktop":
                        shoot_engagement(page, scheme)
                context.close()
        browser.close()
    print(f"saved to {OUT.relative_to(REPO)}")


def _logged_in(browser: Browser, dev: Dev) -> tuple[BrowserContext, Page]:
    """A desktop-sized context logged in as the demo's owner, on the site's dashboard."""
    context = browser.new_context(base_url=dev.url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(dev.email)
    page.get_by_label("Password").fill(dev.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/sites/**")
    return context, page


def shoot_engagement(page: Any, scheme: str) -> None:
    """The panels of issue 18 on their own (the README's table): time on page in light, outbound
    links in dark, errors in both."""
    panel = page.locator('[data-panel="engagement"]')
    if scheme == "light":
        panel.screenshot(path=OUT / "engagement-light-desktop.png")
    else:
        panel.get_by_role("tab", name="Outbound links").click()
        page.wait_for_timeout(200)
        panel.screenshot(path=OUT / "outbound-dark-desktop.png")
    page.locator('[data-panel="errors"]').screenshot(path=OUT / f"errors-{scheme}-desktop.png")


def shoot_alerts(dev: Dev, wait_for_mail: Any) -> None:
    """The alert and report pages: set up through their forms, a spike that fired (one email
    sent, one address refused) and a weekly report with recipients in two zones."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context, page = _logged_in(browser, dev)
        page.goto(f"/settings/sites/{dev.site_id}/alerts")
        form = page.get_by_role("form", name="New alert")
        form.get_by_label("Visitors at once", exact=True).fill("5")
        form.get_by_label("Name", exact=True).fill("Launch day traffic")
        form.get_by_label("Email addresses").fill("ops@example.com, bounce-old@example.com")
        form.get_by_label("Slack incoming webhook URL").fill(
            "https://hooks.slack.com/services/T000/B000/XXXX"
        )
        form.get_by_role("button", name="Add alert").click()
        page.wait_for_selector("tr[data-alert='Launch day traffic']")
        form.get_by_label("Kind").select_option("drop")
        form.get_by_label("Name", exact=True).fill("Tracker removed?")
        form.get_by_label("Email addresses").fill("ops@example.com")
        form.get_by_role("button", name="Add alert").click()
        page.wait_for_selector("tr[data-alert='Tracker removed?']")
        for version in range(150, 158):
            dev.beacon([{"type": "pageview", "url": "https://example.com/launch"}], version)
        wait_for_mail(1, 90)
        page.goto(f"/settings/sites/{dev.site_id}/reports")
        form = page.get_by_role("form", name="New report")
        form.get_by_label("Name", exact=True).fill("Monday numbers")
        form.get_by_label("Email addresses").fill("team@example.com, founder@example.com")
        form.get_by_label("Webhook URL (signed)").fill("https://example.com/hooks/traytic")
        form.get_by_role("button", name="Add report").click()
        page.wait_for_selector("tr[data-report='Monday numbers']")
        page.wait_for_timeout(6000)  # scheduled by the next round, and the slack attempt failed
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for name in ("alerts", "reports"):
                page.goto(f"/settings/sites/{dev.site_id}/{name}")
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(300)
                page.screenshot(path=OUT / f"{name}-{scheme}-desktop.png", full_page=True)
        context.close()
        browser.close()


GOALS = (
    ("Pricing", "pageview", "/pricing", None),
    ("Signup page", "pageview", "/signup", None),
    ("Signup", "event", "signup", None),
    ("Pro signup", "event", "signup", ("plan", "pro")),
    ("Purchase", "revenue", "purchase", None),
)
PURCHASES = ((29.9, "EUR"), (29.9, "EUR"), (99.0, "EUR"), (32.5, "USD"), (29.9, "EUR"))


def shoot_goals(dev: Dev) -> None:
    """Goals and a funnel made through the settings page, the site reporting in euros, a few
    purchases with revenue; then the settings page, the Goals panel and the funnel page."""
    for n, (amount, currency) in enumerate(PURCHASES):
        dev.beacon(
            [
                {"type": "pageview", "url": "http://localhost/pricing"},
                {
                    "type": "event",
                    "name": "purchase",
                    "url": "http://localhost/pricing",
                    "props": {"plan": "pro"},
                    "revenue": {"amount": amount, "currency": currency},
                },
            ],
            170 + n,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context, page = _logged_in(browser, dev)
        page.goto(f"/settings/sites/{dev.site_id}")
        page.get_by_label("Reporting currency").fill("EUR")
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_role("status").wait_for()
        page.goto(f"/settings/sites/{dev.site_id}/goals")
        form = page.get_by_role("form", name="Add a goal")
        for name, kind, match, prop in GOALS:
            form.get_by_label("Kind").select_option(kind)
            form.get_by_label("Name", exact=True).fill(name)
            form.get_by_label("Path pattern" if kind == "pageview" else "Event name").fill(match)
            if prop is not None:
                form.get_by_label("Prop (optional)").fill(prop[0])
                form.get_by_label("equal to").fill(prop[1])
            form.get_by_role("button", name="Add goal").click()
            page.wait_for_selector(f"tr[data-goal='{name}']")
        form = page.get_by_role("form", name="Add a funnel")
        form.get_by_label("Name", exact=True).fill("Signup funnel")
        form.get_by_role("button", name="Add a step").click()
        for step, goal in enumerate(("Pricing", "Signup page", "Signup"), start=1):
            form.get_by_label(f"Step {step}", exact=True).select_option(label=goal)
        form.get_by_role("button", name="Add funnel").click()
        funnel = page.locator("tr[data-funnel='Signup funnel']")
        funnel.wait_for()
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.goto(f"/settings/sites/{dev.site_id}/goals")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=OUT / f"goal-settings-{scheme}-desktop.png", full_page=True)
            page.goto(f"/sites/{dev.site_id}?period=30d")
            panel = page.locator("[data-panel='goals'] table")
            panel.wait_for()
            page.wait_for_timeout(500)
            page.locator("[data-panel='goals']").screenshot(
                path=OUT / f"goals-panel-{scheme}-desktop.png"
            )
            page.get_by_role("link", name="Signup funnel").click()
            page.get_by_role("table", name="Visitors at each step").wait_for()
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)
            page.screenshot(path=OUT / f"funnel-{scheme}-desktop.png", full_page=True)
        context.close()
        browser.close()


def report_email_html(tmp: Path) -> str:
    """A weekly report sent by the real scheduler (SQLite, chDB with the stats tests' dataset,
    a local SMTP server), its HTML part with the chart made inline for a browser."""
    return asyncio.run(_send_report(tmp))


async def _send_report(tmp: Path) -> str:
    from datetime import UTC, datetime

    import msgspec
    from sqlmodel import select

    from traytic.alerts import running_scheduler
    from traytic.db import Database, DbSettings, migrate
    from traytic.db.models import Recipient
    from traytic.db.repositories import recipients, reports, sites
    from traytic.db.repositories.recipients import RecipientSpec
    from traytic.db.repositories.reports import ReportSpec
    from traytic.warehouse import WarehouseSettings, open_warehouse

    (tmp / "mail").mkdir()
    settings = DbSettings(database_url=f"sqlite+aiosqlite:///{tmp / 'email.db'}")
    await migrate(settings)
    db = Database.from_settings(settings)
    warehouse = open_warehouse(
        WarehouseSettings(chdb_path=str(tmp / "chdb"), clickhouse_database="screenshots")
    )
    try:
        await warehouse.migrate()
        await store(
            warehouse, [msgspec.structs.replace(r, site_id="st_main") for r in make_dataset()]
        )
        async with db.session() as session:
            organisation = await make_organisation(session)
            await sites.create_site(
                session,
                organisation.id,
                domain="example.com",
                time_zone="Europe/Berlin",
                site_id="st_main",
            )
            report = await reports.create_report(
                session, "st_main", ReportSpec(name="Monday numbers"), created_by_id=None
            )
            wanted = [RecipientSpec("email", "team@example.com")]
            await recipients.set_recipients(
                session, recipients.check_recipients(wanted, "Europe/Berlin"), report_id=report.id
            )
            for row in (await session.exec(select(Recipient))).all():
                row.next_run_at = datetime(2025, 3, 24, 7, 0, tzinfo=UTC)
        with smtp_server(tmp / "mail") as smtp:
            clock = RunningClock(datetime(2025, 3, 24, 7, 0, 5, tzinfo=UTC))
            alerts_settings = fast_settings(smtp, public_url="https://analytics.example.com")
            async with running_scheduler(db, warehouse, alerts_settings, clock=clock.time):
                (mail,) = await asyncio.to_thread(smtp.mailbox.wait_for, 1)
    finally:
        await warehouse.close()
        await db.dispose()
    html = mail.get_body(("html",))
    assert html is not None
    (chart,) = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    data = base64.b64encode(chart.get_payload(decode=True)).decode()
    return str(html.get_content()).replace("cid:chart", f"data:image/png;base64,{data}")


def shoot_email(email: Path) -> None:
    """The weekly report email as a mail client shows its HTML part, the chart inline."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 700, "height": 900})
        page.goto(email.as_uri())
        page.screenshot(path=OUT / "report-email.png", full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
