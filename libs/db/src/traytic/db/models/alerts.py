"""Alerts and scheduled reports, who receives them, and the outbox of their deliveries.

An alert (a spike, a drop, a goal's conversions) or a report (weekly, monthly) belongs to a site
and goes to recipients: email addresses, Slack incoming webhooks, signed webhooks. The
scheduler (`traytic.alerts`) claims due rows with a lease (`lease_owner`, `lease_until`), so any
number of replicas share the work and a crashed one's rows are taken over once the lease ends.
Each message is first written to `deliveries` (rendered, with its idempotency key), then sent,
then marked sent: a restart neither loses nor repeats one.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from traytic.db.models.base import (
    choice_check,
    created_at_column,
    fk,
    lease_columns,
    text,
    timestamp_column,
    utcnow,
    uuid_pk,
)


class AlertKind(StrEnum):
    SPIKE = "spike"
    """Current visitors (the last five minutes, as the live view counts them) above `threshold`."""
    DROP = "drop"
    """Today's visitors so far below `threshold` (a share, 0..1) of the same hours on the same
    weekday over the previous weeks."""
    GOAL = "goal"
    """Conversions of a goal in a period above or below `threshold` (needs goals: see
    `traytic.alerts.rules`)."""


class Channel(StrEnum):
    EMAIL = "email"
    SLACK = "slack"
    WEBHOOK = "webhook"


class ReportFrequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Written, waiting to be sent (again, after a failed attempt, at `next_attempt_at`)."""
    SENDING = "sending"
    """Claimed by a replica until `lease_until`; pending again if that replica died."""
    SENT = "sent"
    FAILED = "failed"
    """Given up: a permanent refusal or `max_attempts` failures (`last_error` says which)."""
    CANCELLED = "cancelled"
    """The recipient unsubscribed or was removed before it was sent."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Alert(SQLModel, table=True):
    """Tell recipients when a site's traffic crosses a threshold, once per crossing."""

    __tablename__ = "alerts"
    __table_args__: Any = (choice_check("kind", tuple(kind.value for kind in AlertKind)),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    site_id: str = Field(sa_column=fk("sites.id", ondelete="CASCADE"))
    name: str = Field(default="", sa_column=sa.Column(sa.String(100), nullable=False))
    kind: str = Field(default=AlertKind.SPIKE.value, sa_column=text(16))
    metric: str = Field(default="visitors", sa_column=text(32))
    """What is measured: `visitors` (spike, drop) or `conversions` (goal)."""
    threshold: float = Field(sa_column=sa.Column(sa.Float(), nullable=False))
    """Visitors (spike), a share of the usual level (drop), conversions (goal)."""
    goal_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("goals.id", ondelete="CASCADE", nullable=True)
    )
    below: bool = Field(default=False, sa_column=sa.Column(sa.Boolean(), nullable=False))
    """Goal alerts: fire when conversions fall below the threshold instead of above it."""
    window_s: int = Field(default=3600, sa_column=sa.Column(sa.Integer(), nullable=False))
    """Goal alerts: the period conversions are counted over."""
    cooldown_s: int = Field(default=3600, sa_column=sa.Column(sa.Integer(), nullable=False))
    """After a message, none for this long even if the condition clears and comes back."""
    enabled: bool = Field(default=True, sa_column=sa.Column(sa.Boolean(), nullable=False))
    firing: bool = Field(default=False, sa_column=sa.Column(sa.Boolean(), nullable=False))
    """The condition held at the last check: one crossing sends one message."""
    last_value: float | None = Field(default=None, sa_column=sa.Column(sa.Float()))
    last_checked_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    last_fired_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    next_check_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False, index=True)
    )
    lease_owner: str | None = Field(default=None, sa_column=lease_columns()[0])
    lease_until: datetime | None = Field(default=None, sa_column=lease_columns()[1])
    created_by_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL", nullable=True, index=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class Report(SQLModel, table=True):
    """A site's KPIs, top pages, sources and countries, weekly or monthly, to its recipients,
    each in their own time zone."""

    __tablename__ = "reports"
    __table_args__: Any = (
        choice_check("frequency", tuple(f.value for f in ReportFrequency)),
        sa.CheckConstraint("send_hour >= 0 AND send_hour <= 23", name="send_hour_valid"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    site_id: str = Field(sa_column=fk("sites.id", ondelete="CASCADE"))
    name: str = Field(default="", sa_column=sa.Column(sa.String(100), nullable=False))
    frequency: str = Field(default=ReportFrequency.WEEKLY.value, sa_column=text(16))
    send_hour: int = Field(default=8, sa_column=sa.Column(sa.Integer(), nullable=False))
    """Local hour (the recipient's time zone) on Monday, or on the 1st, when it is sent."""
    enabled: bool = Field(default=True, sa_column=sa.Column(sa.Boolean(), nullable=False))
    created_by_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL", nullable=True, index=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class Recipient(SQLModel, table=True):
    """One destination of an alert or a report (exactly one of the two).

    For a report it also holds the schedule (`next_run_at`, in the recipient's `time_zone`) and
    its lease, since recipients in different zones are due at different instants.
    """

    __tablename__ = "recipients"
    __table_args__: Any = (
        choice_check("channel", tuple(c.value for c in Channel)),
        sa.CheckConstraint(
            "(alert_id IS NULL AND report_id IS NOT NULL) "
            "OR (alert_id IS NOT NULL AND report_id IS NULL)",
            name="one_owner",
        ),
        sa.UniqueConstraint("alert_id", "channel", "target"),
        sa.UniqueConstraint("report_id", "channel", "target"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    alert_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("alerts.id", ondelete="CASCADE", nullable=True)
    )
    report_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("reports.id", ondelete="CASCADE", nullable=True)
    )
    channel: str = Field(sa_column=text(16))
    target: str = Field(sa_column=text(512))
    """An email address, a Slack incoming-webhook URL or a webhook URL."""
    time_zone: str = Field(default="UTC", sa_column=text(64))
    secret: str = Field(default_factory=new_secret, sa_column=text(64))
    """Webhooks: the key receivers verify signatures with (shown to admins). Email: the key
    that signs the recipient's unsubscribe links (never shown)."""
    next_run_at: datetime | None = Field(default=None, sa_column=timestamp_column(index=True))
    """Reports: when this recipient's next report is due (set by the scheduler when None)."""
    lease_owner: str | None = Field(default=None, sa_column=lease_columns()[0])
    lease_until: datetime | None = Field(default=None, sa_column=lease_columns()[1])
    unsubscribed_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class Delivery(SQLModel, table=True):
    """One message in the outbox: rendered once, sent until it succeeds or is given up."""

    __tablename__ = "deliveries"
    __table_args__: Any = (
        choice_check("channel", tuple(c.value for c in Channel)),
        choice_check("status", tuple(s.value for s in DeliveryStatus)),
        sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    key: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    """The idempotency key, the same on every attempt: email Message-ID, `Idempotency-Key`."""
    site_id: str = Field(sa_column=fk("sites.id", ondelete="CASCADE"))
    alert_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("alerts.id", ondelete="CASCADE", nullable=True)
    )
    report_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("reports.id", ondelete="CASCADE", nullable=True)
    )
    recipient_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("recipients.id", ondelete="SET NULL", nullable=True)
    )
    channel: str = Field(sa_column=text(16))
    target: str = Field(sa_column=text(512))
    subject: str = Field(sa_column=text(300))
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    """The rendered message (JSON: the channel's parts), exactly what every attempt sends."""
    late: bool = Field(default=False, sa_column=sa.Column(sa.Boolean(), nullable=False))
    """A report sent after downtime, later than its schedule (the message says so)."""
    status: str = Field(default=DeliveryStatus.PENDING.value, sa_column=text(16))
    attempts: int = Field(default=0, sa_column=sa.Column(sa.Integer(), nullable=False))
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False)
    )
    lease_owner: str | None = Field(default=None, sa_column=lease_columns()[0])
    lease_until: datetime | None = Field(default=None, sa_column=lease_columns()[1])
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False, index=True)
    )
    sent_at: datetime | None = Field(default=None, sa_column=timestamp_column())
