"""Traffic alerts end to end: a spike reaches its recipients within seconds of the events (one
message per crossing), a drop is judged against the same hours of the same weekday in the
previous weeks; both with numbers equal to the stats service's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from tests.alerts.conftest import SITE, TZ, RunningClock, World, fast_settings
from tests.alerts.receivers import Receiver, SmtpServer
from tests.db.factories import make_organisation
from tests.warehouse.stats.dataset import event
from traytic.alerts import AlertsSettings
from traytic.db.models import Alert, Delivery
from traytic.db.repositories import sites
from traytic.db.repositories.alerts import AlertSpec
from traytic.db.repositories.recipients import RecipientSpec
from traytic.warehouse.stats import Stats, StatsQuery

SPIKE_AT = datetime(2025, 3, 25, 13, 0, tzinfo=UTC)


def test_the_default_pace_reports_a_spike_within_a_minute() -> None:
    settings = AlertsSettings()
    assert settings.alerts_check_interval_s + settings.alerts_tick_s < 60


async def test_a_spike_sends_one_message_within_seconds(
    world: World, smtp: SmtpServer, http_receiver: Receiver
) -> None:
    alert_id, _ = await world.alert(
        AlertSpec(name="Launch traffic", kind="spike", threshold=5),
        [
            RecipientSpec("email", "ops@example.com"),
            RecipientSpec("webhook", f"{http_receiver.url}/hook/alerts"),
        ],
    )
    clock = RunningClock(SPIKE_AT)
    async with world.scheduler(fast_settings(smtp), clock):
        await asyncio.sleep(1.0)  # checked, below the threshold: quiet
        assert http_receiver.arrivals == []
        spike = clock.time()
        await world.store(
            [
                event(site_id=SITE, ts=int(spike) - 20 - n, visitor_id=100 + n, session_id=100 + n)
                for n in range(8)
            ]
        )
        (hook,) = await asyncio.to_thread(http_receiver.wait_for, "/hook/alerts", 1)
        noticed = clock.time()
        (mail,) = await asyncio.to_thread(smtp.mailbox.wait_for, 1)
        await asyncio.sleep(1.5)  # still above the threshold: no second message

    assert noticed - spike < 60
    live = await Stats(world.warehouse).live(
        StatsQuery.build(SITE, period="24h", tz=TZ, now=datetime.fromtimestamp(spike, UTC)),
        now=datetime.fromtimestamp(spike, UTC),
    )
    body = hook.json()["alert"]
    assert body["value"] == live.visitors == 8
    assert body["kind"] == "spike" and body["threshold"] == 5
    assert mail["Subject"] == "Traffic spike on example.com: 8 visitors now"
    assert len(http_receiver.arrivals) == 1 and len(smtp.mailbox.messages) == 1
    async with world.db.session() as session:
        alert = await session.get(Alert, alert_id)
        assert alert is not None and alert.firing and alert.last_value == 8


@pytest.mark.parametrize("warehouse_settings", ["chdb"], indirect=True)
async def test_a_drop_is_judged_against_the_same_weekday(
    world: World, http_receiver: Receiver
) -> None:
    now = datetime(2025, 3, 25, 11, 30, tzinfo=UTC)  # Tuesday, 12:30 in Berlin
    async with world.db.session() as session:
        organisation = await make_organisation(session)
        await sites.create_site(
            session, organisation.id, domain="steady.com", time_zone=TZ, site_id="st_steady"
        )
    rows = []
    ids = iter(range(1000, 100000))
    for site_id, today in ((SITE, 4), ("st_steady", 28)):
        for weeks_back, count in ((0, today), (1, 30), (2, 26), (3, 34), (4, 30)):
            morning = now - timedelta(weeks=weeks_back, hours=2)
            for _ in range(count):
                visitor = next(ids)
                rows.append(
                    event(
                        site_id=site_id,
                        ts=int(morning.timestamp()),
                        visitor_id=visitor,
                        session_id=visitor,
                    )
                )
    await world.store(rows)
    await world.alert(
        AlertSpec(name="", kind="drop", threshold=0.5),
        [RecipientSpec("webhook", f"{http_receiver.url}/hook/drop")],
    )
    world.site_id = "st_steady"
    await world.alert(
        AlertSpec(name="", kind="drop", threshold=0.5),
        [RecipientSpec("webhook", f"{http_receiver.url}/hook/steady")],
    )
    async with world.scheduler(fast_settings(None), RunningClock(now)):
        (hook,) = await asyncio.to_thread(http_receiver.wait_for, "/hook/drop", 1)
        await asyncio.sleep(1.0)
    body = hook.json()["alert"]
    assert body["kind"] == "drop" and body["value"] == 4 and body["usual"] == 30
    assert http_receiver.at("/hook/steady") == []
    async with world.db.session() as session:
        (delivery,) = (await session.exec(select(Delivery))).all()
        assert delivery.subject == (
            "Traffic drop on example.com: 4 visitors today, 13% of a usual Tuesday"
        )
