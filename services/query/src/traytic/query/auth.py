"""The query service's side of the access layer (`traytic.db.access`): the `caller` and
`user` dependencies, and the session cookies that sign-up and login set.

Who the caller is, the CSRF check and the role table are decided in `traytic.db.access`;
this module only hands it what Litestar parsed from the request.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.di import NamedDependency
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.access import Caller, Credentials, csrf_token_for, require_user
from traytic.db.access import resolve_caller as resolve
from traytic.db.models import User
from traytic.query.context import QueryContext
from traytic.query.settings import QuerySettings


def credentials(request: Request[Any, Any, Any], settings: QuerySettings) -> Credentials:
    return Credentials.of(
        request.method, request.headers, request.cookies, session_cookie=settings.session_cookie
    )


def client_address(request: Request[Any, Any, Any], ctx: QueryContext) -> str:
    """The client's address behind the trusted proxies (the gateway's rule), for limits."""
    peer = request.client.host if request.client else ""
    return ctx.client_ips.resolve(peer, request.headers.get("x-forwarded-for")) or peer or "?"


async def resolve_caller(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    ctx: NamedDependency[QueryContext],
) -> Caller:
    return await resolve(db_session, credentials(request, ctx.settings))


async def provide_user(caller: NamedDependency[Caller]) -> User:
    """For endpoints that manage accounts: a signed-in person, not an API key."""
    return require_user(caller)


def set_session_cookies(response: Response[Any], token: str, settings: QuerySettings) -> None:
    common: dict[str, Any] = {
        "max_age": settings.session_lifetime_s,
        "samesite": "lax",
        "secure": settings.cookies_secure,
        "path": "/",
    }
    response.set_cookie(key=settings.session_cookie, value=token, httponly=True, **common)
    response.set_cookie(
        key=settings.csrf_cookie, value=csrf_token_for(token), httponly=False, **common
    )


def clear_session_cookies(response: Response[Any], settings: QuerySettings) -> None:
    response.delete_cookie(key=settings.session_cookie, path="/")
    response.delete_cookie(key=settings.csrf_cookie, path="/")
