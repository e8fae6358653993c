"""Versioned SQL migrations: `migrations/NNNN_name.sql`, applied in order, recorded in the database.

Every statement is `CREATE ... IF NOT EXISTS` (or otherwise idempotent), so two processes that
race both apply a migration harmlessly; `schema_migrations` is a ReplacingMergeTree read with
`DISTINCT`, so a migration recorded twice is still one applied migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    name String,
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
ORDER BY name
"""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    statements: tuple[str, ...]


def split_statements(script: str) -> tuple[str, ...]:
    """Statements of a migration file, separated by a `;` that ends a line."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    parts = "\n".join(lines).split(";\n")
    return tuple(part.strip().rstrip(";").strip() for part in parts if part.strip())


def load_migrations() -> list[Migration]:
    """The packaged migrations, in name order."""
    folder = resources.files("traytic.warehouse") / "migrations"
    found = [
        Migration(entry.name.removesuffix(".sql"), split_statements(entry.read_text("utf-8")))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(found, key=lambda migration: migration.name)
