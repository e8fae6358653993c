"""Users, organisations, memberships, invitations and login sessions on both dialects."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.db.factories import make_organisation, make_user
from traytic.core.errors import InvalidInput, TrayticError
from traytic.db import Database, DuplicateError, NotFound
from traytic.db.models import Membership, Role
from traytic.db.repositories import invitations, login_sessions, organisations, users


async def test_create_user_stores_the_email_lowercase(session: AsyncSession) -> None:
    user = await users.create_user(session, email="  Ann@Example.COM ", password_hash="h")
    assert user.email == "ann@example.com"
    assert user.created_at.tzinfo is not None


async def test_duplicate_email_in_another_case_is_a_409_naming_email(
    session: AsyncSession,
) -> None:
    await users.create_user(session, email="ann@example.com", password_hash="h")
    with pytest.raises(DuplicateError) as caught:
        await users.create_user(session, email="ANN@example.com", password_hash="h")
    assert isinstance(caught.value, TrayticError)
    assert (caught.value.status, caught.value.field) == (409, "email")
    # The savepoint kept the transaction usable (PostgreSQL would have aborted it).
    assert await users.get_user_by_email(session, "ann@example.com") is not None


async def test_get_user_by_email_ignores_case(session: AsyncSession) -> None:
    user = await make_user(session, "bob@example.com")
    assert await users.get_user_by_email(session, "BOB@Example.com") == user
    assert await users.get_user_by_email(session, "nobody@example.com") is None
    assert await users.get_user_by_email(session, "not an email") is None
    assert await users.get_user(session, user.id) == user


async def test_search_is_case_insensitive_and_escapes_wildcards(session: AsyncSession) -> None:
    """PostgreSQL's LIKE is case-sensitive, SQLite's is not: ILIKE behaves the same on both."""
    await make_user(session, "carol@example.com")
    await make_user(session, "dave_x@example.com")
    assert [u.email for u in await users.search_users(session, "CAROL")] == ["carol@example.com"]
    assert [u.email for u in await users.search_users(session, "_x")] == ["dave_x@example.com"]
    assert await users.search_users(session, "%") == []


async def test_timestamps_come_back_in_utc(db: Database) -> None:
    async with db.session() as session:
        user = await make_user(session)
        login, _ = await login_sessions.create_login_session(
            session,
            user.id,
            ttl=timedelta(hours=1),
            now=datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        )
    async with db.session_factory() as session:
        stored = await session.get(type(login), login.id)
        assert stored is not None
        assert stored.created_at == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
        assert stored.created_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    user = await make_user(session)
    with pytest.raises(InvalidInput) as caught:
        await login_sessions.create_login_session(
            session, user.id, ttl=timedelta(hours=1), now=datetime(2025, 1, 1)
        )
    assert caught.value.field == "created_at"


async def test_organisation_has_its_creator_as_owner(session: AsyncSession) -> None:
    owner = await make_user(session)
    organisation = await organisations.create_organisation(
        session, name="Acme", slug="acme", owner_id=owner.id, billing_country="ng"
    )
    assert organisation.billing_country == "NG"
    assert organisation.plan == "free"
    membership = await organisations.get_membership(session, organisation.id, owner.id)
    assert membership is not None and membership.role == "owner"
    assert await organisations.list_organisations_for_user(session, owner.id) == [
        (organisation, "owner")
    ]
    assert await organisations.get_organisation_by_slug(session, "ACME") == organisation
    assert await organisations.count_owners(session, organisation.id) == 1


async def test_duplicate_slug_is_a_409_naming_slug(session: AsyncSession) -> None:
    await make_organisation(session, slug="acme")
    with pytest.raises(DuplicateError) as caught:
        await make_organisation(session, slug="acme")
    assert caught.value.field == "slug"


async def test_membership_pair_is_unique(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    user = await make_user(session)
    await organisations.add_member(session, organisation.id, user.id, Role.VIEWER)
    with pytest.raises(DuplicateError) as caught:
        await organisations.add_member(session, organisation.id, user.id, Role.ADMIN)
    assert caught.value.field == "user_id"


async def test_members_roles_and_removal(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    erin = await make_user(session, "erin@example.com")
    await organisations.add_member(session, organisation.id, erin.id, "viewer")
    with pytest.raises(InvalidInput) as caught:
        await organisations.add_member(session, organisation.id, uuid.uuid4(), "god")
    assert caught.value.field == "role"

    found = await organisations.list_members(session, organisation.id, search="ERIN")
    assert [(u.email, m.role) for u, m in found] == [("erin@example.com", "viewer")]
    assert len(await organisations.list_members(session, organisation.id)) == 2

    changed = await organisations.change_role(session, organisation.id, erin.id, "admin")
    assert changed.role == "admin"
    await organisations.remove_member(session, organisation.id, erin.id)
    assert await organisations.get_membership(session, organisation.id, erin.id) is None
    with pytest.raises(NotFound):
        await organisations.remove_member(session, organisation.id, erin.id)
    with pytest.raises(NotFound):
        await organisations.change_role(session, organisation.id, erin.id, "admin")


async def test_update_organisation(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    await organisations.update_organisation(session, organisation, name="New", plan="pro")
    assert (organisation.name, organisation.plan) == ("New", "pro")
    with pytest.raises(InvalidInput):
        await organisations.update_organisation(session, organisation, plan="platinum")


async def test_foreign_keys_are_enforced(session: AsyncSession) -> None:
    """SQLite ignores foreign keys unless the pragma is on; the engine turns it on."""
    session.add(Membership(organisation_id=uuid.uuid4(), user_id=uuid.uuid4(), role="viewer"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_deleting_a_user_cascades_to_memberships_and_sessions(db: Database) -> None:
    async with db.session() as session:
        organisation = await make_organisation(session)
        user = await make_user(session)
        await organisations.add_member(session, organisation.id, user.id, "viewer")
        _, token = await login_sessions.create_login_session(
            session, user.id, ttl=timedelta(hours=1)
        )
    async with db.session() as session:
        await session.delete(await users.get_user(session, user.id))
    async with db.session() as session:
        assert await organisations.get_membership(session, organisation.id, user.id) is None
        assert await login_sessions.get_login_session(session, token) is None


async def test_invitation_is_accepted_once(session: AsyncSession) -> None:
    owner = await make_user(session)
    organisation = await make_organisation(session, owner)
    invitation, token = await invitations.create_invitation(
        session, organisation.id, email="New@Example.com", role="admin", invited_by_id=owner.id
    )
    assert invitation.email == "new@example.com"
    assert token not in invitation.token_hash
    assert await invitations.list_open_invitations(session, organisation.id) == [invitation]

    newcomer = await make_user(session, "new@example.com")
    membership = await invitations.accept_invitation(session, token, newcomer.id)
    assert membership.role == "admin"
    with pytest.raises(NotFound):
        await invitations.accept_invitation(session, token, newcomer.id)
    assert await invitations.list_open_invitations(session, organisation.id) == []


async def test_expired_invitation_is_refused(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    _, token = await invitations.create_invitation(
        session, organisation.id, email="x@example.com", role="viewer", invited_by_id=None
    )
    later = datetime.now(UTC) + timedelta(days=8)
    assert await invitations.get_open_invitation(session, token, now=later) is None


async def test_login_sessions_store_only_the_token_hash(session: AsyncSession) -> None:
    user = await make_user(session)
    login, token = await login_sessions.create_login_session(
        session, user.id, ttl=timedelta(hours=1), user_agent_summary="Firefox on Linux"
    )
    assert token not in login.token_hash and len(login.token_hash) == 64
    assert await login_sessions.get_login_session(session, token) == login
    assert await login_sessions.get_login_session(session, token + "x") is None

    later = datetime.now(UTC) + timedelta(hours=2)
    assert await login_sessions.get_login_session(session, token, now=later) is None
    await login_sessions.touch_login_session(session, login, extend_to=later + timedelta(hours=1))
    assert await login_sessions.get_login_session(session, token, now=later) == login

    assert await login_sessions.delete_login_session(session, token)
    assert not await login_sessions.delete_login_session(session, token)


async def test_expired_sessions_are_deleted_and_expire_now_works(session: AsyncSession) -> None:
    user = await make_user(session)
    await login_sessions.create_login_session(
        session, user.id, ttl=timedelta(hours=1), now=datetime.now(UTC) - timedelta(days=1)
    )
    live, live_token = await login_sessions.create_login_session(
        session, user.id, ttl=timedelta(hours=1)
    )
    assert await login_sessions.delete_expired_login_sessions(session) == 1
    await login_sessions.expire_login_session(session, live.id)
    assert await login_sessions.get_login_session(session, live_token) is None
    assert await login_sessions.delete_user_login_sessions(session, user.id) == 1


async def test_unit_of_work_rolls_back_on_error(db: Database) -> None:
    async def fail_midway() -> None:
        async with db.session() as session:
            await make_user(session, "gone@example.com")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_midway()
    async with db.session() as session:
        assert await users.get_user_by_email(session, "gone@example.com") is None
        await make_user(session, "kept@example.com")
    async with db.session() as session:
        assert await users.get_user_by_email(session, "kept@example.com") is not None
