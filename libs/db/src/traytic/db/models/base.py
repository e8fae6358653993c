"""What every table shares: constraint names, UTC timestamps, JSON and ids.

Constraint names follow one convention so Alembic can alter them later (SQLite batch mode
recreates tables and needs every constraint named).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime on both dialects.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so the value is converted to UTC
    and stored naive (its text form then sorts in time order) and read back as UTC. A naive
    datetime is refused: it would mean local time on one machine and UTC on another.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: pass an aware one (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def created_at_column() -> sa.Column[datetime]:
    return sa.Column(UtcDateTime(), nullable=False, default=utcnow)


def timestamp_column(*, nullable: bool = True, index: bool = False) -> sa.Column[datetime]:
    return sa.Column(UtcDateTime(), nullable=nullable, index=index)


def uuid_pk() -> sa.Column[uuid.UUID]:
    return sa.Column(sa.Uuid(), primary_key=True, default=new_uuid)


def fk(target: str, *, ondelete: str, nullable: bool = False, index: bool = True) -> sa.Column[Any]:
    """A foreign key column whose type follows the target (UUID ids, `st_...` site ids)."""
    type_: sa.types.TypeEngine[Any] = sa.String(32) if target.startswith("sites.") else sa.Uuid()
    return sa.Column(
        type_, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
    )


def text(length: int, *, nullable: bool = False, index: bool = False) -> sa.Column[str]:
    return sa.Column(sa.String(length), nullable=nullable, index=index)


def choice_check(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    """A CHECK that `column` is one of `values` (portable, unlike native enums)."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_valid")


def lease_columns() -> tuple[sa.Column[Any], sa.Column[Any]]:
    """`lease_owner`, `lease_until` of a row claimed by one replica at a time
    (`repositories.leases`)."""
    return sa.Column(sa.String(64), nullable=True), timestamp_column()
