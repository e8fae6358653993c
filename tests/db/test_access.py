"""The access layer (`traytic.db.access`) on SQLite and PostgreSQL: credentials in, a caller
out; CSRF on cookie writes; last-seen times; the role table; another organisation is a 404."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.db.factories import make_organisation, make_user
from traytic.core.errors import CsrfRejected, Forbidden, InvalidInput, TrayticError, Unauthorized
from traytic.db.access import (
    CSRF_HEADER,
    KEY_PERMISSIONS,
    REQUIRED_ROLE,
    Caller,
    Credentials,
    Permission,
    check_removal,
    check_role_change,
    csrf_token_for,
    org_access,
    require_user,
    resolve_caller,
    role_allows,
    sole_org_access,
)
from traytic.db.errors import NotFound
from traytic.db.models import LoginSession, Role, utcnow
from traytic.db.repositories import api_keys, login_sessions, organisations

COOKIE = "traytic_session"


def browser(method: str, token: str, *, csrf: str | None = None) -> Credentials:
    headers = {CSRF_HEADER: csrf} if csrf is not None else {}
    return Credentials.of(method, headers, {COOKIE: token}, session_cookie=COOKIE)


def program(key: str) -> Credentials:
    return Credentials.of("GET", {"Authorization": f"Bearer {key}"}, {}, session_cookie=COOKIE)


async def test_credentials_read_headers_in_any_case() -> None:
    lower = Credentials.of(
        "post", {"authorization": "Bearer x", "x-csrf-token": "t"}, {}, session_cookie=COOKIE
    )
    assert (lower.method, lower.authorization, lower.csrf) == ("POST", "Bearer x", "t")
    assert not lower.anonymous
    nothing = Credentials.of("GET", {}, {COOKIE: ""}, session_cookie=COOKIE)
    assert nothing.anonymous


async def test_no_credentials_or_bad_ones_are_401(session: AsyncSession) -> None:
    anonymous = Credentials.of("GET", {}, {}, session_cookie=COOKIE)
    with pytest.raises(Unauthorized):
        await resolve_caller(session, anonymous)
    with pytest.raises(Unauthorized):
        await resolve_caller(session, browser("GET", "not-a-session"))
    for authorization in ("Basic abc", "Bearer ", "Bearer tk_live_nope"):
        with pytest.raises(Unauthorized):
            await resolve_caller(
                session,
                Credentials.of("GET", {"Authorization": authorization}, {}, session_cookie=COOKIE),
            )


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(authorization=st.text(max_size=200))
async def test_any_authorization_header_is_a_401_never_a_crash(
    session: AsyncSession, authorization: str
) -> None:
    credentials = Credentials.of("GET", {"authorization": authorization}, {}, session_cookie=COOKIE)
    with pytest.raises(Unauthorized):
        await resolve_caller(session, credentials)


async def test_a_cookie_write_needs_the_csrf_header_derived_from_its_session(
    session: AsyncSession,
) -> None:
    user = await make_user(session)
    _, token = await login_sessions.create_login_session(session, user.id, ttl=timedelta(hours=1))
    _, other = await login_sessions.create_login_session(session, user.id, ttl=timedelta(hours=1))

    caller = await resolve_caller(session, browser("GET", token))  # reads need none
    assert caller.user is not None and caller.user.id == user.id
    assert caller.owner == f"user:{user.id}"
    for wrong in (None, "", csrf_token_for(other)):
        with pytest.raises(CsrfRejected) as refused:
            await resolve_caller(session, browser("DELETE", token, csrf=wrong))
        assert refused.value.status == 403
        assert refused.value.field == CSRF_HEADER
    written = await resolve_caller(session, browser("POST", token, csrf=csrf_token_for(token)))
    assert written.login is not None


async def test_a_session_records_when_it_was_last_seen(session: AsyncSession) -> None:
    """Every service that accepts the session writes its last-seen time (billing once did not),
    at most every ten minutes."""
    user = await make_user(session)
    login, token = await login_sessions.create_login_session(
        session, user.id, ttl=timedelta(hours=1)
    )
    now = utcnow()
    await resolve_caller(session, browser("GET", token), now=now + timedelta(minutes=5))
    row = await session.get(LoginSession, login.id, populate_existing=True)
    assert row is not None and row.last_seen_at == login.created_at
    later = now + timedelta(minutes=11)
    await resolve_caller(session, browser("GET", token), now=later)
    row = await session.get(LoginSession, login.id, populate_existing=True)
    assert row is not None
    assert abs(row.last_seen_at.replace(tzinfo=None) - later.replace(tzinfo=None)) < timedelta(
        seconds=1
    )


async def test_an_expired_session_is_401(session: AsyncSession) -> None:
    user = await make_user(session)
    _, token = await login_sessions.create_login_session(session, user.id, ttl=timedelta(hours=1))
    with pytest.raises(Unauthorized):
        await resolve_caller(session, browser("GET", token), now=utcnow() + timedelta(hours=2))


async def test_an_api_key_wins_over_a_cookie_and_records_its_use(session: AsyncSession) -> None:
    owner = await make_user(session)
    organisation = await make_organisation(session, owner)
    row, key = await api_keys.create_api_key(session, organisation.id, name="ci")
    _, token = await login_sessions.create_login_session(session, owner.id, ttl=timedelta(hours=1))
    both = Credentials.of(
        "POST", {"Authorization": f"Bearer {key}"}, {COOKIE: token}, session_cookie=COOKIE
    )
    caller = await resolve_caller(session, both)  # no CSRF header: a key carries none
    assert caller.api_key is not None and caller.api_key.id == row.id and caller.user is None
    assert caller.api_key.last_used_at is not None
    with pytest.raises(Forbidden):
        require_user(caller)
    await api_keys.revoke_api_key(session, organisation.id, row.id)
    with pytest.raises(Unauthorized):
        await resolve_caller(session, program(key))


async def test_roles_in_an_organisation_and_the_same_404_for_another(
    session: AsyncSession,
) -> None:
    owner = await make_user(session)
    organisation = await make_organisation(session, owner)
    viewer = await make_user(session)
    await organisations.add_member(session, organisation.id, viewer.id, Role.VIEWER.value)
    stranger_org = await make_organisation(session)
    _, key = await api_keys.create_api_key(session, organisation.id, name="ci")
    key_caller = await resolve_caller(session, program(key))

    owner_access = await org_access(session, Caller(user=owner), organisation.id)
    assert owner_access.role == Role.OWNER.value
    for permission in Permission:
        owner_access.require(permission)

    viewer_access = await org_access(session, Caller(user=viewer), organisation.id)
    viewer_access.require(Permission.READ_STATS)
    with pytest.raises(Forbidden, match="admin role"):
        viewer_access.require(Permission.MANAGE_SITES)
    assert not viewer_access.allows(Permission.MANAGE_BILLING)

    key_access = await org_access(session, key_caller, organisation.id)
    assert key_access.user is None
    for permission in Permission:
        assert key_access.allows(permission) == (permission in KEY_PERMISSIONS)
    with pytest.raises(Forbidden, match="API keys"):
        key_access.require(Permission.MANAGE_API_KEYS)

    for caller in (Caller(user=viewer), key_caller):
        with pytest.raises(NotFound):
            await org_access(session, caller, stranger_org.id)
        with pytest.raises(NotFound):
            await org_access(session, caller, uuid.uuid4())


async def test_the_sole_organisation_when_none_is_named(session: AsyncSession) -> None:
    user = await make_user(session)
    first = await make_organisation(session, user)
    assert (await sole_org_access(session, Caller(user=user))).organisation.id == first.id
    await make_organisation(session, user)
    with pytest.raises(InvalidInput) as several:
        await sole_org_access(session, Caller(user=user))
    assert several.value.field == "organisationId"


def test_the_role_table_is_ordered_and_complete() -> None:
    assert set(REQUIRED_ROLE) == set(Permission)
    for permission in Permission:
        assert role_allows(Role.OWNER.value, permission)
        if role_allows(Role.VIEWER.value, permission):
            assert role_allows(Role.ADMIN.value, permission)
    # An API key never exceeds a viewer.
    assert all(REQUIRED_ROLE[permission] is Role.VIEWER for permission in KEY_PERMISSIONS)


def test_who_may_manage_whom() -> None:
    with pytest.raises(Forbidden):
        check_role_change(Role.VIEWER.value, Role.VIEWER.value, Role.ADMIN.value, owners=1)
    with pytest.raises(Forbidden):
        check_role_change(Role.ADMIN.value, Role.VIEWER.value, Role.OWNER.value, owners=1)
    with pytest.raises(Forbidden):
        check_role_change(Role.OWNER.value, Role.OWNER.value, Role.ADMIN.value, owners=1)
    check_role_change(Role.OWNER.value, Role.OWNER.value, Role.ADMIN.value, owners=2)
    check_removal(Role.VIEWER.value, is_self=True, target_role=Role.VIEWER.value, owners=1)
    with pytest.raises(Forbidden):
        check_removal(Role.ADMIN.value, is_self=False, target_role=Role.OWNER.value, owners=2)
    with pytest.raises(TrayticError):
        check_removal(Role.OWNER.value, is_self=True, target_role=Role.OWNER.value, owners=1)
