"""A saved segment as a filter of the stats API (`?segment=<id>`): the segment must be one the
reader may use (their own, or shared in the site's organisation), else the same 404 as none."""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.access import Caller, Permission, org_access
from traytic.db.access import resolve_caller as resolve
from traytic.db.errors import NotFound
from traytic.db.models import Site
from traytic.db.repositories import segments
from traytic.query.auth import credentials
from traytic.query.context import QueryContext
from traytic.warehouse.stats.params import Condition
from traytic.warehouse.stats.v2 import segment_condition


async def require_segment_reader(session: AsyncSession, caller: Caller, site: Site) -> None:
    """Segments are for the site's organisation (a public site's other readers: 404)."""
    try:
        access = await org_access(session, caller, site.organisation_id)
    except NotFound:
        raise NotFound("no such segment", field="segmentId") from None
    access.require(Permission.READ_SEGMENTS)


async def segment_filter(
    segment_id: str,
    site: Site,
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    ctx: QueryContext,
) -> Condition:
    presented = credentials(request, ctx.settings)
    if presented.anonymous:
        raise NotFound("no such segment", field="segment")
    caller = await resolve(db_session, presented)
    await require_segment_reader(db_session, caller, site)
    user_id = caller.user.id if caller.user is not None else None
    found = await segments.find_segment(db_session, site.id, segment_id[:64], user_id)
    return segment_condition(found.filters)
