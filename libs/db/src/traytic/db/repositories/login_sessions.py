"""Login sessions behind the dashboard's cookie, found by the hash of the cookie's token."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import LoginSession, utcnow
from traytic.db.tokens import hash_token, new_token
from traytic.db.validation import check_text


async def create_login_session(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    ttl: timedelta,
    user_agent_summary: str | None = None,
    now: datetime | None = None,
) -> tuple[LoginSession, str]:
    """The row and the token for the cookie; the token is not stored and not shown again."""
    now = now or utcnow()
    token = new_token()
    login = LoginSession(
        token_hash=hash_token(token),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ttl,
        user_agent_summary=(
            check_text("user_agent_summary", user_agent_summary[:100], max_length=100)
            if user_agent_summary
            else None
        ),
    )
    session.add(login)
    await session.flush()
    return login, token


async def get_login_session(
    session: AsyncSession, token: str, *, now: datetime | None = None
) -> LoginSession | None:
    """The live session for a cookie token; an expired one counts as none."""
    result = await session.exec(
        select(LoginSession).where(
            col(LoginSession.token_hash) == hash_token(token),
            col(LoginSession.expires_at) > (now or utcnow()),
        )
    )
    return result.first()


async def touch_login_session(
    session: AsyncSession,
    login: LoginSession,
    *,
    now: datetime | None = None,
    extend_to: datetime | None = None,
) -> None:
    """Record activity (and slide the expiry when `extend_to` is given)."""
    login.last_seen_at = now or utcnow()
    if extend_to is not None:
        login.expires_at = extend_to
    session.add(login)
    await session.flush()


async def delete_login_session(session: AsyncSession, token: str) -> bool:
    """Log out; False when there was no such session."""
    result = await session.exec(
        delete(LoginSession).where(col(LoginSession.token_hash) == hash_token(token))
    )
    return result.rowcount > 0


async def delete_user_login_sessions(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Log a user out everywhere (after a password change, say)."""
    result = await session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user_id))
    return result.rowcount


async def delete_expired_login_sessions(
    session: AsyncSession, *, now: datetime | None = None
) -> int:
    result = await session.exec(
        delete(LoginSession).where(col(LoginSession.expires_at) <= (now or utcnow()))
    )
    return result.rowcount


async def expire_login_session(session: AsyncSession, login_id: uuid.UUID) -> None:
    """End a session now but keep the row (an audit of when it ended)."""
    await session.exec(
        update(LoginSession).where(col(LoginSession.id) == login_id).values(expires_at=utcnow())
    )
