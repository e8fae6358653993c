"""Bringing stored TOTP secrets to the current key: plain ones (stored before migration 0050)
and ones sealed with a previous key.

Migration 0050 runs it when the key is set; the query service runs it at every start, so a
migration run without the key is caught up and a key rotation is complete after one restart
with the old key in `TRAYTIC_SECRET_KEY_PREVIOUS`. Each row is rewritten only if it still holds
what was read (replicas starting together, an enrolment meanwhile), on a plain connection with
a table of its own, so a migration can call it whatever the models become.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from traytic.db.keyring import TWO_FACTOR_SECRET, Keyring, SecretUnreadable, is_sealed

_two_factor = sa.table(
    "two_factor", sa.column("user_id", sa.Uuid()), sa.column("secret", sa.String())
)


@dataclass(frozen=True, slots=True)
class Resealed:
    sealed: int = 0
    """Rows now sealed with the current key."""
    unreadable: int = 0
    """Sealed rows that no configured key opens (a wrong or lost key)."""
    plain: int = 0
    """Rows left unsealed because no key is configured."""


def _rewrite(connection: sa.Connection, user_id: object, old: str, new: str) -> int:
    result = connection.execute(
        sa.update(_two_factor)
        .where(_two_factor.c.user_id == user_id, _two_factor.c.secret == old)
        .values(secret=new)
    )
    return int(result.rowcount or 0)


def reseal_two_factor_secrets(connection: sa.Connection, keyring: Keyring) -> Resealed:
    sealed = unreadable = plain = 0
    rows = connection.execute(sa.select(_two_factor.c.user_id, _two_factor.c.secret)).all()
    for user_id, value in rows:
        if keyring.is_current(value):
            continue
        if not is_sealed(value) and not keyring.can_seal:
            plain += 1
            continue
        try:
            secret = (
                keyring.open(TWO_FACTOR_SECRET, value, context=str(user_id))
                if is_sealed(value)
                else value
            )
        except SecretUnreadable:
            unreadable += 1
            continue
        if keyring.can_seal:
            new = keyring.seal(TWO_FACTOR_SECRET, secret, context=str(user_id))
            sealed += _rewrite(connection, user_id, value, new)
    return Resealed(sealed=sealed, unreadable=unreadable, plain=plain)


def unseal_two_factor_secrets(connection: sa.Connection, keyring: Keyring) -> int:
    """Every secret back to plain base32 (a downgrade below 0050); refuses, changing nothing,
    when one cannot be opened."""
    rows = connection.execute(sa.select(_two_factor.c.user_id, _two_factor.c.secret)).all()
    plain: list[tuple[object, str, str]] = []
    for user_id, value in rows:
        if is_sealed(value):
            try:
                secret = keyring.open(TWO_FACTOR_SECRET, value, context=str(user_id))
            except SecretUnreadable as exc:
                raise SecretUnreadable(
                    f"cannot unseal the two-factor secret of user {user_id}: {exc}; set the key "
                    "that sealed it in TRAYTIC_SECRET_KEY or TRAYTIC_SECRET_KEY_PREVIOUS"
                ) from exc
            plain.append((user_id, value, secret))
    return sum(_rewrite(connection, user_id, old, new) for user_id, old, new in plain)
