"""Small builders for rows the tests need as context (a user, an organisation)."""

from __future__ import annotations

import secrets

from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import Organisation, User
from traytic.db.repositories import organisations, users


async def make_user(session: AsyncSession, email: str | None = None) -> User:
    email = email or f"user-{secrets.token_hex(4)}@example.com"
    return await users.create_user(session, email=email, password_hash="$argon2id$v=19$fake")


async def make_organisation(
    session: AsyncSession, owner: User | None = None, slug: str | None = None
) -> Organisation:
    owner = owner or await make_user(session)
    slug = slug or f"org-{secrets.token_hex(4)}"
    return await organisations.create_organisation(
        session, name=slug.title(), slug=slug, owner_id=owner.id
    )
