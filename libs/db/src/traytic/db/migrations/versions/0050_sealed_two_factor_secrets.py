"""two_factor.secret sealed with the server's key (issue 13): room for the sealed form, and the
secrets stored in plain base32 until now sealed when `TRAYTIC_SECRET_KEY` is set

Without the key the column only grows and the secrets stay plain; the query service seals them
when it starts with a key (`traytic.db.resealing`, which this revision calls: it works on a
table of its own, not on the models). Downgrading unseals them again and needs the key that
sealed them.

Revision ID: 0050_sealed_two_factor_secrets
Revises: 0040_two_factor
Create Date: 2026-12-09 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from traytic.db.keyring import Keyring
from traytic.db.resealing import reseal_two_factor_secrets, unseal_two_factor_secrets

revision: str = "0050_sealed_two_factor_secrets"
down_revision: str | None = "0040_two_factor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _keyring() -> Keyring:
    """`traytic.db.migrate` passes the configured keys; the Alembic command line passes none."""
    config = op.get_context().config
    keyring = config.attributes.get("keyring") if config is not None else None
    return keyring if isinstance(keyring, Keyring) else Keyring()


def upgrade() -> None:
    with op.batch_alter_table("two_factor", schema=None) as batch_op:
        batch_op.alter_column(
            "secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=255),
            existing_nullable=False,
        )
    keyring = _keyring()
    if keyring.can_seal:
        reseal_two_factor_secrets(op.get_bind(), keyring)


def downgrade() -> None:
    unseal_two_factor_secrets(op.get_bind(), _keyring())
    with op.batch_alter_table("two_factor", schema=None) as batch_op:
        batch_op.alter_column(
            "secret",
            existing_type=sa.String(length=255),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
