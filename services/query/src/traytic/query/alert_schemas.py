"""Alerts, reports and their deliveries on the wire (camelCase JSON).

Slack and webhook URLs are credentials of a kind (anyone holding one can post), so only admins
see them whole, and only admins see a webhook's signing secret; viewers and API keys see the
URL's scheme and host.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import urlsplit

from msgspec import UNSET, UnsetType

from traytic.db.models import Alert, Channel, Delivery, Recipient, Report
from traytic.db.repositories.recipients import RecipientSpec
from traytic.query.schemas import Wire


class RecipientIn(Wire):
    channel: str
    """`email`, `slack` (an incoming-webhook URL) or `webhook` (any URL; signed)."""
    target: str
    """The address or the URL."""
    time_zone: str | None = None
    """Reports: the zone the recipient's weeks and months start in (default: the site's)."""

    def spec(self) -> RecipientSpec:
        return RecipientSpec(self.channel, self.target, self.time_zone)


def _shown(channel: str, target: str, admin: bool) -> str:
    if admin or channel == Channel.EMAIL.value:
        return target
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname}/…"


class RecipientOut(Wire):
    id: uuid.UUID
    channel: str
    target: str
    time_zone: str
    unsubscribed: bool
    next_report_at: datetime | None
    secret: str | None = None
    """Webhooks, for admins: the key to verify `Traytic-Signature` with."""

    @classmethod
    def of(cls, row: Recipient, admin: bool) -> RecipientOut:
        return cls(
            id=row.id,
            channel=row.channel,
            target=_shown(row.channel, row.target, admin),
            time_zone=row.time_zone,
            unsubscribed=row.unsubscribed_at is not None,
            next_report_at=row.next_run_at,
            secret=row.secret if admin and row.channel == Channel.WEBHOOK.value else None,
        )


class AlertIn(Wire):
    kind: str
    """`spike` (current visitors above `threshold`), `drop` (today's visitors so far below
    `threshold`, a share from 0 to 1, of the usual level for this weekday) or `goal` (a goal's
    conversions in the last `windowMinutes` at least `threshold`, or below it with `below`)."""
    threshold: float
    name: str = ""
    cooldown_minutes: int = 60
    """After a message, none for this long (one crossing sends one message in any case)."""
    enabled: bool = True
    recipients: list[RecipientIn] = []
    goal_id: uuid.UUID | None = None
    """Goal alerts: the site's goal whose conversions are counted."""
    window_minutes: int = 60
    """Goal alerts: conversions are counted over this many minutes up to each check (5 to
    10080)."""
    below: bool = False
    """Goal alerts: fire when conversions fall below `threshold` instead of reaching it."""


class AlertPatch(Wire):
    """Only the fields present change; `recipients`, when present, replaces the list."""

    kind: str | UnsetType = UNSET
    threshold: float | UnsetType = UNSET
    name: str | UnsetType = UNSET
    cooldown_minutes: int | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    recipients: list[RecipientIn] | UnsetType = UNSET
    goal_id: uuid.UUID | UnsetType | None = UNSET
    window_minutes: int | UnsetType = UNSET
    below: bool | UnsetType = UNSET


class AlertOut(Wire):
    id: uuid.UUID
    site_id: str
    name: str
    kind: str
    threshold: float
    cooldown_minutes: int
    enabled: bool
    firing: bool
    """The condition held at the last check."""
    last_value: float | None
    last_checked_at: datetime | None
    last_fired_at: datetime | None
    recipients: list[RecipientOut]
    created_at: datetime
    goal_id: uuid.UUID | None = None
    window_minutes: int | None = None
    """Goal alerts only."""
    below: bool | None = None
    """Goal alerts only."""

    @classmethod
    def of(cls, alert: Alert, recipients: list[Recipient], admin: bool) -> AlertOut:
        goal = alert.kind == "goal"
        return cls(
            id=alert.id,
            site_id=alert.site_id,
            name=alert.name,
            kind=alert.kind,
            threshold=alert.threshold,
            cooldown_minutes=alert.cooldown_s // 60,
            enabled=alert.enabled,
            firing=alert.firing,
            last_value=alert.last_value,
            last_checked_at=alert.last_checked_at,
            last_fired_at=alert.last_fired_at,
            recipients=[RecipientOut.of(row, admin) for row in recipients],
            created_at=alert.created_at,
            goal_id=alert.goal_id,
            window_minutes=alert.window_s // 60 if goal else None,
            below=alert.below if goal else None,
        )


class ReportIn(Wire):
    name: str = ""
    frequency: str = "weekly"
    """`weekly` (sent Mondays, covering the week before) or `monthly` (sent on the 1st)."""
    send_hour: int = 8
    """Local hour of sending, in each recipient's time zone."""
    enabled: bool = True
    recipients: list[RecipientIn] = []


class ReportPatch(Wire):
    name: str | UnsetType = UNSET
    frequency: str | UnsetType = UNSET
    send_hour: int | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    recipients: list[RecipientIn] | UnsetType = UNSET


class ReportOut(Wire):
    id: uuid.UUID
    site_id: str
    name: str
    frequency: str
    send_hour: int
    enabled: bool
    recipients: list[RecipientOut]
    created_at: datetime

    @classmethod
    def of(cls, report: Report, recipients: list[Recipient], admin: bool) -> ReportOut:
        return cls(
            id=report.id,
            site_id=report.site_id,
            name=report.name,
            frequency=report.frequency,
            send_hour=report.send_hour,
            enabled=report.enabled,
            recipients=[RecipientOut.of(row, admin) for row in recipients],
            created_at=report.created_at,
        )


class DeliveryOut(Wire):
    """One message: `pending` (waiting, or waiting to be tried again), `sending`, `sent`,
    `failed` (with `lastError`) or `cancelled` (unsubscribed or removed first)."""

    id: uuid.UUID
    alert_id: uuid.UUID | None
    report_id: uuid.UUID | None
    channel: str
    target: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    late: bool
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, row: Delivery, admin: bool) -> DeliveryOut:
        return cls(
            id=row.id,
            alert_id=row.alert_id,
            report_id=row.report_id,
            channel=row.channel,
            target=_shown(row.channel, row.target, admin),
            subject=row.subject,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            late=row.late,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
        )
