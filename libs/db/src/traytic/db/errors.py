"""Errors the relational layer raises; each carries its HTTP status and the field at fault."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from traytic.core.errors import TrayticError


class DuplicateError(TrayticError):
    """A unique value (email, slug, membership, ...) is already taken."""

    status = 409
    code = "duplicate"

    def __init__(self, field: str, message: str | None = None) -> None:
        super().__init__(message or f"{field} is already taken", field=field)


class NotFound(TrayticError):
    """The row does not exist, or it is not visible to the caller's organisation."""

    status = 404
    code = "not_found"


class InUse(TrayticError):
    """The row is still referenced (a goal a funnel uses): change the referrer first."""

    status = 409
    code = "in_use"


def is_unique_violation(exc: IntegrityError) -> bool:
    """True for a unique or primary-key violation, on PostgreSQL (SQLSTATE 23505) and SQLite."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == "23505")
    return "UNIQUE constraint failed" in str(exc.orig)
