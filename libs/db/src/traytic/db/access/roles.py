"""The role table: what owners, admins, viewers and API keys may do in an organisation, and
the caller's role in the organisation a request names.

Not a member, or no such organisation: the same 404, so nobody learns which organisations
exist. A member whose role is short of what an action needs: 403. An API key reads as a viewer
of its own organisation and may do only what `KEY_PERMISSIONS` lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import Forbidden, InvalidInput, TwoFactorRequired
from traytic.db.access.caller import Caller
from traytic.db.errors import NotFound
from traytic.db.models import Organisation, Role, User
from traytic.db.repositories import organisations, two_factor

RANK: Mapping[str, int] = {Role.VIEWER.value: 0, Role.ADMIN.value: 1, Role.OWNER.value: 2}


class Permission(StrEnum):
    """Something a caller does in an organisation; the value names it in a 403's message."""

    READ_ORGANISATION = "reading the organisation"
    RENAME_ORGANISATION = "renaming the organisation"
    READ_MEMBERS = "seeing members"
    MANAGE_MEMBERS = "changing members"
    MANAGE_INVITATIONS = "inviting members"
    READ_SITES = "seeing sites"
    MANAGE_SITES = "changing sites"
    READ_STATS = "reading stats"
    MANAGE_API_KEYS = "managing API keys"
    READ_ALERTS = "seeing alerts and reports"
    MANAGE_ALERTS = "changing alerts and reports"
    READ_SEGMENTS = "using saved segments"
    MANAGE_SHARED_SEGMENTS = "changing segments shared with the organisation"
    MANAGE_GOALS = "changing goals and funnels"
    MANAGE_IMPORTS = "importing data from other tools"
    READ_BILLING = "seeing the plan and usage"
    MANAGE_BILLING = "managing the subscription"
    """Starting a checkout, and the provider's manage link (cancel, change the card)."""
    REQUIRE_TWO_FACTOR = "requiring two-factor sign-in"


REQUIRED_ROLE: Mapping[Permission, Role] = {
    Permission.READ_ORGANISATION: Role.VIEWER,
    Permission.RENAME_ORGANISATION: Role.ADMIN,
    Permission.READ_MEMBERS: Role.VIEWER,
    Permission.MANAGE_MEMBERS: Role.ADMIN,
    Permission.MANAGE_INVITATIONS: Role.ADMIN,
    Permission.READ_SITES: Role.VIEWER,
    Permission.MANAGE_SITES: Role.ADMIN,
    Permission.READ_STATS: Role.VIEWER,
    Permission.MANAGE_API_KEYS: Role.ADMIN,
    Permission.READ_ALERTS: Role.VIEWER,
    Permission.MANAGE_ALERTS: Role.ADMIN,
    Permission.READ_SEGMENTS: Role.VIEWER,
    Permission.MANAGE_SHARED_SEGMENTS: Role.ADMIN,
    Permission.MANAGE_GOALS: Role.ADMIN,
    Permission.MANAGE_IMPORTS: Role.ADMIN,
    Permission.READ_BILLING: Role.VIEWER,
    Permission.MANAGE_BILLING: Role.ADMIN,
    Permission.REQUIRE_TWO_FACTOR: Role.OWNER,
}
"""The least role each permission needs (owners may do everything)."""

KEY_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        Permission.READ_ORGANISATION,
        Permission.READ_SITES,
        Permission.READ_STATS,
        Permission.READ_ALERTS,
        Permission.READ_SEGMENTS,
        Permission.READ_BILLING,
    }
)
"""What an API key may do: read, never write or manage (keys are for programs reading stats)."""


def role_allows(role: str, permission: Permission) -> bool:
    return RANK[role] >= RANK[REQUIRED_ROLE[permission].value]


@dataclass(frozen=True, slots=True)
class OrgAccess:
    """The caller's standing in one organisation."""

    organisation: Organisation
    role: str
    user: User | None
    """None for an API key (which reads as a viewer of its own organisation)."""

    def allows(self, permission: Permission) -> bool:
        if self.user is None and permission not in KEY_PERMISSIONS:
            return False
        return role_allows(self.role, permission)

    def require(self, permission: Permission) -> None:
        """`Forbidden` unless the role (and, for an API key, its scope) allows `permission`."""
        if self.user is None and permission not in KEY_PERMISSIONS:
            raise Forbidden(f"{permission.value} needs a signed-in user; API keys cannot")
        if not role_allows(self.role, permission):
            needed = REQUIRED_ROLE[permission].value
            raise Forbidden(f"{permission.value} needs the {needed} role")


def _no_such_organisation(field: str) -> NotFound:
    return NotFound("no such organisation", field=field)


async def org_access(
    session: AsyncSession, caller: Caller, org_id: uuid.UUID, *, field: str = "orgId"
) -> OrgAccess:
    """The caller's role in `org_id`; the same 404 for another organisation as for none."""
    organisation = None
    role = Role.VIEWER.value
    if caller.api_key is not None:
        if caller.api_key.organisation_id == org_id:
            organisation = await organisations.get_organisation(session, org_id)
    elif caller.user is not None:
        membership = await organisations.get_membership(session, org_id, caller.user.id)
        if membership is not None:
            role = membership.role
            organisation = await organisations.get_organisation(session, org_id)
    if organisation is None:
        raise _no_such_organisation(field)
    await _check_two_factor(session, organisation, caller.user)
    return OrgAccess(organisation, role, caller.user)


async def _check_two_factor(
    session: AsyncSession, organisation: Organisation, user: User | None
) -> None:
    """A member of an organisation that requires two-factor sign-in uses it only once they
    have it on (403 `two_factor_required`, saying so). API keys are the organisation's own,
    made by its admins: they are not people and have no second factor."""
    if (
        organisation.require_two_factor
        and user is not None
        and not await two_factor.has_two_factor(session, user.id)
    ):
        raise TwoFactorRequired(
            f"{organisation.name} requires two-factor sign-in: turn it on in your account"
            " settings to use this organisation"
        )


async def sole_org_access(
    session: AsyncSession, caller: Caller, *, field: str = "organisationId"
) -> OrgAccess:
    """For routes where the organisation may go unnamed: the API key's, or the signed-in
    user's only one (400 naming `field` when they have several)."""
    if caller.api_key is not None:
        return await org_access(session, caller, caller.api_key.organisation_id, field=field)
    assert caller.user is not None
    memberships = await organisations.list_organisations_for_user(session, caller.user.id)
    if len(memberships) != 1:
        raise InvalidInput(
            "you belong to several organisations: say which in organisationId"
            if memberships
            else "you belong to no organisation",
            field=field,
        )
    organisation, role = memberships[0]
    await _check_two_factor(session, organisation, caller.user)
    return OrgAccess(organisation, role, caller.user)


def check_grant(actor_role: str, role: str) -> None:
    """Only an owner hands out (or takes away) ownership."""
    if role == Role.OWNER.value and actor_role != Role.OWNER.value:
        raise Forbidden("only an owner can make someone an owner", field="role")


def check_role_change(actor_role: str, current: str, new: str, owners: int) -> None:
    if not role_allows(actor_role, Permission.MANAGE_MEMBERS):
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
        if not role_allows(actor_role, Permission.MANAGE_MEMBERS):
            raise Forbidden("removing members needs the admin role")
        check_grant(actor_role, target_role)
    if target_role == Role.OWNER.value and owners <= 1:
        raise Forbidden("the last owner cannot be removed: make someone else owner first")
