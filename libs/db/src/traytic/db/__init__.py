"""Traytic relational data: sqlmodel models, Alembic migrations, the async engine, repositories.

db = Database.from_settings(load_db_settings())
await migrate(settings)
async with db.session() as session:  # commits on success, rolls back on error
    user = await users.create_user(session, email=..., password_hash=...)
"""

from traytic.db.engine import Database, create_engine, create_session_factory, session_scope
from traytic.db.errors import DuplicateError, NotFound
from traytic.db.migrate import migrate
from traytic.db.settings import DbSettings, load_db_settings

__all__ = [
    "Database",
    "DbSettings",
    "DuplicateError",
    "NotFound",
    "create_engine",
    "create_session_factory",
    "load_db_settings",
    "migrate",
    "session_scope",
]
