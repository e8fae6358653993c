"""Organisation access: the caller's role in the organisation named in the path, and the rules
of who may manage whom. Not a member, or no such organisation: the same 404, so nobody learns
which organisations exist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.errors import NotFound
from traytic.db.models import Organisation, Role, User
from traytic.db.repositories import organisations
from traytic.query.auth import Caller, require_user
from traytic.query.errors import Forbidden

RANK = {Role.VIEWER.value: 0, Role.ADMIN.value: 1, Role.OWNER.value: 2}


@dataclass(frozen=True, slots=True)
class OrgAccess:
    organisation: Organisation
    role: str
    user: User | None
    """None for an API key (which reads as a viewer of its own organisation)."""

    def require(self, role: Role, action: str) -> None:
        if RANK[self.role] < RANK[role.value]:
            raise Forbidden(f"{action} needs the {role.value} role")


def _no_such_organisation() -> NotFound:
    return NotFound("no such organisation", field="orgId")


async def provide_org_access(
    org_id: FromPath[uuid.UUID],
    caller: NamedDependency[Caller],
    db_session: NamedDependency[AsyncSession],
) -> OrgAccess:
    """A signed-in member of the organisation."""
    user = await require_user(caller)
    membership = await organisations.get_membership(db_session, org_id, user.id)
    organisation = await organisations.get_organisation(db_session, org_id) if membership else None
    if membership is None or organisation is None:
        raise _no_such_organisation()
    return OrgAccess(organisation, membership.role, user)


async def provide_org_read_access(
    org_id: FromPath[uuid.UUID],
    caller: NamedDependency[Caller],
    db_session: NamedDependency[AsyncSession],
) -> OrgAccess:
    """A member, or an API key of this organisation (as a viewer)."""
    if caller.api_key is None:
        return await provide_org_access(org_id, caller, db_session)
    organisation = None
    if caller.api_key.organisation_id == org_id:
        organisation = await organisations.get_organisation(db_session, org_id)
    if organisation is None:
        raise _no_such_organisation()
    return OrgAccess(organisation, Role.VIEWER.value, None)


def check_grant(actor_role: str, role: str) -> None:
    """Only an owner hands out (or takes away) ownership."""
    if role == Role.OWNER.value and actor_role != Role.OWNER.value:
        raise Forbidden("only an owner can make someone an owner", field="role")


def check_role_change(actor_role: str, current: str, new: str, owners: int) -> None:
    if RANK[actor_role] < RANK[Role.ADMIN.value]:
        raise Forbidden("changing roles needs the admin role")
    check_grant(actor_role, new)
    check_grant(actor_role, current)
    if current == Role.OWNER.value and new != Role.OWNER.value and owners <= 1:
        raise Forbidden(
            "the last owner cannot be demoted: make someone else owner first",
            field="role",
        )


def check_removal(actor_role: str, *, is_self: bool, target_role: str, owners: int) -> None:
    """Admins remove others (owners only by an owner); anyone may leave."""
    if not is_self:
        if RANK[actor_role] < RANK[Role.ADMIN.value]:
            raise Forbidden("removing members needs the admin role")
        check_grant(actor_role, target_role)
    if target_role == Role.OWNER.value and owners <= 1:
        raise Forbidden("the last owner cannot be removed: make someone else owner first")
