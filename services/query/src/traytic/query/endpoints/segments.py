"""`/api/orgs/{orgId}/sites/{siteId}/segments`: saved segments. Members list the site's shared
segments and their own, API keys the shared ones; any member saves personal segments; admins and
owners share them with the organisation and change shared ones; only its owner changes a
personal one. Filters are Stats API v2 filters, checked before they are saved. Another
organisation's site or segment, or someone else's personal one, is the same 404 as none."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.access import OrgAccess, Permission
from traytic.db.errors import NotFound
from traytic.db.models import Segment, Site
from traytic.db.repositories import segments
from traytic.db.repositories import sites as site_repository
from traytic.query.access import provide_org_access, provide_org_read_access
from traytic.warehouse.stats.v2 import parse_filters

_READ = {"access": Provide(provide_org_read_access)}


class SegmentIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    name: str
    filters: list[Any]
    shared: bool = False


class SegmentPatch(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    filters: list[Any] | msgspec.UnsetType = msgspec.UNSET
    shared: bool | msgspec.UnsetType = msgspec.UNSET


class SegmentOut(msgspec.Struct, rename="camel"):
    id: uuid.UUID
    site_id: str
    name: str
    shared: bool
    filters: list[Any]
    mine: bool
    """Whether the caller owns it (and so may change it when personal)."""
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, segment: Segment, access: OrgAccess) -> SegmentOut:
        mine = access.user is not None and segment.owner_id == access.user.id
        return cls(
            id=segment.id, site_id=segment.site_id, name=segment.name, shared=segment.shared,
            filters=segment.filters, mine=mine, created_at=segment.created_at,
            updated_at=segment.updated_at,
        )  # fmt: skip


async def _site(session: AsyncSession, access: OrgAccess, site_id: str) -> Site:
    access.require(Permission.READ_SEGMENTS)
    site = await site_repository.get_site(session, access.organisation.id, site_id)
    if site is None:
        raise NotFound("no such site", field="siteId")
    return site


def _user_id(access: OrgAccess) -> uuid.UUID | None:
    return access.user.id if access.user is not None else None


def _may_change(access: OrgAccess, segment: Segment, *, shared: bool) -> None:
    """Shared segments need the admin role; a personal one, its owner."""
    if shared or segment.shared:
        access.require(Permission.MANAGE_SHARED_SEGMENTS)
    if not segment.shared and segment.owner_id != _user_id(access):
        raise NotFound("no such segment", field="segmentId")


class SegmentController(Controller):
    path = "/api/orgs/{org_id:uuid}/sites/{site_id:str}/segments"
    tags = ["segments"]
    dependencies = {"access": Provide(provide_org_access)}

    @get("/", dependencies=_READ)
    async def list_segments(
        self,
        site_id: FromPath[str],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> list[SegmentOut]:
        site = await _site(db_session, access, site_id)
        listed = await segments.list_segments(db_session, site.id, _user_id(access))
        return [SegmentOut.of(segment, access) for segment in listed]

    @get("/{segment_id:uuid}", dependencies=_READ)
    async def get_segment(
        self,
        site_id: FromPath[str],
        segment_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> SegmentOut:
        site = await _site(db_session, access, site_id)
        found = await segments.find_segment(db_session, site.id, segment_id, _user_id(access))
        return SegmentOut.of(found, access)

    @post("/", status_code=201)
    async def create_segment(
        self,
        site_id: FromPath[str],
        data: JSONBody[SegmentIn],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> SegmentOut:
        site = await _site(db_session, access, site_id)
        if data.shared:
            access.require(Permission.MANAGE_SHARED_SEGMENTS)
        parse_filters(data.filters)
        assert access.user is not None  # provide_org_access refuses API keys
        segment = await segments.create_segment(
            db_session, site.id, access.user.id, name=data.name, filters=data.filters,
            shared=data.shared,
        )  # fmt: skip
        return SegmentOut.of(segment, access)

    @patch("/{segment_id:uuid}")
    async def update_segment(
        self,
        site_id: FromPath[str],
        segment_id: FromPath[uuid.UUID],
        data: JSONBody[SegmentPatch],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> SegmentOut:
        site = await _site(db_session, access, site_id)
        segment = await segments.find_segment(db_session, site.id, segment_id, _user_id(access))
        shared = data.shared if isinstance(data.shared, bool) else None
        _may_change(access, segment, shared=bool(shared))
        filters = None if isinstance(data.filters, msgspec.UnsetType) else data.filters
        if filters is not None:
            parse_filters(filters)
        segment = await segments.update_segment(
            db_session,
            segment,
            name=None if isinstance(data.name, msgspec.UnsetType) else data.name,
            filters=filters,
            shared=shared,
        )
        return SegmentOut.of(segment, access)

    @delete("/{segment_id:uuid}", status_code=204)
    async def delete_segment(
        self,
        site_id: FromPath[str],
        segment_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> None:
        site = await _site(db_session, access, site_id)
        segment = await segments.find_segment(db_session, site.id, segment_id, _user_id(access))
        _may_change(access, segment, shared=False)
        await segments.delete_segment(db_session, segment)
