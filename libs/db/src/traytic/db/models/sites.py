"""What an organisation measures and how it reaches the API: sites, goals, API keys (alerts and
reports live in `alerts.py`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from traytic.core.ids import new_site_id
from traytic.db.models.base import (
    choice_check,
    created_at_column,
    fk,
    text,
    timestamp_column,
    utcnow,
    uuid_pk,
)


class GoalKind(StrEnum):
    PAGEVIEW = "pageview"
    """A page view whose path matches `match` (`*` one segment, `**` anything)."""
    EVENT = "event"
    """A custom event named `match`, with the prop `prop_key` = `prop_value` if set."""
    REVENUE = "revenue"
    """The same as `EVENT`; its reports also give the revenue the events carried."""


class Site(SQLModel, table=True):
    """A tracked website. Its id is the public `st_...` id the tracker sends, so the gateway,
    the warehouse and this table share one key. Deleting is soft (`deleted_at`) until purged."""

    __tablename__ = "sites"

    id: str = Field(
        default_factory=new_site_id, sa_column=sa.Column(sa.String(32), primary_key=True)
    )
    organisation_id: uuid.UUID = Field(sa_column=fk("organisations.id", ondelete="RESTRICT"))
    domain: str = Field(sa_column=text(253))
    name: str = Field(sa_column=text(100))
    time_zone: str = Field(default="UTC", sa_column=text(64))
    public: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.false())
    )
    allowed_hostnames: list[str] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False)
    )
    """Page hostnames the gateway accepts besides the domain and its subdomains."""
    allow_localhost: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.false())
    )
    """Accept beacons from pages on localhost and loopback addresses (development)."""
    filter_datacenter: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.true())
    )
    """Drop beacons sent from hosting and cloud networks."""
    currency: str = Field(
        default="USD",
        sa_column=sa.Column(sa.String(3), nullable=False, server_default="USD"),
    )
    """ISO 4217 code revenue is reported in (converted from the currencies it was sent in)."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    deleted_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class ApiKey(SQLModel, table=True):
    """An organisation's key for the stats API.

    The key is `<prefix>_<secret>`; the prefix (`tk_live_ab12cd34`) is stored in clear to find
    the row and show in lists, the secret only as sha256. A plain hash is enough here, unlike a
    password: the secret is 160 random bits, so there is nothing to brute-force and a slow KDF
    would only slow every API request.
    """

    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    organisation_id: uuid.UUID = Field(sa_column=fk("organisations.id", ondelete="CASCADE"))
    name: str = Field(sa_column=text(100))
    prefix: str = Field(sa_column=sa.Column(sa.String(32), nullable=False, unique=True))
    secret_hash: str = Field(sa_column=text(64))
    created_by_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL", nullable=True, index=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    last_used_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    revoked_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class Goal(SQLModel, table=True):
    """A conversion: a page path pattern (`/signup`, `/blog/**`) or a custom event, named for
    the reports. A goal is a query over the stored events, so it covers the past too."""

    __tablename__ = "goals"
    __table_args__: Any = (
        sa.UniqueConstraint("site_id", "name"),
        choice_check("kind", tuple(kind.value for kind in GoalKind)),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    site_id: str = Field(sa_column=fk("sites.id", ondelete="CASCADE"))
    name: str = Field(sa_column=text(100))
    kind: str = Field(sa_column=text(16))
    match: str = Field(sa_column=text(256))
    """The path pattern of a page goal, else the custom event's name."""
    prop_key: str | None = Field(default=None, sa_column=text(64, nullable=True))
    prop_value: str | None = Field(default=None, sa_column=text(512, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class Funnel(SQLModel, table=True):
    """Ordered goals a visitor converts one after the other (`FunnelStep`), within one visit
    (`window_minutes` None) or within that many minutes of the first step."""

    __tablename__ = "funnels"
    __table_args__: Any = (sa.UniqueConstraint("site_id", "name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    site_id: str = Field(sa_column=fk("sites.id", ondelete="CASCADE"))
    name: str = Field(sa_column=text(100))
    window_minutes: int | None = Field(default=30, sa_column=sa.Column(sa.Integer(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class FunnelStep(SQLModel, table=True):
    """Step `position` (0-based) of a funnel. The repository refuses to delete a goal a funnel
    uses (409); the cascade is for a site's purge, which takes goals and funnels together."""

    __tablename__ = "funnel_steps"

    funnel_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("funnels.id", ondelete="CASCADE"), primary_key=True
        )
    )
    position: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True))
    goal_id: uuid.UUID = Field(sa_column=fk("goals.id", ondelete="CASCADE"))
