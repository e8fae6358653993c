"""`traytic alert` and `traytic report`: created, listed, refused with the field named, and
deleted from a shell, in the database the API reads."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from tests.db.factories import make_organisation
from tests.e2e.test_cli import _traytic
from traytic.db import Database
from traytic.db.migrate import migrate
from traytic.db.repositories import recipients, reports, sites
from traytic.db.settings import DbSettings


async def test_alerts_and_reports_from_the_shell(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'traytic.db'}"
    env = {"TRAYTIC_DATABASE_URL": url}
    db_settings = DbSettings(database_url=url)
    await migrate(db_settings)
    db = Database.from_settings(db_settings)
    try:
        async with db.session() as session:
            organisation = await make_organisation(session)
            site = await sites.create_site(
                session, organisation.id, domain="shop.example", time_zone="Europe/Berlin"
            )

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return _traytic(*args, env=env)

        made = await asyncio.to_thread(
            run, "report", "create", "--site", site.id, "--email", "ann@example.com",
            "--webhook", "https://example.net/hook", "--tz", "Asia/Tokyo",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        report_id = made.stdout.splitlines()[0]
        assert "secret=" in made.stdout
        async with db.session() as session:
            (report,) = await reports.list_reports(session, site.id)
            assert str(report.id) == report_id
            listed = await recipients.list_recipients(session, report_id=report.id)
            assert {(r.target, r.time_zone) for r in listed} == {
                ("ann@example.com", "Asia/Tokyo"),
                ("https://example.net/hook", "Asia/Tokyo"),
            }

        shown = await asyncio.to_thread(run, "report", "list", "--site", site.id)
        assert report_id in shown.stdout and "weekly at 08:00" in shown.stdout

        alert = await asyncio.to_thread(
            run, "alert", "create", "--site", site.id, "--kind", "spike", "--threshold", "50",
            "--email", "ops@example.com",
        )  # fmt: skip
        assert alert.returncode == 0, alert.stderr
        listed_alerts = await asyncio.to_thread(run, "alert", "list", "--site", site.id)
        assert "spike > 50" in listed_alerts.stdout and "ops@example.com" in listed_alerts.stdout

        bad = await asyncio.to_thread(
            run, "alert", "create", "--site", site.id, "--kind", "drop", "--threshold", "3",
        )  # fmt: skip
        assert bad.returncode == 2 and "between 0 and 1" in bad.stderr
        bad_mail = await asyncio.to_thread(
            run, "report", "create", "--site", site.id, "--email", "not-an-address"
        )
        assert bad_mail.returncode == 2 and "not an email address" in bad_mail.stderr
        nowhere = await asyncio.to_thread(run, "report", "list", "--site", "st_nope")
        assert nowhere.returncode == 2 and "no site" in nowhere.stderr

        gone = await asyncio.to_thread(run, "report", "delete", "--site", site.id, report_id)
        assert gone.returncode == 0, gone.stderr
        empty = await asyncio.to_thread(run, "report", "deliveries", "--site", site.id)
        assert empty.returncode == 0 and empty.stdout == ""
        async with db.session() as session:
            assert await reports.list_reports(session, site.id) == []
    finally:
        await db.dispose()
