"""sites: allow_localhost and filter_datacenter

The gateway now checks where a beacon comes from: pages on localhost only when a site opts in,
and no hosting networks unless the site turns the filter off. Existing sites get the defaults.

Revision ID: 0030
Revises: 0020
Create Date: 2026-12-02 11:19:27.977964
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allow_localhost", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("filter_datacenter", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("filter_datacenter")
        batch_op.drop_column("allow_localhost")
