"""Receivers that fail: a refused address fails at once (retrying cannot help), a Slack webhook
answering 500, a webhook that times out and an unreachable SMTP server are tried again with
backoff and then marked failed with their error; meanwhile the healthy recipients of the same
report get theirs at once."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import col, select

from tests.alerts.conftest import RunningClock, World, fast_settings
from tests.alerts.receivers import Receiver, SmtpServer
from tests.alerts.test_reports import BERLIN_MONDAY_8AM
from tests.fixtures.clickhouse import free_port
from traytic.db.models import Delivery, Recipient
from traytic.db.repositories.recipients import RecipientSpec

pytestmark = pytest.mark.parametrize("warehouse_settings", ["chdb"], indirect=True)


async def _due_now(world: World) -> None:
    async with world.db.session() as session:
        for recipient in (await session.exec(select(Recipient))).all():
            recipient.next_run_at = BERLIN_MONDAY_8AM


async def _settled(world: World, count: int, timeout: float = 40.0) -> dict[str, Delivery]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with world.db.session() as session:
            rows = (await session.exec(select(Delivery))).all()
        if len(rows) == count and all(r.status in ("sent", "failed") for r in rows):
            return {row.target.rsplit("/", 1)[-1]: row for row in rows}
        await asyncio.sleep(0.1)
    raise AssertionError(f"not settled: {[(r.target, r.status) for r in rows]}")


async def test_failing_receivers_are_retried_then_failed_and_block_nothing(
    world: World, smtp: SmtpServer, http_receiver: Receiver
) -> None:
    http_receiver.slow_s = 4.0  # longer than the timeout below
    await world.report(
        [
            RecipientSpec("email", "bounce-me@example.com"),
            RecipientSpec("email", "ann@example.com"),
            RecipientSpec("slack", f"{http_receiver.url}/slack/broken"),
            RecipientSpec("webhook", f"{http_receiver.url}/hook/slow"),
            RecipientSpec("webhook", f"{http_receiver.url}/hook/good"),
        ]
    )
    await _due_now(world)
    settings = fast_settings(smtp, alerts_http_timeout_s=2.0)
    async with world.scheduler(settings, RunningClock(BERLIN_MONDAY_8AM)):
        await asyncio.to_thread(http_receiver.wait_for, "/hook/good", 1)
        async with world.db.session() as session:
            slow_then = (
                await session.exec(
                    select(Delivery).where(col(Delivery.target).endswith("/hook/slow"))
                )
            ).one_or_none()  # each recipient's delivery row is written when its turn comes
        await asyncio.to_thread(smtp.mailbox.wait_for, 1)
        rows = await _settled(world, 5)

    # The healthy webhook did not wait for the slow one's attempts to run out.
    assert slow_then is None or slow_then.status != "failed", (
        "the healthy webhook waited for the failing ones"
    )
    by_target = {row.target: row for row in rows.values()}
    bounce = by_target["bounce-me@example.com"]
    assert (bounce.status, bounce.attempts) == ("failed", 1)
    assert "refused the address (550)" in (bounce.last_error or "")
    assert by_target["ann@example.com"].status == "sent"
    slack = by_target[f"{http_receiver.url}/slack/broken"]
    assert (slack.status, slack.attempts) == ("failed", 3)
    assert slack.last_error == "HTTP 500: internal_error"
    assert http_receiver.attempts["/slack/broken"] == 3
    slow = by_target[f"{http_receiver.url}/hook/slow"]
    assert (slow.status, slow.attempts) == ("failed", 3)
    assert "timeout" in (slow.last_error or "")
    assert by_target[f"{http_receiver.url}/hook/good"].status == "sent"
    assert smtp.mailbox.refused == ["bounce-me@example.com"]


async def test_an_unreachable_smtp_server_is_retried_then_failed(
    world: World, smtp: SmtpServer, http_receiver: Receiver
) -> None:
    await world.report(
        [
            RecipientSpec("email", "ann@example.com"),
            RecipientSpec("webhook", f"{http_receiver.url}/hook/good"),
        ]
    )
    await _due_now(world)
    settings = fast_settings(smtp, smtp_port=free_port())  # nothing listens there
    async with world.scheduler(settings, RunningClock(BERLIN_MONDAY_8AM)):
        rows = await _settled(world, 2)
    email = rows["ann@example.com"]
    assert (email.status, email.attempts) == ("failed", 3)
    assert "could not reach the SMTP server" in (email.last_error or "")
    assert rows["good"].status == "sent"
    assert smtp.mailbox.messages == []
