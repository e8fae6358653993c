"""Organisations and who belongs to them with which role."""

from __future__ import annotations

import uuid

from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.errors import NotFound
from traytic.db.models import Membership, Organisation, Role, User
from traytic.db.models.accounts import PLANS, ROLES
from traytic.db.repositories.statements import add_unique
from traytic.db.validation import check_choice, check_country, check_slug, check_text


async def create_organisation(
    session: AsyncSession,
    *,
    name: str,
    slug: str,
    owner_id: uuid.UUID,
    billing_country: str | None = None,
) -> Organisation:
    """A new organisation with `owner_id` as its owner; `DuplicateError(field="slug")`."""
    organisation = Organisation(
        name=check_text("name", name, max_length=100),
        slug=check_slug(slug),
        billing_country=check_country(billing_country) if billing_country else None,
    )
    await add_unique(session, organisation, "slug")
    await add_member(session, organisation.id, owner_id, Role.OWNER)
    return organisation


async def get_organisation(
    session: AsyncSession, organisation_id: uuid.UUID
) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def list_organisations(session: AsyncSession, *, limit: int = 100) -> list[Organisation]:
    """Every organisation by creation (operator commands: there is no caller to scope to)."""
    result = await session.exec(
        select(Organisation).order_by(col(Organisation.created_at)).limit(limit)
    )
    return list(result.all())


async def get_organisation_by_slug(session: AsyncSession, slug: str) -> Organisation | None:
    result = await session.exec(select(Organisation).where(col(Organisation.slug) == slug.lower()))
    return result.first()


async def update_organisation(
    session: AsyncSession,
    organisation: Organisation,
    *,
    name: str | None = None,
    billing_country: str | None = None,
    plan: str | None = None,
    require_two_factor: bool | None = None,
) -> Organisation:
    if require_two_factor is not None:
        organisation.require_two_factor = require_two_factor
    if name is not None:
        organisation.name = check_text("name", name, max_length=100)
    if billing_country is not None:
        organisation.billing_country = check_country(billing_country)
    if plan is not None:
        organisation.plan = check_choice("plan", plan, PLANS)
    session.add(organisation)
    await session.flush()
    return organisation


async def list_organisations_for_user(
    session: AsyncSession, user_id: uuid.UUID
) -> list[tuple[Organisation, str]]:
    """The user's organisations with their role in each, by name."""
    result = await session.exec(
        select(Organisation, Membership.role)
        .join(Membership, col(Membership.organisation_id) == col(Organisation.id))
        .where(col(Membership.user_id) == user_id)
        .order_by(col(Organisation.name), col(Organisation.id))
    )
    return [(organisation, role) for organisation, role in result.all()]


async def add_member(
    session: AsyncSession, organisation_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> Membership:
    """`DuplicateError(field="user_id")` when the user is already a member."""
    membership = Membership(
        organisation_id=organisation_id, user_id=user_id, role=check_choice("role", role, ROLES)
    )
    await add_unique(session, membership, "user_id")
    return membership


async def get_membership(
    session: AsyncSession, organisation_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    """The caller's membership: the one check every organisation-scoped request starts with."""
    result = await session.exec(
        select(Membership).where(
            col(Membership.organisation_id) == organisation_id,
            col(Membership.user_id) == user_id,
        )
    )
    return result.first()


async def list_members(
    session: AsyncSession, organisation_id: uuid.UUID, *, search: str | None = None
) -> list[tuple[User, Membership]]:
    """Members by email; `search` matches part of the email in any case."""
    statement = (
        select(User, Membership)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(col(Membership.organisation_id) == organisation_id)
        .order_by(col(User.email))
    )
    if search:
        needle = check_text("search", search, max_length=254)
        statement = statement.where(col(User.email).icontains(needle, autoescape=True))
    result = await session.exec(statement)
    return [(user, membership) for user, membership in result.all()]


async def change_role(
    session: AsyncSession, organisation_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> Membership:
    membership = await get_membership(session, organisation_id, user_id)
    if membership is None:
        raise NotFound("no such member", field="user_id")
    membership.role = check_choice("role", role, ROLES)
    session.add(membership)
    await session.flush()
    return membership


async def remove_member(
    session: AsyncSession, organisation_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    result = await session.exec(
        delete(Membership).where(
            col(Membership.organisation_id) == organisation_id,
            col(Membership.user_id) == user_id,
        )
    )
    if result.rowcount == 0:
        raise NotFound("no such member", field="user_id")


async def count_owners(session: AsyncSession, organisation_id: uuid.UUID) -> int:
    """So a service can refuse to remove or demote the last owner."""
    result = await session.exec(
        select(func.count())
        .select_from(Membership)
        .where(
            col(Membership.organisation_id) == organisation_id,
            col(Membership.role) == Role.OWNER.value,
        )
    )
    return result.one()
