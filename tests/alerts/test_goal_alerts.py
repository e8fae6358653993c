"""Goal alerts and goal conversions in reports, end to end on both warehouse engines and both
databases: the scheduler counts a goal's conversions over the alert's window (the numbers the
test computes from the events it stored), sends one message per crossing through a real SMTP
server and a webhook, and a weekly report lists each goal with its conversions and revenue."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlmodel import select

from tests.alerts.conftest import SITE, RunningClock, World, fast_settings
from tests.alerts.receivers import Receiver, SmtpServer
from tests.warehouse.stats.dataset import event
from traytic.db.models import Alert, Recipient, Site
from traytic.db.repositories import goals
from traytic.db.repositories.alerts import AlertSpec
from traytic.db.repositories.recipients import RecipientSpec

NOW = datetime(2025, 3, 25, 13, 0, tzinfo=UTC)
MONDAY_8AM_BERLIN = datetime(2025, 3, 24, 7, 0, tzinfo=UTC)


def _plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def _goal(world: World, **fields: str) -> str:
    async with world.db.session() as session:
        made = await goals.create_goal(session, world.site_id, **fields)  # type: ignore[arg-type]
        return str(made.id)


async def test_a_goal_alert_counts_conversions_in_its_window(
    world: World, smtp: SmtpServer, http_receiver: Receiver
) -> None:
    goal_id = await _goal(world, name="Purchase", kind="event", match="purchase")
    now = int(NOW.timestamp())
    rows = [
        # inside the last 30 minutes: 3 purchases by 2 visitors, a signup that is another goal
        event(type="event", name="purchase", ts=now - 60, visitor_id=1, session_id=1),
        event(type="event", name="purchase", ts=now - 120, visitor_id=1, session_id=1),
        event(type="event", name="purchase", ts=now - 29 * 60, visitor_id=2, session_id=2),
        event(type="event", name="signup", ts=now - 60, visitor_id=3, session_id=3),
        # before the window: not counted
        event(type="event", name="purchase", ts=now - 31 * 60, visitor_id=4, session_id=4),
        event(type="event", name="purchase", ts=now - 90 * 60, visitor_id=5, session_id=5),
    ]
    in_window = [
        r for r in rows if r.name == "purchase" and now - 30 * 60 <= r.ts < now
    ]  # the truth
    await world.store(rows)
    alert_id, _ = await world.alert(
        AlertSpec(
            name="Sales",
            kind="goal",
            threshold=3,
            goal_id=uuid.UUID(goal_id),
            window_s=1800,
        ),
        [
            RecipientSpec("email", "ops@example.com"),
            RecipientSpec("webhook", f"{http_receiver.url}/hook/goal"),
        ],
    )
    quiet_id, _ = await world.alert(
        AlertSpec(name="", kind="goal", threshold=4, goal_id=uuid.UUID(goal_id), window_s=1800),
        [RecipientSpec("webhook", f"{http_receiver.url}/hook/quiet")],
    )
    async with world.scheduler(fast_settings(smtp), RunningClock(NOW)):
        (hook,) = await asyncio.to_thread(http_receiver.wait_for, "/hook/goal", 1)
        (mail,) = await asyncio.to_thread(smtp.mailbox.wait_for, 1)
        await asyncio.sleep(1.0)  # still at the threshold: no second message

    assert len(in_window) == 3
    body = hook.json()["alert"]
    assert body["kind"] == "goal" and body["value"] == len(in_window)
    assert body["goal"] == {"id": goal_id, "name": "Purchase"}
    assert (body["windowMinutes"], body["below"], body["threshold"]) == (30, False, 3)
    assert mail["Subject"] == ("Goal Purchase on example.com: 3 conversions in the last 30 minutes")
    assert "at or above your threshold of 3" in _plain(mail)
    assert len(http_receiver.at("/hook/goal")) == 1 and len(smtp.mailbox.messages) == 1
    assert http_receiver.at("/hook/quiet") == []
    async with world.db.session() as session:
        fired = await session.get(Alert, alert_id)
        quiet = await session.get(Alert, quiet_id)
        assert fired is not None and fired.firing and fired.last_value == 3
        assert quiet is not None and not quiet.firing and quiet.last_value == 3


async def test_a_goal_alert_below_fires_when_conversions_stop(
    world: World, http_receiver: Receiver
) -> None:
    goal_id = await _goal(world, name="Signup page", kind="pageview", match="/signup/**")
    now = int(NOW.timestamp())
    await world.store(
        [
            event(pathname="/signup/team", ts=now - 3 * 3600, visitor_id=1, session_id=1),
            event(pathname="/signup", ts=now - 600, visitor_id=2, session_id=2),  # no: whole path
            event(pathname="/pricing", ts=now - 600, visitor_id=3, session_id=3),
        ]
    )
    await world.alert(
        AlertSpec(
            name="", kind="goal", threshold=1, below=True, goal_id=uuid.UUID(goal_id), window_s=7200
        ),
        [RecipientSpec("webhook", f"{http_receiver.url}/hook/below")],
    )
    async with world.scheduler(fast_settings(None), RunningClock(NOW)):
        (hook,) = await asyncio.to_thread(http_receiver.wait_for, "/hook/below", 1)
    body = hook.json()["alert"]
    assert (body["value"], body["below"], body["windowMinutes"]) == (0, True, 120)
    assert hook.json()["alert"]["name"] == "Fewer than 1 conversions in 120 minutes"


async def test_a_weekly_report_lists_goal_conversions_and_revenue(
    world: World, smtp: SmtpServer, http_receiver: Receiver
) -> None:
    async with world.db.session() as session:
        site = await session.get(Site, SITE)
        assert site is not None
        site.currency = "EUR"
    await _goal(world, name="Purchase", kind="revenue", match="purchase")
    await _goal(world, name="Pricing", kind="pageview", match="/pricing")
    week = [datetime(2025, 3, 18, 10, tzinfo=UTC) + timedelta(days=d) for d in range(5)]
    rows = []
    for n, day in enumerate(week):  # 5 visitors in the week, 2 of them buy, 3 view /pricing
        visitor = 10 + n
        rows.append(event(ts=day, visitor_id=visitor, session_id=visitor, pathname="/"))
        if n < 3:
            rows.append(event(ts=day, visitor_id=visitor, session_id=visitor, pathname="/pricing"))
    rows += [
        event(type="event", name="purchase", ts=week[0], visitor_id=10, session_id=10,
              revenue_micros=19_990_000, revenue_currency="EUR"),
        event(type="event", name="purchase", ts=week[1], visitor_id=11, session_id=11,
              revenue_micros=5_000_000, revenue_currency="EUR"),
        event(type="event", name="purchase", ts=week[1], visitor_id=11, session_id=11,
              revenue_micros=7_000_000, revenue_currency="USD"),  # no rate here: counted 0
    ]  # fmt: skip
    await world.store(rows)
    await world.report(
        [
            RecipientSpec("email", "ann@example.com"),
            RecipientSpec("webhook", f"{http_receiver.url}/hook/report"),
        ]
    )
    clock = RunningClock(MONDAY_8AM_BERLIN - timedelta(hours=12))

    async def scheduled() -> bool:
        async with world.db.session() as session:
            return all(r.next_run_at for r in (await session.exec(select(Recipient))).all())

    async with world.scheduler(fast_settings(smtp), clock):
        while not await scheduled():
            await asyncio.sleep(0.05)
        clock.jump_to(MONDAY_8AM_BERLIN)
        (mail,) = await asyncio.to_thread(smtp.mailbox.wait_for, 1)
        (hook,) = await asyncio.to_thread(http_receiver.wait_for, "/hook/report", 1)

    text = _plain(mail)
    # 2 of 5 visitors bought (3 purchases, 24.99 EUR: the USD one has no rate); 3 viewed /pricing
    assert "Goals:" in text
    assert "  Purchase  2 converted (new) · 40% of visitors · 24.99 EUR" in text
    assert "  Pricing  3 converted (new) · 60% of visitors" in text
    assert "revenue in USD has no exchange rate here" in text
    html_part = mail.get_body(("html",))
    assert html_part is not None and "24.99 EUR" in html_part.get_content()
    report = hook.json()["report"]
    by_name = {goal["name"]: goal for goal in report["goals"]["goals"]}
    assert by_name["Purchase"]["totalConversions"]["value"] == 3
    assert by_name["Purchase"]["revenue"]["value"] == 24.99
    assert report["goals"]["money"] == {"currency": "EUR", "unconverted": ["USD"]}
