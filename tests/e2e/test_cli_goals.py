"""`traytic goal` and `traytic funnel`: created, listed, refused with the reason, and deleted
from a shell, in the database the API reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.db.factories import make_organisation
from tests.e2e.test_cli_alerts import _traytic
from traytic.db import Database
from traytic.db.migrate import migrate
from traytic.db.repositories import goals, sites
from traytic.db.settings import DbSettings


async def test_goals_and_funnels_from_the_shell(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'traytic.db'}"
    db_settings = DbSettings(database_url=url)
    await migrate(db_settings)
    db = Database.from_settings(db_settings)
    try:
        async with db.session() as session:
            organisation = await make_organisation(session)
            site = await sites.create_site(session, organisation.id, domain="shop.example")

        def run(*args: str) -> tuple[int, str, str]:
            done = _traytic(*args, env={"TRAYTIC_DATABASE_URL": url})
            return done.returncode, done.stdout, done.stderr

        code, pricing, err = await asyncio.to_thread(
            run, "goal", "create", "--site", site.id, "--name", "Pricing", "--kind", "pageview",
            "--match", "/pricing/**",
        )  # fmt: skip
        assert code == 0, err
        code, pro, err = await asyncio.to_thread(
            run, "goal", "create", "--site", site.id, "--name", "Pro", "--kind", "event",
            "--match", "signup", "--prop", "plan=pro",
        )  # fmt: skip
        assert code == 0, err
        code, listed, _ = await asyncio.to_thread(run, "goal", "list", "--site", site.id)
        assert "/pricing/**" in listed and "signup [plan=pro]" in listed

        code, _, err = await asyncio.to_thread(
            run, "goal", "create", "--site", site.id, "--name", "Bad", "--kind", "pageview",
            "--match", "/pricing/",
        )  # fmt: skip
        assert code == 2 and "trailing /" in err

        code, funnel, err = await asyncio.to_thread(
            run, "funnel", "create", "--site", site.id, "--name", "Buy",
            "--step", pricing.strip(), "--step", pro.strip(), "--within-visit",
        )  # fmt: skip
        assert code == 0, err
        code, shown, _ = await asyncio.to_thread(run, "funnel", "list", "--site", site.id)
        assert "Buy  (one visit)" in shown and "2. Pro" in shown
        code, _, err = await asyncio.to_thread(
            run, "funnel", "create", "--site", site.id, "--name", "One", "--step", pricing.strip()
        )
        assert code == 2 and "2 to 8 steps" in err

        code, _, err = await asyncio.to_thread(
            run, "goal", "delete", "--site", site.id, pricing.strip()
        )
        assert code == 2 and "uses this goal" in err
        code, _, err = await asyncio.to_thread(
            run, "funnel", "delete", "--site", site.id, funnel.strip()
        )
        assert code == 0, err
        code, _, err = await asyncio.to_thread(
            run, "goal", "delete", "--site", site.id, pricing.strip()
        )
        assert code == 0, err
        async with db.session() as session:
            assert [g.name for g in await goals.list_goals(session, site.id)] == ["Pro"]

        code, _, err = await asyncio.to_thread(
            run, "alert", "create", "--site", site.id, "--kind", "goal", "--goal", pro.strip(),
            "--threshold", "1", "--below", "--window-minutes", "1440", "--email", "ops@example.com",
        )  # fmt: skip
        assert code == 0, err
        code, shown, _ = await asyncio.to_thread(run, "alert", "list", "--site", site.id)
        assert f"goal < 1 in 1440 min of goal {pro.strip()}" in shown, shown
        code, _, err = await asyncio.to_thread(
            run, "alert", "create", "--site", site.id, "--kind", "goal", "--threshold", "1"
        )
        assert code == 2 and "needs the goal" in err, err
        code, _, err = await asyncio.to_thread(
            run, "goal", "delete", "--site", site.id, pro.strip()
        )
        assert code == 2 and "counts this goal" in err, err
    finally:
        await db.dispose()
