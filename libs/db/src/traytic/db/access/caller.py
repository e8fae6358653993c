"""Who is calling: a browser with a session cookie, or a program with an API key (Bearer).

`Credentials` is what a request carries, read from its headers and cookies by whichever HTTP
framework serves it; `resolve_caller` checks them against the database. Every service that
accepts the dashboard's session or an API key resolves callers here, so they all answer the
same 401s, check CSRF the same way and record the same last-seen times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import Forbidden, Unauthorized
from traytic.db.access.csrf import CSRF_HEADER, check_csrf
from traytic.db.models import ApiKey, LoginSession, User, utcnow
from traytic.db.repositories import api_keys, login_sessions, users

TOUCH_SESSION_EVERY = timedelta(minutes=10)
"""A session's last-seen time is written at most this often (not on every request)."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """`headers[name]`, whatever the case of the mapping's keys."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presents: its method, the Authorization header, the session cookie's
    token and the CSRF header."""

    method: str
    authorization: str | None = None
    session_token: str | None = None
    csrf: str | None = None

    @classmethod
    def of(
        cls,
        method: str,
        headers: Mapping[str, str],
        cookies: Mapping[str, str],
        *,
        session_cookie: str,
    ) -> Credentials:
        """From a request's headers (lower-case names, as ASGI servers give them, or any
        case-insensitive mapping) and its cookies."""
        return cls(
            method=method.upper(),
            authorization=_header(headers, "authorization"),
            session_token=cookies.get(session_cookie) or None,
            csrf=_header(headers, CSRF_HEADER),
        )

    @property
    def anonymous(self) -> bool:
        """Neither an API key nor a session cookie (a reader of a public site, say)."""
        return self.authorization is None and self.session_token is None


@dataclass(frozen=True, slots=True)
class Caller:
    """Exactly one of `user` (with its `login`) or `api_key` is set."""

    user: User | None = None
    login: LoginSession | None = None
    api_key: ApiKey | None = None

    @property
    def owner(self) -> str:
        """A stable name for whose requests these are (rate limits, stream caps)."""
        if self.api_key is not None:
            return f"key:{self.api_key.id}"
        assert self.user is not None
        return f"user:{self.user.id}"


async def resolve_caller(
    session: AsyncSession, credentials: Credentials, *, now: datetime | None = None
) -> Caller:
    """The caller, or `Unauthorized` (no or bad credentials) or `CsrfRejected` (a cookie write
    without the matching header). An Authorization header wins over a cookie."""
    if credentials.authorization is not None:
        return Caller(api_key=await _api_key(session, credentials.authorization, now))
    token = credentials.session_token
    if not token:
        raise Unauthorized("sign in, or send an API key as `Authorization: Bearer <key>`")
    now = now or utcnow()
    login = await login_sessions.get_login_session(session, token, now=now)
    user = await users.get_user(session, login.user_id) if login is not None else None
    if login is None or user is None:
        raise Unauthorized("the session has ended: sign in again")
    check_csrf(credentials.method, token, credentials.csrf)
    if now - login.last_seen_at > TOUCH_SESSION_EVERY:
        await login_sessions.touch_login_session(session, login, now=now)
    return Caller(user=user, login=login)


async def _api_key(session: AsyncSession, authorization: str, now: datetime | None) -> ApiKey:
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized("the Authorization header must be `Bearer <API key>`")
    key = await api_keys.verify_api_key(session, credential.strip())
    if key is None:
        raise Unauthorized("unknown or revoked API key")
    await api_keys.touch_api_key(session, key, now=now)
    return key


def require_user(caller: Caller) -> User:
    """For what manages accounts: a signed-in person, not an API key."""
    if caller.user is None:
        raise Forbidden("this endpoint needs a signed-in user; API keys cannot use it")
    return caller.user
