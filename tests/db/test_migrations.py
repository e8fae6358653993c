"""The migrations build the schema from empty on both dialects, agree with the models, and
running them again changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from traytic.db import DbSettings, create_engine, migrate
from traytic.db.migrate import current_revision, head_revision
from traytic.db.models import metadata


async def test_migrate_from_empty_then_again_is_a_no_op(new_database_url: str) -> None:
    settings = DbSettings(database_url=new_database_url)
    assert await current_revision(settings) is None

    await migrate(settings)
    assert await current_revision(settings) == head_revision()
    tables = await _tables(settings)
    assert {table.name for table in metadata.sorted_tables} <= tables

    await migrate(settings)
    assert await current_revision(settings) == head_revision()
    assert await _tables(settings) == tables


async def test_models_and_migrations_agree(new_database_url: str) -> None:
    """An autogenerate run finds nothing to do: nobody changed a model without a revision."""
    settings = DbSettings(database_url=new_database_url)
    await migrate(settings)
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == []


async def _tables(settings: DbSettings) -> set[str]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names)
