"""Alerts, reports, recipients and the outbox on both dialects: validation, recipients that keep
their state, leases that two claimers never share, and idempotent delivery writes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.db.factories import make_organisation
from traytic.core.errors import InvalidInput
from traytic.db import Database
from traytic.db.models import Delivery, DeliveryStatus
from traytic.db.repositories import alerts, deliveries, goals, recipients, reports, sites
from traytic.db.repositories.alerts import AlertSpec
from traytic.db.repositories.recipients import RecipientSpec
from traytic.db.repositories.reports import ReportSpec
from traytic.db.tokens import unsubscribe_recipient_id, unsubscribe_token, unsubscribe_token_valid

NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


async def _site(db: Database) -> str:
    async with db.session() as session:
        organisation = await make_organisation(session)
        site = await sites.create_site(session, organisation.id, domain="example.com")
        return site.id


GOAL = uuid.UUID(int=7)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (AlertSpec(name="", kind="spike", threshold=0), "threshold"),
        (AlertSpec(name="", kind="spike", threshold=2.5), "threshold"),
        (AlertSpec(name="", kind="drop", threshold=1.5), "threshold"),
        (AlertSpec(name="", kind="drop", threshold=float("nan")), "threshold"),
        (AlertSpec(name="", kind="surge", threshold=5), "kind"),
        (AlertSpec(name="", kind="goal", threshold=5), "goalId"),
        (AlertSpec(name="", kind="goal", threshold=0, goal_id=GOAL), "threshold"),
        (AlertSpec(name="", kind="goal", threshold=2.5, goal_id=GOAL), "threshold"),
        (AlertSpec(name="", kind="goal", threshold=5, goal_id=GOAL, window_s=90), "windowMinutes"),
        (AlertSpec(name="", kind="goal", threshold=5, goal_id=GOAL, window_s=60), "windowMinutes"),
        (
            AlertSpec(name="", kind="goal", threshold=5, goal_id=GOAL, window_s=8 * 86_400),
            "windowMinutes",
        ),
        (AlertSpec(name="", kind="spike", threshold=5, goal_id=GOAL), "goalId"),
        (AlertSpec(name="", kind="spike", threshold=5, cooldown_s=5), "cooldown_s"),
        (AlertSpec(name="x" * 101, kind="spike", threshold=5), "name"),
    ],
)
def test_bad_alerts_name_their_field(spec: AlertSpec, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        alerts.check_alert(spec)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (RecipientSpec("email", "not an address"), "recipients[0].target"),
        (RecipientSpec("sms", "+100"), "recipients[0].channel"),
        (RecipientSpec("slack", "ftp://hooks.example/x"), "recipients[0].target"),
        (RecipientSpec("webhook", "https://user:pw@example.com/"), "recipients[0].target"),
        (RecipientSpec("email", "a@example.com", "Mars/Base"), "recipients[0].time_zone"),
    ],
)
def test_bad_recipients_name_their_place(spec: RecipientSpec, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        recipients.check_recipients([spec], "UTC")
    assert caught.value.field == field


async def test_recipients_keep_their_state_across_saves(db: Database) -> None:
    site_id = await _site(db)
    async with db.session() as session:
        report = await reports.create_report(
            session, site_id, ReportSpec(name=""), created_by_id=None
        )
        specs = recipients.check_recipients(
            [RecipientSpec("email", "Ann@Example.com"), RecipientSpec("email", "bo@example.com")],
            "Europe/Berlin",
        )
        first = await recipients.set_recipients(session, specs, report_id=report.id)
        assert [r.target for r in first] == ["ann@example.com", "bo@example.com"]
        assert report.name == "Weekly report"
        ann = first[0]
        await recipients.unsubscribe(session, ann.id, NOW)
        again = await recipients.set_recipients(session, specs[:1], report_id=report.id)
        assert again[0].id == ann.id and again[0].unsubscribed_at is not None
        listed = await recipients.list_recipients(session, report_id=report.id)
        assert [r.target for r in listed] == ["ann@example.com"]


async def test_unsubscribe_tokens_are_per_recipient(db: Database) -> None:
    site_id = await _site(db)
    async with db.session() as session:
        report = await reports.create_report(
            session, site_id, ReportSpec(name=""), created_by_id=None
        )
        rows = await recipients.set_recipients(
            session,
            recipients.check_recipients(
                [RecipientSpec("email", "a@example.com"), RecipientSpec("email", "b@example.com")],
                "UTC",
            ),
            report_id=report.id,
        )
    token_a, token_b = unsubscribe_token(rows[0]), unsubscribe_token(rows[1])
    assert unsubscribe_recipient_id(token_a) == rows[0].id
    assert unsubscribe_token_valid(token_a, rows[0])
    assert not unsubscribe_token_valid(token_b, rows[0])
    forged = f"{rows[0].id.hex}.{token_b.split('.')[1]}"
    assert not unsubscribe_token_valid(forged, rows[0])
    assert unsubscribe_recipient_id("nonsense") is None


async def test_two_claimers_never_share_an_alert(db: Database) -> None:
    site_id = await _site(db)
    async with db.session() as session:
        for n in range(12):
            alert = await alerts.create_alert(
                session,
                site_id,
                AlertSpec(name=f"a{n}", kind="spike", threshold=10),
                created_by_id=None,
            )
            alert.next_check_at = NOW - timedelta(seconds=n)

    async def claimer(owner: str) -> list[uuid.UUID]:
        got: list[uuid.UUID] = []
        for _ in range(6):
            async with db.session() as session:
                rows = await alerts.claim_due_alerts(
                    session, owner=owner, now=NOW, lease=LEASE, limit=2
                )
                got += [row.id for row in rows]
        return got

    first, second = await asyncio.gather(claimer("one"), claimer("two"))
    assert len(first) + len(second) == 12
    assert not set(first) & set(second)
    async with db.session() as session:  # leases held: nothing is due again until they end
        assert not await alerts.claim_due_alerts(
            session, owner="three", now=NOW, lease=LEASE, limit=50
        )
        later = await alerts.claim_due_alerts(
            session, owner="three", now=NOW + LEASE * 2, lease=LEASE, limit=50
        )
        assert len(later) == 12


async def test_outbox_writes_once_and_takes_over_a_dead_sender(db: Database) -> None:
    site_id = await _site(db)

    def delivery() -> Delivery:
        return Delivery(
            key="report:1:a@example.com:2025-03-02",
            site_id=site_id,
            channel="email",
            target="a@example.com",
            subject="Weekly report",
            body="{}",
            next_attempt_at=NOW,
        )

    async with db.session() as session:
        assert await deliveries.add_delivery(session, delivery())
        assert not await deliveries.add_delivery(session, delivery())
    async with db.session() as session:
        (claimed,) = await deliveries.claim_deliveries(
            session, owner="dead", now=NOW, lease=LEASE, limit=10
        )
        assert claimed.attempts == 1 and claimed.status == DeliveryStatus.SENDING.value
    later = NOW + LEASE + timedelta(seconds=1)
    async with db.session() as session:
        (again,) = await deliveries.claim_deliveries(
            session, owner="alive", now=later, lease=LEASE, limit=10
        )
        assert again.id == claimed.id and again.attempts == 2
    async with db.session() as session:  # the dead one's late answer is not taken
        assert not await deliveries.mark_sent(session, claimed.id, "dead", later)
        assert await deliveries.mark_sent(session, claimed.id, "alive", later)
    async with db.session() as session:
        (row,) = await deliveries.list_deliveries(session, site_id)
        assert row.status == "sent" and row.sent_at == later
        assert not await deliveries.claim_deliveries(
            session, owner="x", now=later + LEASE * 3, lease=LEASE, limit=10
        )


async def test_a_goal_alert_counts_a_goal_of_its_own_site(db: Database) -> None:
    site_id, other_id = await _site(db), await _site(db)
    async with db.session() as session:
        goal = await goals.create_goal(session, site_id, name="Buy", kind="event", match="buy")
        theirs = await goals.create_goal(session, other_id, name="Buy", kind="event", match="buy")
        spec = AlertSpec(name="", kind="goal", threshold=3, goal_id=goal.id, window_s=1800)
        alert = await alerts.create_alert(session, site_id, spec, created_by_id=None)
        assert (alert.metric, alert.goal_id, alert.window_s, alert.below) == (
            "conversions",
            goal.id,
            1800,
            False,
        )
        assert alert.name == "At least 3 conversions in 30 minutes"
        with pytest.raises(InvalidInput) as caught:
            await alerts.create_alert(
                session,
                site_id,
                AlertSpec(name="", kind="goal", threshold=3, goal_id=theirs.id),
                created_by_id=None,
            )
        assert caught.value.field == "goalId"
        alert.firing = True
        await alerts.update_alert(session, alert, {"below": True})
        assert alert.below and not alert.firing  # a changed rule starts clean
        with pytest.raises(InvalidInput):
            await alerts.update_alert(session, alert, {"goal_id": theirs.id})
        await alerts.update_alert(session, alert, {"kind": "spike", "goal_id": None})
        assert (alert.goal_id, alert.metric) == (None, "visitors")
