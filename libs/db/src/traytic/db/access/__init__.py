"""Who may do what, decided in one place for every service (query, billing): headers and
cookies in, a `Caller` out; then the caller's role in an organisation and the one table of
what each role may do. Framework-free: a service passes what its HTTP framework parsed.

    credentials = Credentials.of(method, headers, cookies, session_cookie="traytic_session")
    caller = await resolve_caller(session, credentials)          # 401 / 403 (CSRF)
    access = await org_access(session, caller, org_id)            # 404 when not a member
    access.require(Permission.MANAGE_SITES)                       # 403 when the role is short
"""

from traytic.db.access.caller import Caller, Credentials, require_user, resolve_caller
from traytic.db.access.csrf import CSRF_HEADER, check_csrf, csrf_token_for
from traytic.db.access.roles import (
    KEY_PERMISSIONS,
    REQUIRED_ROLE,
    OrgAccess,
    Permission,
    check_grant,
    check_removal,
    check_role_change,
    org_access,
    role_allows,
    sole_org_access,
)

__all__ = [
    "CSRF_HEADER",
    "KEY_PERMISSIONS",
    "REQUIRED_ROLE",
    "Caller",
    "Credentials",
    "OrgAccess",
    "Permission",
    "check_csrf",
    "check_grant",
    "check_removal",
    "check_role_change",
    "csrf_token_for",
    "org_access",
    "require_user",
    "resolve_caller",
    "role_allows",
    "sole_org_access",
]
