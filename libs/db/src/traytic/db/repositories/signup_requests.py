"""Sign-ups waiting for their emailed link, found by the hash of the link's token."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import SignupRequest, utcnow
from traytic.db.tokens import hash_token, new_token
from traytic.db.validation import check_text, normalise_email


async def create_signup_request(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    name: str | None,
    ttl: timedelta,
    now: datetime | None = None,
) -> tuple[SignupRequest, str]:
    """The row and the token for the link; only the token's hash is stored."""
    now = now or utcnow()
    token = new_token()
    request = SignupRequest(
        email=normalise_email(email),
        password_hash=check_text("password_hash", password_hash, max_length=255),
        name=check_text("name", name, max_length=100) if name is not None else None,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(request)
    await session.flush()
    return request, token


async def get_open_signup_request(
    session: AsyncSession, token: str, *, now: datetime | None = None
) -> SignupRequest | None:
    result = await session.exec(
        select(SignupRequest).where(
            col(SignupRequest.token_hash) == hash_token(token),
            col(SignupRequest.expires_at) > (now or utcnow()),
        )
    )
    return result.first()


async def delete_signup_requests(
    session: AsyncSession, email: str, *, now: datetime | None = None
) -> int:
    """Once an address has its account every other link for it is void; expired rows of any
    address go at the same time (nothing else needs them)."""
    result = await session.exec(
        delete(SignupRequest).where(
            (col(SignupRequest.email) == normalise_email(email))
            | (col(SignupRequest.expires_at) <= (now or utcnow()))
        )
    )
    return result.rowcount
