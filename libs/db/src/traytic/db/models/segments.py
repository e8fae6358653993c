"""Saved segments: a named set of stats filters on one site, its owner's alone or shared with
the organisation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from traytic.db.models.base import created_at_column, fk, text, timestamp_column, utcnow, uuid_pk


class Segment(SQLModel, table=True):
    """`filters` holds Stats API v2 filters (a JSON list), validated by the query service
    before they are saved; a personal segment (`shared` false) is its owner's only."""

    __tablename__ = "segments"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    site_id: str = Field(sa_column=fk("sites.id", ondelete="CASCADE"))
    owner_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="CASCADE", nullable=True)
    )
    name: str = Field(sa_column=text(100))
    shared: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.false())
    )
    filters: list[Any] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=timestamp_column())
