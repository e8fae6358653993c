"""Weekly reports end to end, on both warehouse engines and both databases: the scheduler sends
each recipient's report once, on time, through a real SMTP server with STARTTLS, Slack's and a
webhook's stand-ins, with the numbers the test computes from the events it stored (and the
stats service's own answer); after downtime the latest missed report is sent once, late."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from email.message import EmailMessage

import msgspec
from PIL import Image
from sqlmodel import select

from tests.alerts.conftest import SITE, TZ, RunningClock, World, fast_settings
from tests.alerts.receivers import Receiver, SmtpServer
from tests.warehouse.stats.dataset import expected_breakdown, expected_overview, make_dataset
from traytic.alerts.signing import verify
from traytic.db.models import Delivery, Recipient
from traytic.db.repositories.recipients import RecipientSpec
from traytic.warehouse.stats import Stats, StatsQuery

BERLIN_MONDAY_8AM = datetime(2025, 3, 24, 7, 0, tzinfo=UTC)
"""Monday 24 March 2025, 08:00 in Berlin (CET): the weekly report for 17 to 23 March is due."""
WEEK = StatsQuery.build(SITE, date_from="2025-03-17", date_to="2025-03-23", tz=TZ, limit=5)


async def _wait(condition: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def _statuses(world: World) -> list[str]:
    async with world.db.session() as session:
        return sorted(row.status for row in (await session.exec(select(Delivery))).all())


def _plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_weekly_report_arrives_once_per_recipient_with_the_true_numbers(
    world: World, smtp: SmtpServer, http_receiver: Receiver
) -> None:
    rows = [msgspec.structs.replace(row, site_id=SITE) for row in make_dataset()]
    await world.store(rows)
    report_id, listed = await world.report(
        [
            RecipientSpec("email", "ann@example.com"),
            RecipientSpec("slack", f"{http_receiver.url}/slack/T000/B000/XXXX"),
            RecipientSpec("webhook", f"{http_receiver.url}/hook/reports"),
        ]
    )
    secret = next(r.secret for r in listed if r.channel == "webhook")
    clock = RunningClock(datetime(2025, 3, 23, 19, 0, tzinfo=UTC))  # Sunday evening
    truth, before = expected_overview(rows, WEEK)
    assert truth.visitors > 0
    answer = await Stats(world.warehouse).overview(WEEK)

    async def scheduled() -> bool:
        async with world.db.session() as session:
            rows = (await session.exec(select(Recipient))).all()
            return all(row.next_run_at is not None for row in rows)

    async with world.scheduler(fast_settings(smtp), clock):
        await _wait(scheduled)
        await asyncio.sleep(0.3)  # scheduled, not sent: nothing is due before Monday 08:00
        assert smtp.mailbox.messages == [] and http_receiver.arrivals == []
        clock.jump_to(BERLIN_MONDAY_8AM)
        (mail,) = await asyncio.to_thread(smtp.mailbox.wait_for, 1)
        await asyncio.to_thread(http_receiver.wait_for, "/slack/T000/B000/XXXX", 1)
        (hook,) = await asyncio.to_thread(http_receiver.wait_for, "/hook/reports", 1)
        await asyncio.sleep(1.0)  # more rounds: nothing is sent twice

    assert len(smtp.mailbox.messages) == 1 and smtp.mailbox.tls == [True]
    assert len(http_receiver.arrivals) == 2
    visitors = f"{truth.visitors:,}"
    assert mail["Subject"].startswith(f"Weekly report for example.com: {visitors} visitors")
    assert mail["To"] == "ann@example.com"
    text = _plain(mail)
    assert "17 to 23 March 2025 (Europe/Berlin)" in text
    assert f"Visitors: {visitors}" in text and f"Pageviews: {truth.pageviews:,}" in text
    top_page = expected_breakdown(rows, WEEK, lambda r: (r.pathname, None), types=("pageview",))
    assert f"  {top_page[0][0]}  {top_page[0][2]:,}" in text
    assert f"http://traytic.test/sites/{SITE}?from=2025-03-17&to=2025-03-23" in text
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("http://traytic.test/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html_part = mail.get_body(("html",))
    assert html_part is not None and 'src="cid:chart"' in html_part.get_content()
    (chart,) = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert chart["Content-ID"] == "<chart>"
    assert Image.open(io.BytesIO(chart.get_payload(decode=True))).size == (1200, 320)

    body = hook.json()
    assert verify(secret, hook.headers["traytic-signature"], hook.body, clock.time())
    assert hook.headers["idempotency-key"] == body["idempotencyKey"]
    assert body["report"]["overview"] == msgspec.to_builtins(answer)
    overview = body["report"]["overview"]
    assert overview["visitors"] == {"value": truth.visitors, "previous": before.visitors}
    assert overview["pageviews"]["value"] == truth.pageviews
    assert [p["value"] for p in body["report"]["pages"]] == [p[0] for p in top_page]
    assert body["report"]["late"] is False and body["report"]["from"] == "2025-03-17"

    slack = http_receiver.at("/slack/T000/B000/XXXX")[0].json()
    assert slack["blocks"][0]["type"] == "header" and visitors in slack["text"]

    async with world.db.session() as session:
        deliveries = (await session.exec(select(Delivery))).all()
        assert {d.status for d in deliveries} == {"sent"} and len(deliveries) == 3
        assert all(d.report_id == report_id and d.attempts == 1 for d in deliveries)
        nexts = {r.next_run_at for r in (await session.exec(select(Recipient))).all()}
        assert nexts == {datetime(2025, 3, 31, 6, 0, tzinfo=UTC)}  # 08:00 CEST next Monday


async def test_after_downtime_the_latest_missed_report_is_sent_once_marked_late(
    world: World, smtp: SmtpServer, http_receiver: Receiver
) -> None:
    rows = [msgspec.structs.replace(row, site_id=SITE) for row in make_dataset()]
    await world.store(rows)
    await world.report(
        [
            RecipientSpec("email", "ann@example.com"),
            RecipientSpec("webhook", f"{http_receiver.url}/hook/late"),
        ]
    )
    async with world.db.session() as session:  # last scheduled for 3 March, then down
        for recipient in (await session.exec(select(Recipient))).all():
            recipient.next_run_at = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
    clock = RunningClock(datetime(2025, 3, 26, 10, 0, tzinfo=UTC))  # back on Wednesday

    async with world.scheduler(fast_settings(smtp), clock):
        (mail,) = await asyncio.to_thread(smtp.mailbox.wait_for, 1)
        (hook,) = await asyncio.to_thread(http_receiver.wait_for, "/hook/late", 1)
        await asyncio.sleep(1.0)

    assert len(smtp.mailbox.messages) == 1 and len(http_receiver.at("/hook/late")) == 1
    assert mail["Subject"].endswith("[late]")
    text = _plain(mail)
    assert "17 to 23 March 2025" in text
    assert "sent late, after downtime" in text and "3 earlier reports were skipped" in text
    report = hook.json()["report"]
    assert report["late"] is True and (report["from"], report["to"]) == (
        "2025-03-17",
        "2025-03-23",
    )
    assert date.fromisoformat(report["dueAt"][:10]) == date(2025, 3, 24)
    assert await _statuses(world) == ["sent", "sent"]
