"""`/api/orgs/{orgId}/sites/{siteId}/goals` and `/funnels`: a site's goals (pages, custom
events, revenue) and funnels of ordered goals. Members and the organisation's API keys read;
admins and owners write. Another organisation's site, goal or funnel is the same 404 as one
that does not exist; bad values are 400s naming the field."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import structlog
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.access import OrgAccess, Permission
from traytic.db.errors import NotFound
from traytic.db.models import Site
from traytic.db.repositories import goals as goal_repository
from traytic.db.repositories import sites as site_repository
from traytic.query.access import provide_org_access, provide_org_read_access
from traytic.query.schemas import FunnelIn, FunnelOut, FunnelPatch, GoalIn, GoalOut, GoalPatch

log = structlog.get_logger()

_READ = {"access": Provide(provide_org_read_access)}


async def _site(db_session: AsyncSession, access: OrgAccess, site_id: str) -> Site:
    site = await site_repository.get_site(db_session, access.organisation.id, site_id)
    if site is None:
        raise NotFound("no such site", field="siteId")
    return site


def _changes(data: msgspec.Struct) -> dict[str, Any]:
    return {
        name: value
        for name in data.__struct_fields__
        if (value := getattr(data, name)) is not msgspec.UNSET
    }


class GoalController(Controller):
    path = "/api/orgs/{org_id:uuid}/sites/{site_id:str}/goals"
    tags = ["goals"]
    dependencies = {"access": Provide(provide_org_access)}

    @get("/", dependencies=_READ)
    async def list_goals(
        self,
        site_id: FromPath[str],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> list[GoalOut]:
        site = await _site(db_session, access, site_id)
        return [GoalOut.of(goal) for goal in await goal_repository.list_goals(db_session, site.id)]

    @post("/", status_code=201)
    async def create_goal(
        self,
        site_id: FromPath[str],
        data: JSONBody[GoalIn],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> GoalOut:
        """A goal: `pageview` with a path pattern in `match` (`*` one segment, `**` any), or
        `event` / `revenue` with the custom event's name (and optionally a prop to match).
        It counts every stored event, past ones included."""
        access.require(Permission.MANAGE_GOALS)
        site = await _site(db_session, access, site_id)
        goal = await goal_repository.create_goal(
            db_session,
            site.id,
            name=data.name,
            kind=data.kind,
            match=data.match,
            prop_key=data.prop_key,
            prop_value=data.prop_value,
        )
        log.info("goal_created", site_id=site.id, goal_id=str(goal.id), kind=goal.kind)
        return GoalOut.of(goal)

    @get("/{goal_id:uuid}", dependencies=_READ)
    async def get_goal(
        self,
        site_id: FromPath[str],
        goal_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> GoalOut:
        site = await _site(db_session, access, site_id)
        return GoalOut.of(await goal_repository.get_goal(db_session, site.id, goal_id))

    @patch("/{goal_id:uuid}")
    async def update_goal(
        self,
        site_id: FromPath[str],
        goal_id: FromPath[uuid.UUID],
        data: JSONBody[GoalPatch],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> GoalOut:
        """Change the fields present in the body."""
        access.require(Permission.MANAGE_GOALS)
        site = await _site(db_session, access, site_id)
        goal = await goal_repository.update_goal(db_session, site.id, goal_id, **_changes(data))
        return GoalOut.of(goal)

    @delete("/{goal_id:uuid}", status_code=204)
    async def delete_goal(
        self,
        site_id: FromPath[str],
        goal_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> None:
        """Delete a goal (409 while a funnel uses it). Nothing stored changes."""
        access.require(Permission.MANAGE_GOALS)
        site = await _site(db_session, access, site_id)
        await goal_repository.delete_goal(db_session, site.id, goal_id)


class FunnelController(Controller):
    path = "/api/orgs/{org_id:uuid}/sites/{site_id:str}/funnels"
    tags = ["goals"]
    dependencies = {"access": Provide(provide_org_access)}

    @get("/", dependencies=_READ)
    async def list_funnels(
        self,
        site_id: FromPath[str],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> list[FunnelOut]:
        site = await _site(db_session, access, site_id)
        return [
            FunnelOut.of(funnel, steps)
            for funnel, steps in await goal_repository.list_funnels(db_session, site.id)
        ]

    @post("/", status_code=201)
    async def create_funnel(
        self,
        site_id: FromPath[str],
        data: JSONBody[FunnelIn],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> FunnelOut:
        """A funnel of 2 to 8 goals of the site, in order, reached within one visit
        (`windowMinutes` null) or within 1 to 1440 minutes of the first step (30 by default)."""
        access.require(Permission.MANAGE_GOALS)
        site = await _site(db_session, access, site_id)
        funnel, steps = await goal_repository.create_funnel(
            db_session,
            site.id,
            name=data.name,
            steps=data.steps,
            window_minutes=data.window_minutes,
        )
        log.info("funnel_created", site_id=site.id, funnel_id=str(funnel.id), steps=len(steps))
        return FunnelOut.of(funnel, steps)

    @get("/{funnel_id:uuid}", dependencies=_READ)
    async def get_funnel(
        self,
        site_id: FromPath[str],
        funnel_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> FunnelOut:
        site = await _site(db_session, access, site_id)
        return FunnelOut.of(*await goal_repository.get_funnel(db_session, site.id, funnel_id))

    @patch("/{funnel_id:uuid}")
    async def update_funnel(
        self,
        site_id: FromPath[str],
        funnel_id: FromPath[uuid.UUID],
        data: JSONBody[FunnelPatch],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> FunnelOut:
        access.require(Permission.MANAGE_GOALS)
        site = await _site(db_session, access, site_id)
        funnel, steps = await goal_repository.update_funnel(
            db_session, site.id, funnel_id, **_changes(data)
        )
        return FunnelOut.of(funnel, steps)

    @delete("/{funnel_id:uuid}", status_code=204)
    async def delete_funnel(
        self,
        site_id: FromPath[str],
        funnel_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> None:
        access.require(Permission.MANAGE_GOALS)
        site = await _site(db_session, access, site_id)
        await goal_repository.delete_funnel(db_session, site.id, funnel_id)
