"""Alembic environment: runs on a connection that `traytic.db.migrate` passes in, or, from the
command line, on an async engine for the configured URL.

Types render as plain SQLAlchemy types (`sa.DateTime(timezone=True)`, `sa.String(254)`), so a
revision never imports application code that may change after it was written.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import AutoString

from traytic.db.models import metadata
from traytic.db.models.base import UtcDateTime

config = context.config


def render_item(type_: str, obj: Any, _: AutogenContext) -> str | Literal[False]:
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String({obj.length})" if obj.length else "sa.String()"
    return False


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        render_item=render_item,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    from traytic.db.engine import create_engine
    from traytic.db.keyring import Keyring
    from traytic.db.settings import load_db_settings

    url = config.get_main_option("sqlalchemy.url")
    settings = load_db_settings(**({"database_url": url} if url else {}))
    config.attributes.setdefault("keyring", Keyring.from_settings(settings))
    engine = create_engine(settings, enforce_foreign_keys=False)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
        await connection.commit()
    await engine.dispose()


connection = config.attributes.get("connection")
if isinstance(connection, Connection):
    do_run_migrations(connection)
elif context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async_migrations())

__all__ = ["sa"]
