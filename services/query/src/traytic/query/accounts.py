"""Account rules: signing up makes a user and their personal organisation; organisations get a
slug made from their name when none is given. Never commits (the request does)."""

from __future__ import annotations

import re
import secrets
import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.errors import DuplicateError
from traytic.db.models import Organisation, User
from traytic.db.repositories import organisations, users

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug_base(text: str) -> str:
    """`"Ann's Sites!"` → `ann-s-sites`; never empty, short enough for a suffix."""
    base = _NOT_SLUG.sub("-", text.lower()).strip("-")[:40].strip("-")
    return base or "org"


async def create_organisation(
    session: AsyncSession, *, name: str, owner_id: uuid.UUID, slug: str | None = None
) -> Organisation:
    """With `slug`, exactly that one (409 when taken); without, one made from the name."""
    if slug is not None:
        return await organisations.create_organisation(
            session, name=name, slug=slug, owner_id=owner_id
        )
    for _ in range(5):
        candidate = f"{slug_base(name)}-{secrets.token_hex(3)}"
        try:
            return await organisations.create_organisation(
                session, name=name, slug=candidate, owner_id=owner_id
            )
        except DuplicateError:
            continue
    raise DuplicateError("slug", "could not find a free slug: choose one")


async def sign_up(
    session: AsyncSession, *, email: str, password_hash: str, name: str | None
) -> tuple[User, Organisation]:
    user = await users.create_user(session, email=email, password_hash=password_hash, name=name)
    label = user.name or user.email.split("@", 1)[0]
    organisation = await create_organisation(session, name=label[:100], owner_id=user.id)
    return user, organisation
