"""The outbox of account mails (sign-up links, invitations...) the query service sends.

A request writes its mail here in its own transaction, so the mail exists exactly when what it
announces does (a sign-up request, an invitation), and survives the process: any replica's
sender claims it (a lease, as alert deliveries are claimed), sends it, then marks it sent. The
address and the link are sealed with the server's key (`traytic.db.keyring`): the database
keeps only a hash of each link's token elsewhere, and a dump must not give the links away here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from traytic.db.models.alerts import DeliveryStatus
from traytic.db.models.base import (
    choice_check,
    created_at_column,
    lease_columns,
    text,
    timestamp_column,
    utcnow,
    uuid_pk,
)


class OutboxMail(SQLModel, table=True):
    """One mail waiting to be sent, or sent (kept a day, without its content, then purged).
    `status` moves as a delivery's does (`DeliveryStatus`)."""

    __tablename__ = "mail_outbox"
    __table_args__: Any = (
        choice_check("status", tuple(s.value for s in DeliveryStatus)),
        sa.Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    kind: str = Field(sa_column=text(32))
    """`signup_link`, `signup_existing`, `invitation`: what logs name a mail by."""
    message: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    """The address, subject, both parts and Message-ID, sealed (purpose `mail-outbox`, bound to
    `id`); emptied once the mail is sent or given up."""
    status: str = Field(default=DeliveryStatus.PENDING.value, sa_column=text(16))
    attempts: int = Field(default=0, sa_column=sa.Column(sa.Integer(), nullable=False))
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False)
    )
    lease_owner: str | None = Field(default=None, sa_column=lease_columns()[0])
    lease_until: datetime | None = Field(default=None, sa_column=lease_columns()[1])
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    expires_at: datetime = Field(sa_column=timestamp_column(nullable=False, index=True))
    """When its link stops working: not sent by then, it is dropped (`mail_expired`)."""
    sent_at: datetime | None = Field(default=None, sa_column=timestamp_column())
