"""A site's saved segments: created, renamed, re-filtered, listed and found for a caller. Who
may see one: its owner, or anyone who reads the site's stats when it is shared. A segment the
caller may not see is the same `NotFound` as one that does not exist."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from traytic.core.errors import InvalidInput
from traytic.db.errors import NotFound
from traytic.db.models import Segment, utcnow
from traytic.db.validation import check_text

MAX_FILTERS_JSON = 16_384
"""A segment's filters, as JSON, are at most this long."""
MAX_SEGMENTS_PER_SITE = 500


def _no_such_segment() -> NotFound:
    return NotFound("no such segment", field="segmentId")


def check_filters(filters: object) -> list[Any]:
    """The shape the database keeps (a non-empty JSON list of bounded size); what the filters
    mean is checked by the stats layer before this is called."""
    if not isinstance(filters, list) or not filters:
        raise InvalidInput("filters must be a non-empty list", field="filters")
    if len(json.dumps(filters)) > MAX_FILTERS_JSON:
        raise InvalidInput(
            f"filters are at most {MAX_FILTERS_JSON} characters of JSON", field="filters"
        )
    return filters


def _visible(
    statement: SelectOfScalar[Segment], user_id: uuid.UUID | None
) -> SelectOfScalar[Segment]:
    if user_id is None:
        return statement.where(col(Segment.shared).is_(True))
    return statement.where(or_(col(Segment.shared).is_(True), col(Segment.owner_id) == user_id))


async def list_segments(
    session: AsyncSession, site_id: str, user_id: uuid.UUID | None
) -> Sequence[Segment]:
    """The site's shared segments and `user_id`'s own (shared only for an API key: None)."""
    statement = _visible(select(Segment).where(col(Segment.site_id) == site_id), user_id)
    result = await session.exec(statement.order_by(col(Segment.name), col(Segment.id)))
    return result.all()


async def find_segment(
    session: AsyncSession, site_id: str, segment_id: str | uuid.UUID, user_id: uuid.UUID | None
) -> Segment:
    """A segment of the site the caller may use; `NotFound` otherwise (bad ids too)."""
    try:
        wanted = segment_id if isinstance(segment_id, uuid.UUID) else uuid.UUID(str(segment_id))
    except ValueError:
        raise _no_such_segment() from None
    statement = select(Segment).where(col(Segment.id) == wanted, col(Segment.site_id) == site_id)
    found = (await session.exec(_visible(statement, user_id))).first()
    if found is None:
        raise _no_such_segment()
    return found


async def create_segment(
    session: AsyncSession,
    site_id: str,
    owner_id: uuid.UUID,
    *,
    name: object,
    filters: object,
    shared: bool,
) -> Segment:
    existing = await session.exec(select(Segment.id).where(col(Segment.site_id) == site_id))
    if len(existing.all()) >= MAX_SEGMENTS_PER_SITE:
        raise InvalidInput(f"a site has at most {MAX_SEGMENTS_PER_SITE} segments", field="name")
    segment = Segment(
        site_id=site_id,
        owner_id=owner_id,
        name=check_text("name", name, max_length=100),
        shared=shared,
        filters=check_filters(filters),
    )
    session.add(segment)
    await session.flush()
    return segment


async def update_segment(
    session: AsyncSession,
    segment: Segment,
    *,
    name: object = None,
    filters: object = None,
    shared: bool | None = None,
) -> Segment:
    if name is not None:
        segment.name = check_text("name", name, max_length=100)
    if filters is not None:
        segment.filters = check_filters(filters)
    if shared is not None:
        segment.shared = shared
    segment.updated_at = utcnow()
    session.add(segment)
    await session.flush()
    return segment


async def delete_segment(session: AsyncSession, segment: Segment) -> None:
    await session.delete(segment)
    await session.flush()
