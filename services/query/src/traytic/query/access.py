"""Organisation access as Litestar dependencies: the caller's `OrgAccess` in the organisation
named in the path. The rules (the role table, who may manage whom) are `traytic.db.access`'s."""

from __future__ import annotations

import uuid

from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.access import Caller, OrgAccess, org_access, require_user


async def provide_org_access(
    org_id: FromPath[uuid.UUID],
    caller: NamedDependency[Caller],
    db_session: NamedDependency[AsyncSession],
) -> OrgAccess:
    """A signed-in member of the organisation (API keys get 403 before any lookup)."""
    require_user(caller)
    return await org_access(db_session, caller, org_id)


async def provide_org_read_access(
    org_id: FromPath[uuid.UUID],
    caller: NamedDependency[Caller],
    db_session: NamedDependency[AsyncSession],
) -> OrgAccess:
    """A member, or an API key of this organisation (as a viewer, within its scope)."""
    return await org_access(db_session, caller, org_id)
