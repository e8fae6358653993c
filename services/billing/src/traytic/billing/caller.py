"""Who calls the billing API and for which organisation, through the shared access layer
(`traytic.db.access`: the same caller resolution, CSRF check and role table as the query
service).

A browser sends the dashboard's session cookie (and `X-CSRF-Token` on writes); a program sends
`Authorization: Bearer <API key>` and reads as a viewer of the key's organisation. The
organisation is `organisationId` when given, else the caller's only one.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.billing.settings import BillingSettings
from traytic.core.errors import InvalidInput
from traytic.db.access import (
    Credentials,
    OrgAccess,
    Permission,
    org_access,
    resolve_caller,
    sole_org_access,
)

_FIELD = "organisationId"


def _parse_org_id(value: str | None) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput("organisationId is not an id", field=_FIELD) from exc


async def resolve_org_caller(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    settings: BillingSettings,
    organisation_id: str | None,
    permission: Permission,
) -> OrgAccess:
    """The caller's access to the organisation, allowed `permission` (else 401/403/404)."""
    wanted = _parse_org_id(organisation_id)
    presented = Credentials.of(
        request.method, request.headers, request.cookies, session_cookie=settings.session_cookie
    )
    caller = await resolve_caller(session, presented)
    if wanted is None:
        access = await sole_org_access(session, caller, field=_FIELD)
    else:
        access = await org_access(session, caller, wanted, field=_FIELD)
    access.require(permission)
    return access
