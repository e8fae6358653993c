"""The billing tables that the billing worker fills from Paystack and Polar webhooks.

Amounts are integer subunits (kobo, cents) and currencies ISO 4217 codes. Rows point at their
organisation with ON DELETE RESTRICT: payment history is kept, so an organisation with any
must be dealt with deliberately before it can be deleted.
"""

from __future__ import annotations

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
    text,
    timestamp_column,
    utcnow,
    uuid_pk,
)


class Provider(StrEnum):
    PAYSTACK = "paystack"
    POLAR = "polar"


PROVIDERS = tuple(provider.value for provider in Provider)


class Customer(SQLModel, table=True):
    """An organisation as a payment provider knows it."""

    __tablename__ = "customers"
    __table_args__: Any = (
        sa.UniqueConstraint("provider", "provider_customer_id"),
        sa.UniqueConstraint("organisation_id", "provider"),
        choice_check("provider", PROVIDERS),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    organisation_id: uuid.UUID = Field(sa_column=fk("organisations.id", ondelete="RESTRICT"))
    provider: str = Field(sa_column=text(16))
    provider_customer_id: str = Field(sa_column=text(128))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class Subscription(SQLModel, table=True):
    """A plan subscription, keyed on (provider, provider id); statuses are the provider's own."""

    __tablename__ = "subscriptions"
    __table_args__: Any = (
        sa.UniqueConstraint("provider", "provider_subscription_id"),
        choice_check("provider", PROVIDERS),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    organisation_id: uuid.UUID = Field(sa_column=fk("organisations.id", ondelete="RESTRICT"))
    provider: str = Field(sa_column=text(16))
    provider_subscription_id: str = Field(sa_column=text(128))
    plan: str = Field(sa_column=text(16))
    status: str = Field(sa_column=text(32))
    currency: str = Field(sa_column=text(3))
    amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    """Per period, in the currency's subunits."""
    current_period_end: datetime | None = Field(default=None, sa_column=timestamp_column())
    cancel_at_period_end: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.false())
    )
    provider_modified_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    """The provider's own change time: an older webhook never overwrites a newer state."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class Invoice(SQLModel, table=True):
    """A bill the provider issued, paid or not."""

    __tablename__ = "invoices"
    __table_args__: Any = (
        sa.UniqueConstraint("provider", "provider_invoice_id"),
        choice_check("provider", PROVIDERS),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    organisation_id: uuid.UUID = Field(sa_column=fk("organisations.id", ondelete="RESTRICT"))
    provider: str = Field(sa_column=text(16))
    provider_invoice_id: str = Field(sa_column=text(128))
    amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    currency: str = Field(sa_column=text(3))
    status: str = Field(sa_column=text(32))
    paid_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    hosted_url: str | None = Field(default=None, sa_column=text(2048, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class WebhookEvent(SQLModel, table=True):
    """A provider webhook exactly as received, stored before it is applied (an inbox).

    Unique on (provider, provider event id), so a redelivery is stored once; the worker applies
    rows with `processed_at` unset and records attempts and the last error.
    """

    __tablename__ = "webhook_events"
    __table_args__: Any = (
        sa.UniqueConstraint("provider", "provider_event_id"),
        choice_check("provider", PROVIDERS),
        sa.Index("ix_webhook_events_pending", "processed_at", "received_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    provider: str = Field(sa_column=text(16))
    provider_event_id: str = Field(sa_column=text(255))
    type: str = Field(sa_column=text(64))
    payload: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    """The raw body, byte for byte as signed (decoded as UTF-8)."""
    signature_verified: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    processed_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer(), nullable=False, server_default="0")
    )
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
