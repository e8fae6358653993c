"""Who is calling: a browser with a session cookie, or a program with an API key (Bearer).

CSRF: cookie-authenticated writes must send `X-CSRF-Token` equal to the `csrf` cookie, whose
value is derived from the session token (sha256 with a domain prefix). A page on another site
cannot read our cookies, so it cannot send the header; a cookie planted from a sibling domain
does not match the session, so it cannot forge one either. Bearer requests carry no ambient
credential and need no token. Signup and login create a session rather than use one, so they
need none (their JSON body and SameSite=Lax cookies already stop cross-site forms).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Request, Response
from litestar.di import NamedDependency
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import ApiKey, LoginSession, User, utcnow
from traytic.db.repositories import api_keys, login_sessions, users
from traytic.db.tokens import CSRF_HEADER, csrf_token_for
from traytic.query.context import QueryContext
from traytic.query.errors import CsrfRejected, Forbidden, Unauthorized
from traytic.query.settings import QuerySettings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOUCH_EVERY = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Caller:
    """Exactly one of `user` (with its `login`) or `api_key` is set."""

    user: User | None = None
    login: LoginSession | None = None
    api_key: ApiKey | None = None


async def resolve_caller(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    ctx: NamedDependency[QueryContext],
) -> Caller:
    authorization = request.headers.get("authorization")
    if authorization is not None:
        return Caller(api_key=await _api_key_caller(db_session, authorization))
    token = request.cookies.get(ctx.settings.session_cookie)
    if not token:
        raise Unauthorized("sign in, or send an API key as `Authorization: Bearer <key>`")
    login = await login_sessions.get_login_session(db_session, token)
    user = await users.get_user(db_session, login.user_id) if login is not None else None
    if login is None or user is None:
        raise Unauthorized("the session has ended: sign in again")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_token_for(token).encode()):
            raise CsrfRejected(
                f"send the {ctx.settings.csrf_cookie} cookie's value in the {CSRF_HEADER} header",
                field=CSRF_HEADER,
            )
    if utcnow() - login.last_seen_at > _TOUCH_EVERY:
        await login_sessions.touch_login_session(db_session, login)
    return Caller(user=user, login=login)


async def _api_key_caller(db_session: AsyncSession, authorization: str) -> ApiKey:
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized("the Authorization header must be `Bearer <API key>`")
    key = await api_keys.verify_api_key(db_session, credential.strip())
    if key is None:
        raise Unauthorized("unknown or revoked API key")
    await api_keys.touch_api_key(db_session, key)
    return key


async def require_user(caller: NamedDependency[Caller]) -> User:
    """For endpoints that manage accounts: a signed-in person, not an API key."""
    if caller.user is None:
        raise Forbidden("this endpoint needs a signed-in user; API keys cannot use it")
    return caller.user


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
