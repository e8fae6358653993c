"""Two-factor sign-in: a user's TOTP secret, their recovery codes, and the pending logins
that wait for a code. Each one-time use (a time step, a recovery code, a pending login) is
claimed by a conditional UPDATE or DELETE, so two requests racing with one code cannot both
win, on any replica."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import PendingLogin, RecoveryCode, TwoFactor, utcnow
from traytic.db.tokens import hash_token, new_token


async def get_two_factor(session: AsyncSession, user_id: uuid.UUID) -> TwoFactor | None:
    """The user's row, confirmed or not."""
    return await session.get(TwoFactor, user_id)


async def has_two_factor(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Two-factor sign-in is in force for this user."""
    row = await session.get(TwoFactor, user_id)
    return row is not None and row.confirmed_at is not None


async def start_enrolment(session: AsyncSession, user_id: uuid.UUID, secret: str) -> TwoFactor:
    """A new, unconfirmed secret (replacing an unconfirmed one), as the caller sealed it."""
    row = await session.get(TwoFactor, user_id)
    if row is None:
        row = TwoFactor(user_id=user_id, secret=secret)
    else:
        row.secret, row.confirmed_at, row.last_step = secret, None, 0
    session.add(row)
    await session.flush()
    return row


async def claim_step(session: AsyncSession, user_id: uuid.UUID, step: int) -> bool:
    """Record that the code of time step `step` was used; False when it (or a later one) was
    used already: a code works once, even inside its 30-second window."""
    result = await session.exec(
        update(TwoFactor)
        .where(col(TwoFactor.user_id) == user_id, col(TwoFactor.last_step) < step)
        .values(last_step=step)
    )
    return result.rowcount == 1


async def confirm(session: AsyncSession, row: TwoFactor, *, now: datetime | None = None) -> None:
    row.confirmed_at = now or utcnow()
    session.add(row)
    await session.flush()


async def remove(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Turn two-factor sign-in off: the secret and every recovery code go."""
    await session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    await session.exec(delete(TwoFactor).where(col(TwoFactor.user_id) == user_id))


async def replace_recovery_codes(
    session: AsyncSession, user_id: uuid.UUID, code_hashes: list[str]
) -> None:
    await session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    for code_hash in code_hashes:
        session.add(RecoveryCode(user_id=user_id, code_hash=code_hash))
    await session.flush()


async def use_recovery_code(
    session: AsyncSession, user_id: uuid.UUID, code_hash: str, *, now: datetime | None = None
) -> bool:
    result = await session.exec(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.user_id) == user_id,
            col(RecoveryCode.code_hash) == code_hash,
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=now or utcnow())
    )
    return result.rowcount == 1


async def count_recovery_codes_left(session: AsyncSession, user_id: uuid.UUID) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(col(RecoveryCode.user_id) == user_id, col(RecoveryCode.used_at).is_(None))
    )
    return int(result.one())


async def create_pending_login(
    session: AsyncSession, user_id: uuid.UUID, *, ttl: timedelta, now: datetime | None = None
) -> str:
    """The token that carries a right password over to the code step (stored hashed)."""
    now = now or utcnow()
    token = new_token()
    session.add(
        PendingLogin(
            token_hash=hash_token(token), user_id=user_id, created_at=now, expires_at=now + ttl
        )
    )
    await session.flush()
    return token


async def get_pending_login(
    session: AsyncSession, token: str, *, now: datetime | None = None
) -> PendingLogin | None:
    result = await session.exec(
        select(PendingLogin).where(
            col(PendingLogin.token_hash) == hash_token(token),
            col(PendingLogin.expires_at) > (now or utcnow()),
        )
    )
    return result.first()


async def finish_pending_login(
    session: AsyncSession, pending: PendingLogin, *, now: datetime | None = None
) -> bool:
    """Use the pending login up (and sweep expired ones); False when another request did."""
    result = await session.exec(delete(PendingLogin).where(col(PendingLogin.id) == pending.id))
    await session.exec(
        delete(PendingLogin).where(col(PendingLogin.expires_at) <= (now or utcnow()))
    )
    return result.rowcount == 1
