"""`/api/orgs/{orgId}/sites`: the organisation's sites. Members (and the organisation's API
keys) read; admins and owners write. Every committed change is mirrored to the KV registry."""

from __future__ import annotations

from functools import partial
from typing import Any

import msgspec
import structlog
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.access import OrgAccess, Permission
from traytic.db.errors import NotFound
from traytic.db.repositories import sites as site_repository
from traytic.query.access import provide_org_access, provide_org_read_access
from traytic.query.context import QueryContext
from traytic.query.schemas import SiteIn, SiteOut, SitePatch
from traytic.query.unit_of_work import after_commit

log = structlog.get_logger()

_READ = {"access": Provide(provide_org_read_access)}


class SiteController(Controller):
    path = "/api/orgs/{org_id:uuid}/sites"
    tags = ["sites"]
    dependencies = {"access": Provide(provide_org_access)}

    @get("/", dependencies=_READ)
    async def list_sites(
        self, access: NamedDependency[OrgAccess], db_session: NamedDependency[AsyncSession]
    ) -> list[SiteOut]:
        rows = await site_repository.list_sites(db_session, access.organisation.id)
        return [SiteOut.of(site) for site in rows]

    @post("/", status_code=201)
    async def create_site(
        self,
        data: JSONBody[SiteIn],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> SiteOut:
        """A new site; its id (`st_...`) goes in the tracker snippet."""
        access.require(Permission.MANAGE_SITES)
        site = await site_repository.create_site(
            db_session,
            access.organisation.id,
            domain=data.domain,
            name=data.name,
            time_zone=data.time_zone,
            public=data.public,
            allowed_hostnames=data.allowed_hostnames,
            currency=data.currency,
            allow_localhost=data.allow_localhost,
            filter_datacenter=data.filter_datacenter,
        )
        after_commit(db_session, partial(ctx.registry.site_saved, site))
        log.info("site_created", site_id=site.id, organisation_id=str(access.organisation.id))
        return SiteOut.of(site)

    @get("/{site_id:str}", dependencies=_READ)
    async def get_site(
        self,
        site_id: FromPath[str],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> SiteOut:
        site = await site_repository.get_site(db_session, access.organisation.id, site_id)
        if site is None:
            raise NotFound("no such site", field="siteId")
        return SiteOut.of(site)

    @patch("/{site_id:str}")
    async def update_site(
        self,
        site_id: FromPath[str],
        data: JSONBody[SitePatch],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> SiteOut:
        """Change the fields present in the body."""
        access.require(Permission.MANAGE_SITES)
        changes: dict[str, Any] = {
            name: value
            for name in SitePatch.__struct_fields__
            if (value := getattr(data, name)) is not msgspec.UNSET
        }
        site = await site_repository.update_site(
            db_session, access.organisation.id, site_id, **changes
        )
        after_commit(db_session, partial(ctx.registry.site_saved, site))
        if changes.get("public") is False:  # anonymous readers' streams end
            after_commit(db_session, ctx.announce_access_change)
        return SiteOut.of(site)

    @delete("/{site_id:str}", status_code=204)
    async def delete_site(
        self,
        site_id: FromPath[str],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> None:
        """Stop tracking now (the gateway drops its beacons); the data is purged later."""
        access.require(Permission.MANAGE_SITES)
        site = await site_repository.soft_delete_site(db_session, access.organisation.id, site_id)
        after_commit(db_session, partial(ctx.registry.site_deleted, site.id))
        after_commit(db_session, ctx.announce_access_change)
        log.info("site_deleted", site_id=site.id, organisation_id=str(access.organisation.id))
