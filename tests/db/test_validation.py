"""Input is refused before the database, naming the field, identically on both dialects."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.db.factories import make_user
from traytic.core.errors import InvalidInput
from traytic.db.models import User, metadata
from traytic.db.repositories import users
from traytic.db.validation import (
    check_row,
    check_slug,
    check_text,
    normalise_domain,
    normalise_email,
)

STRING_COLUMNS = [
    (table, column)
    for table in metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, sa.String) and column.type.length
]


def _outcome(check: Callable[[str], str], value: str) -> str | InvalidInput:
    try:
        return check(value)
    except InvalidInput as exc:
        return exc


@given(st.text(max_size=300))
def test_email_is_normalised_or_refused_naming_the_field(value: str) -> None:
    email = _outcome(normalise_email, value)
    if isinstance(email, InvalidInput):
        assert (email.field, email.status) == ("email", 400)
        return
    assert email == email.lower() == email.strip() and len(email) <= 254 and "@" in email
    assert normalise_email(email.upper()) == email


@given(st.text(max_size=100))
def test_slug_is_url_safe_or_refused(value: str) -> None:
    slug = _outcome(check_slug, value)
    if isinstance(slug, InvalidInput):
        assert slug.field == "slug"
        return
    assert slug.isascii() and 1 <= len(slug) <= 64 and "/" not in slug


@given(st.text(max_size=300))
def test_domain_is_an_ascii_host_or_refused(value: str) -> None:
    domain = _outcome(normalise_domain, value)
    if isinstance(domain, InvalidInput):
        assert domain.field == "domain"
        return
    assert domain.isascii() and len(domain) <= 253 and " " not in domain


@given(st.sampled_from(STRING_COLUMNS), st.integers(min_value=1, max_value=50))
def test_every_string_column_refuses_an_over_long_value(
    table_column: tuple[sa.Table, sa.Column[str]], extra: int
) -> None:
    table, column = table_column
    length = column.type.length  # type: ignore[attr-defined]
    check_row(table, {column.name: "x" * length})
    with pytest.raises(InvalidInput) as caught:
        check_row(table, {column.name: "x" * (length + extra)})
    assert caught.value.field == column.name


@given(st.one_of(st.integers(), st.floats(), st.binary(), st.none(), st.lists(st.text())))
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput):
        check_text("name", value, max_length=100)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "a" * 250 + "@x.com"}, "email"),
        ({"email": "no-at-sign"}, "email"),
        ({"email": 42}, "email"),
        ({"password_hash": "h" * 256}, "password_hash"),
        ({"name": "n" * 101}, "name"),
        ({"name": "nul\x00byte"}, "name"),
    ],
)
async def test_repository_refuses_bad_user_input(
    session: AsyncSession, kwargs: dict[str, object], field: str
) -> None:
    """SQLite would store these; PostgreSQL would reject them late and vaguely."""
    values: dict[str, object] = {"email": "ok@example.com", "password_hash": "h", **kwargs}
    with pytest.raises(InvalidInput) as caught:
        await users.create_user(session, **values)  # type: ignore[arg-type]
    assert caught.value.field == field


async def test_the_flush_guard_catches_rows_built_by_hand(session: AsyncSession) -> None:
    """Even a row that skipped the repositories cannot reach SQLite over-long or mistyped."""
    session.add(User(id=uuid.uuid4(), email="x" * 300, password_hash="h"))
    with pytest.raises(InvalidInput) as caught:
        await session.flush()
    assert caught.value.field == "email"
    session.expunge_all()

    user = await make_user(session)
    user.password_hash = 123  # type: ignore[assignment]
    session.add(user)
    with pytest.raises(InvalidInput) as caught:
        await session.flush()
    assert caught.value.field == "password_hash"
