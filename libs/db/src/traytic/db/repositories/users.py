"""Users: created with a normalised email, found by it case-insensitively."""

from __future__ import annotations

import uuid

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import InvalidInput
from traytic.db.models import User
from traytic.db.repositories.statements import add_unique
from traytic.db.validation import check_text, normalise_email


async def create_user(
    session: AsyncSession, *, email: str, password_hash: str, name: str | None = None
) -> User:
    """A new user; `DuplicateError(field="email")` if the address is taken in any case."""
    user = User(
        email=normalise_email(email),
        password_hash=check_text("password_hash", password_hash, max_length=255),
        name=check_text("name", name, max_length=100) if name is not None else None,
    )
    await add_unique(session, user, "email")
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    """Emails are stored lowercase, so an equality on the normalised value uses the index."""
    try:
        normalised = normalise_email(email)
    except InvalidInput:  # an address that cannot exist matches nobody
        return None
    result = await session.exec(select(User).where(col(User.email) == normalised))
    return result.first()


async def search_users(session: AsyncSession, text: str, *, limit: int = 20) -> list[User]:
    """Users whose email contains `text`, in any case (ILIKE, not LIKE: PostgreSQL's LIKE is
    case-sensitive and SQLite's is not)."""
    needle = check_text("q", text, max_length=254)
    result = await session.exec(
        select(User)
        .where(col(User.email).icontains(needle, autoescape=True))
        .order_by(col(User.email))
        .limit(limit)
    )
    return list(result.all())


async def set_password_hash(session: AsyncSession, user: User, password_hash: str) -> None:
    user.password_hash = check_text("password_hash", password_hash, max_length=255)
    session.add(user)
    await session.flush()
