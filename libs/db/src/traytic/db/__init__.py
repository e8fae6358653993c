"""Traytic relational data: sqlmodel models, Alembic migrations, the async engine, repositories."""
