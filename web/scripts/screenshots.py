"""Full-page PNGs of the dashboard's main views into docs/screenshots/ (light and dark, desktop
and phone width), against a fresh `traytic dev` seeded with a few dozen beacons; the alert and
report pages (with a spike alert that fired, through a local SMTP server); and a weekly report
email as a mail client shows it, sent by the real scheduler over a stored dataset.

    uv run python web/scripts/screenshots.py      # after `npm run build` in web/
"""

from __future__ import annotations

import asyncio
import base64
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

from tests.alerts.conftest import RunningClock, fast_settings  # noqa: E402
from tests.alerts.receivers import smtp_server  # noqa: E402
from tests.db.factories import make_organisation  # noqa: E402
from tests.e2e.conftest import start_dev  # noqa: E402
from tests.warehouse.stats.dataset import make_dataset, store  # noqa: E402
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
            seed(dev)
            time.sleep(3)
            shoot(dev)
            shoot_alerts(dev, smtp.mailbox.wait_for)
        finally:
            process.stop()
        email = Path(tmp) / "email.html"
        email.write_text(report_email_html(Path(tmp)))
        shoot_email(email)


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


def shoot_alerts(dev: Dev, wait_for_mail: Any) -> None:
    """The alert and report pages: set up through their forms, a spike that fired (one email
    sent, one address refused) and a weekly report with recipients in two zones."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(base_url=dev.url, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(dev.email)
        page.get_by_label("Password").fill(dev.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/sites/**")
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
