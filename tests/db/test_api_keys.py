"""API keys: the secret is shown once, verified in constant time, revocable, org-scoped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.db.factories import make_organisation
from traytic.db import NotFound
from traytic.db.repositories import api_keys


async def test_create_then_verify(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    row, key = await api_keys.create_api_key(session, organisation.id, name="CI")
    assert key.startswith(row.prefix + "_") and row.prefix.startswith("tk_live_")
    assert len(row.prefix) == len("tk_live_ab12cd34")
    assert key not in row.secret_hash and row.prefix in key
    assert await api_keys.verify_api_key(session, key) == row


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("a" if key[-1] != "a" else "b"),  # wrong secret, right prefix
        lambda key: key.upper(),
        lambda key: key + "x",
        lambda key: key.rsplit("_", 1)[0],  # the prefix alone
        lambda key: "tk_live_aaaaaaaa_" + "a" * 32,  # unknown prefix
        lambda key: "",
    ],
)
async def test_anything_but_the_key_is_refused(session: AsyncSession, mangle: object) -> None:
    organisation = await make_organisation(session)
    _, key = await api_keys.create_api_key(session, organisation.id, name="CI")
    assert await api_keys.verify_api_key(session, mangle(key)) is None  # type: ignore[operator]


async def test_revoked_key_is_refused_and_listed_only_on_request(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    row, key = await api_keys.create_api_key(session, organisation.id, name="CI")
    revoked = await api_keys.revoke_api_key(session, organisation.id, row.id)
    assert revoked.revoked_at is not None
    first = revoked.revoked_at
    assert (await api_keys.revoke_api_key(session, organisation.id, row.id)).revoked_at == first
    assert await api_keys.verify_api_key(session, key) is None
    assert await api_keys.list_api_keys(session, organisation.id) == []
    assert await api_keys.list_api_keys(session, organisation.id, include_revoked=True) == [row]


async def test_another_organisation_cannot_revoke_a_key(session: AsyncSession) -> None:
    mine = await make_organisation(session)
    theirs = await make_organisation(session)
    row, key = await api_keys.create_api_key(session, mine.id, name="CI")
    with pytest.raises(NotFound):
        await api_keys.revoke_api_key(session, theirs.id, row.id)
    with pytest.raises(NotFound):
        await api_keys.revoke_api_key(session, mine.id, uuid.uuid4())
    assert await api_keys.list_api_keys(session, theirs.id) == []
    assert await api_keys.verify_api_key(session, key) == row


async def test_touch_records_use_at_most_once_a_minute(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    row, _ = await api_keys.create_api_key(session, organisation.id, name="CI")
    now = datetime.now(UTC)
    assert await api_keys.touch_api_key(session, row, now=now)
    assert not await api_keys.touch_api_key(session, row, now=now + timedelta(seconds=30))
    assert await api_keys.touch_api_key(session, row, now=now + timedelta(minutes=2))
    await session.refresh(row)
    assert row.last_used_at == now + timedelta(minutes=2)


async def test_list_puts_never_used_keys_last_on_both_dialects(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    unused, _ = await api_keys.create_api_key(session, organisation.id, name="unused")
    used, _ = await api_keys.create_api_key(session, organisation.id, name="used")
    await api_keys.touch_api_key(session, used)
    listed = await api_keys.list_api_keys(session, organisation.id)
    assert [key.name for key in listed] == ["used", "unused"]
    assert unused in listed
