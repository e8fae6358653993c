"""Who calls the billing API and for which organisation, resolved from `traytic.db` alone (a
service never imports another; the query service does the same from the same tables).

A browser sends the dashboard's session cookie (and, on writes, `X-CSRF-Token` equal to the
csrf cookie, derived from the session token exactly as the query service derives it); a
program sends `Authorization: Bearer <API key>` and reads as a viewer of the key's
organisation. The organisation is `organisationId` when given, else the caller's only one.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.billing.errors import Forbidden, Unauthorized
from traytic.billing.settings import BillingSettings
from traytic.core.errors import InvalidInput
from traytic.db.errors import NotFound
from traytic.db.models import Organisation, Role, User
from traytic.db.repositories import api_keys, login_sessions, organisations, users
from traytic.db.tokens import CSRF_HEADER, csrf_token_for

RANK = {Role.VIEWER.value: 0, Role.ADMIN.value: 1, Role.OWNER.value: 2}


@dataclass(frozen=True, slots=True)
class OrgCaller:
    organisation: Organisation
    role: str
    user: User | None
    """None for an API key."""

    def require(self, role: Role, action: str) -> None:
        if RANK[self.role] < RANK[role.value]:
            raise Forbidden(f"{action} needs the {role.value} role")


def _parse_org_id(value: str | None) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput("organisationId is not an id", field="organisationId") from exc


def _no_such_organisation() -> NotFound:
    return NotFound("no such organisation", field="organisationId")


async def resolve_org_caller(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    settings: BillingSettings,
    organisation_id: str | None,
) -> OrgCaller:
    wanted = _parse_org_id(organisation_id)
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, credential = authorization.partition(" ")
        key = None
        if scheme.lower() == "bearer" and credential.strip():
            key = await api_keys.verify_api_key(session, credential.strip())
        if key is None:
            raise Unauthorized("unknown or revoked API key (send `Authorization: Bearer <key>`)")
        if wanted is not None and wanted != key.organisation_id:
            raise _no_such_organisation()
        organisation = await organisations.get_organisation(session, key.organisation_id)
        if organisation is None:
            raise _no_such_organisation()
        return OrgCaller(organisation, Role.VIEWER.value, None)

    token = request.cookies.get(settings.session_cookie)
    if not token:
        raise Unauthorized("sign in, or send an API key as `Authorization: Bearer <key>`")
    login = await login_sessions.get_login_session(session, token)
    user = await users.get_user(session, login.user_id) if login is not None else None
    if login is None or user is None:
        raise Unauthorized("the session has ended: sign in again")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_token_for(token).encode()):
            raise Forbidden(
                f"send the {settings.csrf_cookie} cookie's value in the {CSRF_HEADER} header",
                field=CSRF_HEADER,
            )
    memberships = await organisations.list_organisations_for_user(session, user.id)
    if wanted is None:
        if len(memberships) != 1:
            raise InvalidInput(
                "you belong to several organisations: say which in organisationId",
                field="organisationId",
            )
        organisation, role = memberships[0]
        return OrgCaller(organisation, role, user)
    for organisation, role in memberships:
        if organisation.id == wanted:
            return OrgCaller(organisation, role, user)
    raise _no_such_organisation()
