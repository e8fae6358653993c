"""API keys for the stats API: created once, verified by prefix and a constant-time compare.

A key reads `tk_live_ab12cd34_<32 base32 characters>`. The prefix (`tk_live_ab12cd34`) is
stored and shown in lists; the whole key is stored only as its sha256 (see `ApiKey`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from datetime import datetime, timedelta

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.errors import DuplicateError, NotFound
from traytic.db.models import ApiKey, Membership, utcnow
from traytic.db.repositories.statements import add_unique
from traytic.db.validation import check_text

_KEY = re.compile(r"^(tk_(?:live|test)_[a-z2-7]{8})_[a-z2-7]{32}$")
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


def _random_base32(nbytes: int) -> str:
    return base64.b32encode(secrets.token_bytes(nbytes)).decode().lower().rstrip("=")


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str | None:
    """The visible prefix of a well-formed key, else None."""
    match = _KEY.match(key)
    return match.group(1) if match else None


async def create_api_key(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    *,
    name: str,
    created_by_id: uuid.UUID | None = None,
    mode: str = "live",
) -> tuple[ApiKey, str]:
    """The row and the full key; the key is not stored and cannot be shown again."""
    name = check_text("name", name, max_length=100)
    for _ in range(3):  # 40-bit prefixes: a collision is unlikely, and retried
        prefix = f"tk_{'test' if mode == 'test' else 'live'}_{_random_base32(5)}"
        key = f"{prefix}_{_random_base32(20)}"
        row = ApiKey(
            organisation_id=organisation_id,
            name=name,
            prefix=prefix,
            secret_hash=_hash_key(key),
            created_by_id=created_by_id,
        )
        try:
            await add_unique(session, row, "prefix")
        except DuplicateError:
            continue
        return row, key
    raise DuplicateError("prefix", "could not find a free key prefix")


async def verify_api_key(session: AsyncSession, key: str) -> ApiKey | None:
    """The live key this secret belongs to; None for a malformed, unknown, wrong or revoked one
    (the caller answers 401 alike, so nobody learns which)."""
    prefix = key_prefix(key) if isinstance(key, str) else None
    row = None
    if prefix is not None:
        result = await session.exec(select(ApiKey).where(col(ApiKey.prefix) == prefix))
        row = result.first()
    # Compare even when there is no row, so timing does not tell which prefixes exist.
    matches = hmac.compare_digest(
        _hash_key(key) if isinstance(key, str) else _DUMMY_HASH,
        row.secret_hash if row is not None else _DUMMY_HASH,
    )
    if row is None or not matches or row.revoked_at is not None:
        return None
    return row


async def touch_api_key(
    session: AsyncSession,
    key: ApiKey,
    *,
    now: datetime | None = None,
    min_interval: timedelta = timedelta(minutes=1),
) -> bool:
    """Record use, at most once per `min_interval`, so a busy key does not write per request."""
    now = now or utcnow()
    if key.last_used_at is not None and now - key.last_used_at < min_interval:
        return False
    await session.exec(update(ApiKey).where(col(ApiKey.id) == key.id).values(last_used_at=now))
    key.last_used_at = now
    return True


async def list_api_keys(
    session: AsyncSession, organisation_id: uuid.UUID, *, include_revoked: bool = False
) -> list[ApiKey]:
    """Most recently used first, never-used keys last (`nulls_last()`: SQLite would put them
    first), then newest."""
    statement = select(ApiKey).where(col(ApiKey.organisation_id) == organisation_id)
    if not include_revoked:
        statement = statement.where(col(ApiKey.revoked_at).is_(None))
    statement = statement.order_by(
        col(ApiKey.last_used_at).desc().nulls_last(), col(ApiKey.created_at).desc()
    )
    result = await session.exec(statement)
    return list(result.all())


async def keys_to_review(session: AsyncSession, organisation_id: uuid.UUID) -> set[uuid.UUID]:
    """Live keys whose creator is no longer a member: someone who left may still hold them."""
    still_member = (
        select(Membership.id)
        .where(
            col(Membership.organisation_id) == organisation_id,
            col(Membership.user_id) == col(ApiKey.created_by_id),
        )
        .exists()
    )
    result = await session.exec(
        select(ApiKey.id).where(
            col(ApiKey.organisation_id) == organisation_id,
            col(ApiKey.revoked_at).is_(None),
            col(ApiKey.created_by_id).is_not(None),
            ~still_member,
        )
    )
    return set(result.all())


async def revoke_api_key(
    session: AsyncSession, organisation_id: uuid.UUID, key_id: uuid.UUID
) -> ApiKey:
    """Revoke now; `NotFound` for a key of another organisation. Revoking twice keeps the
    first time."""
    result = await session.exec(
        select(ApiKey).where(
            col(ApiKey.id) == key_id, col(ApiKey.organisation_id) == organisation_id
        )
    )
    row = result.first()
    if row is None:
        raise NotFound("no such API key", field="key_id")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        await session.flush()
    return row
