"""People and organisations: users, organisations, memberships, login sessions, invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

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


class Role(StrEnum):
    """What a member may do: owners and admins manage, viewers read."""

    OWNER = "owner"
    ADMIN = "admin"
    VIEWER = "viewer"


class Plan(StrEnum):
    FREE = "free"
    PRO = "pro"
    TEAM = "team"


ROLES = tuple(role.value for role in Role)
PLANS = tuple(plan.value for plan in Plan)


class User(SQLModel, table=True):
    """A person who logs in. `email` is stored lowercase, so uniqueness ignores case."""

    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    email: str = Field(sa_column=sa.Column(sa.String(254), nullable=False, unique=True))
    password_hash: str = Field(sa_column=text(255))
    name: str | None = Field(default=None, sa_column=text(100, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class Organisation(SQLModel, table=True):
    """Who owns sites and pays: every site, key and subscription belongs to one."""

    __tablename__ = "organisations"
    __table_args__ = (choice_check("plan", PLANS),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    name: str = Field(sa_column=text(100))
    slug: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    billing_country: str | None = Field(default=None, sa_column=text(2, nullable=True))
    """ISO 3166-1 alpha-2, upper case; routes checkout to Paystack or Polar."""
    plan: str = Field(
        default=Plan.FREE.value,
        sa_column=sa.Column(sa.String(16), nullable=False, server_default=Plan.FREE.value),
    )
    require_two_factor: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    """Set by an owner: members without two-factor sign-in cannot use the organisation."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class Membership(SQLModel, table=True):
    """A user's role in an organisation; one row per (user, organisation)."""

    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "user_id"),
        choice_check("role", ROLES),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    organisation_id: uuid.UUID = Field(sa_column=fk("organisations.id", ondelete="CASCADE"))
    user_id: uuid.UUID = Field(sa_column=fk("users.id", ondelete="CASCADE"))
    role: str = Field(sa_column=text(16))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class LoginSession(SQLModel, table=True):
    """A signed-in browser. Only the sha256 of the cookie token is stored: a database leak
    does not hand out sessions."""

    __tablename__ = "login_sessions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    user_id: uuid.UUID = Field(sa_column=fk("users.id", ondelete="CASCADE"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    expires_at: datetime = Field(sa_column=timestamp_column(nullable=False, index=True))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    user_agent_summary: str | None = Field(default=None, sa_column=text(100, nullable=True))
    """e.g. "Firefox on Linux" — never the full user agent."""


class Invitation(SQLModel, table=True):
    """An emailed offer to join an organisation; the token is stored hashed."""

    __tablename__ = "invitations"
    __table_args__ = (choice_check("role", ROLES),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    organisation_id: uuid.UUID = Field(sa_column=fk("organisations.id", ondelete="CASCADE"))
    email: str = Field(sa_column=text(254, index=True))
    role: str = Field(sa_column=text(16))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    invited_by_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL", nullable=True, index=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    expires_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    accepted_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class SignupRequest(SQLModel, table=True):
    """A sign-up waiting for its emailed link. The account is made only when the link is used,
    so a stranger who signs up with someone else's address holds nothing: the address's owner
    signs up on their own and their link wins. Only the token's sha256 is stored."""

    __tablename__ = "signup_requests"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    email: str = Field(sa_column=text(254, index=True))
    password_hash: str = Field(sa_column=text(255))
    name: str | None = Field(default=None, sa_column=text(100, nullable=True))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    expires_at: datetime = Field(sa_column=timestamp_column(nullable=False, index=True))


class TwoFactor(SQLModel, table=True):
    """A user's TOTP secret (RFC 6238), sealed. In force once `confirmed_at` is set (the user proved
    their app holds it); `last_step` is the time step of the last code used, so a code is
    accepted once even within its window."""

    __tablename__ = "two_factor"

    user_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        )
    )
    secret: str = Field(sa_column=text(255))
    """The base32 secret sealed with the server's key (`traytic.db.keyring`, purpose
    `two-factor-secret`, bound to `user_id`): checking a code needs it, a dump must not give
    it away. A value from before sealing is plain base32 until the query service seals it."""
    confirmed_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    last_step: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class RecoveryCode(SQLModel, table=True):
    """A one-time code that stands in for the authenticator app; only its sha256 is stored
    (the codes carry 80 random bits, so a plain hash cannot be reversed by guessing)."""

    __tablename__ = "recovery_codes"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    user_id: uuid.UUID = Field(sa_column=fk("users.id", ondelete="CASCADE"))
    code_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    used_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class PendingLogin(SQLModel, table=True):
    """A password that was right, waiting for the second factor: not a session (it opens
    nothing) and short-lived; wrong codes back off per account (`login_limits`)."""

    __tablename__ = "pending_logins"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    user_id: uuid.UUID = Field(sa_column=fk("users.id", ondelete="CASCADE"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    expires_at: datetime = Field(sa_column=timestamp_column(nullable=False, index=True))
