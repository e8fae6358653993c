"""`/api/orgs/{orgId}/members`: who belongs, their roles, and removing them."""

from __future__ import annotations

import uuid

import structlog
from litestar import Controller, delete, get, patch
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.access import OrgAccess, check_removal, check_role_change
from traytic.db.errors import NotFound
from traytic.db.repositories import api_keys, organisations
from traytic.query.access import provide_org_access
from traytic.query.context import QueryContext
from traytic.query.schemas import MemberOut, RoleIn
from traytic.query.unit_of_work import after_commit

log = structlog.get_logger()


class MemberController(Controller):
    path = "/api/orgs/{org_id:uuid}/members"
    tags = ["organisations"]
    dependencies = {"access": Provide(provide_org_access)}

    @get("/")
    async def list_members(
        self, access: NamedDependency[OrgAccess], db_session: NamedDependency[AsyncSession]
    ) -> list[MemberOut]:
        rows = await organisations.list_members(db_session, access.organisation.id)
        return [MemberOut.of(user, membership) for user, membership in rows]

    @patch("/{user_id:uuid}")
    async def change_role(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[RoleIn],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> MemberOut:
        """Admins change viewers and admins; only owners grant or take away ownership; the
        last owner stays an owner."""
        org_id = access.organisation.id
        target = await organisations.get_membership(db_session, org_id, user_id)
        if target is None:
            raise NotFound("no such member", field="userId")
        owners = await organisations.count_owners(db_session, org_id)
        check_role_change(access.role, target.role, data.role, owners)
        membership = await organisations.change_role(db_session, org_id, user_id, data.role)
        rows = await organisations.list_members(db_session, org_id)
        user = next(user for user, row in rows if row.id == membership.id)
        log.info("member_role_changed", organisation_id=str(org_id), user_id=str(user_id))
        return MemberOut.of(user, membership)

    @delete("/{user_id:uuid}", status_code=204)
    async def remove_member(
        self,
        user_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> None:
        """Admins remove members (owners only by an owner); anyone may leave; the last owner
        stays."""
        org_id = access.organisation.id
        target = await organisations.get_membership(db_session, org_id, user_id)
        if target is None:
            raise NotFound("no such member", field="userId")
        owners = await organisations.count_owners(db_session, org_id)
        is_self = access.user is not None and access.user.id == user_id
        check_removal(access.role, is_self=is_self, target_role=target.role, owners=owners)
        await organisations.remove_member(db_session, org_id, user_id)
        after_commit(db_session, ctx.announce_access_change)
        review = await api_keys.keys_to_review(db_session, org_id)
        log.info(
            "member_removed",
            organisation_id=str(org_id),
            user_id=str(user_id),
            keys_to_review=len(review),
        )
