"""Versioned SQL migrations: `migrations/NNNN_name.sql`, applied in order, recorded in the database.

Every statement is `CREATE ... IF NOT EXISTS` (or otherwise idempotent), so two processes that
race both apply a migration harmlessly; `schema_migrations` is a ReplacingMergeTree read with
`DISTINCT`, so a migration recorded twice is still one applied migration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from traytic.warehouse import sessions
from traytic.warehouse.sql import Statement

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


_MATERIALIZED_VIEW = re.compile(
    r"^CREATE\s+MATERIALIZED\s+VIEW\s+IF\s+NOT\s+EXISTS\s+\w+\s+TO\s+(?P<target>\w+)\s+AS\s+"
    r"(?P<select>SELECT\b.*)$",
    re.DOTALL | re.IGNORECASE,
)
_CREATES_SESSIONS = re.compile(r"^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+sessions\b", re.IGNORECASE)


_ADD_COLUMNS = re.compile(
    r"^ALTER\s+TABLE\s+(?P<table>\w+)\s+(?P<clauses>ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\s.*)$",
    re.DOTALL | re.IGNORECASE,
)
_ADD_COLUMN = re.compile(
    r"^ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\s+(?P<name>\w+)\s+(?P<type>.+)$", re.DOTALL
)


@dataclass(frozen=True, slots=True)
class AddColumns:
    """`ALTER TABLE t ADD COLUMN IF NOT EXISTS c T, ...` taken apart: 18.16 has no `IF NOT
    EXISTS` there, so the migration runner adds only the columns the table lacks (which keeps
    the statement idempotent, as every migration statement must be)."""

    table: str
    columns: tuple[tuple[str, str], ...]

    def statement(self, table: str, existing: frozenset[str], on_cluster: str = "") -> str | None:
        """The ALTER adding what `existing` lacks to `table`, or None when nothing is missing."""
        missing = [
            f"ADD COLUMN {name} {kind}" for name, kind in self.columns if name not in existing
        ]
        if not missing:
            return None
        return f"ALTER TABLE {table}{on_cluster} " + ", ".join(missing)


def add_columns(statement: str) -> AddColumns | None:
    match = _ADD_COLUMNS.match(statement.strip())
    if match is None:
        return None
    columns = []
    for clause in re.split(r",\s*(?=ADD\s)", match["clauses"], flags=re.IGNORECASE):
        column = _ADD_COLUMN.match(clause.strip())
        if column is None:
            raise ValueError(f"cannot read the ADD COLUMN clause {clause[:100]!r}")
        columns.append((column["name"], column["type"].strip()))
    return AddColumns(match["table"], tuple(columns))


def views_of(table: str, *, before: str, applied: frozenset[str] = frozenset()) -> list[str]:
    """The CREATE statements of the materialized views reading `table` or writing to it that
    migrations older than `before`, or already `applied`, made (a rebuild of `table` makes them
    again: a view follows a renamed table on chDB, so it would go on with the old one)."""
    found = []
    for migration in load_migrations():
        if migration.name >= before and migration.name not in applied:
            continue
        for statement in migration.statements:
            view = _MATERIALIZED_VIEW.match(statement)
            source = view and re.search(r"\bFROM\s+(\w+)", view["select"])
            if view and (view["target"] == table or (source and source[1] == table)):
                found.append(statement)
    return found


BACKFILL_PARTS = 8
"""Each backfill runs in this many statements over a slice of `events` each, so a large install
groups an eighth of its rows at a time (the server's per-query memory cap)."""
_FROM_EVENTS = re.compile(r"\bFROM\s+events\b")


def backfills(migration: Migration) -> list[Statement]:
    """What fills a migration's new derived tables from the events already stored: a view
    only sees inserts made after it exists, so its own SELECT runs once over `events`, in
    slices by event (rollup states of one key from several slices merge like any others)."""
    found = []
    for statement in migration.statements:
        view = _MATERIALIZED_VIEW.match(statement)
        if view is not None:
            for part in range(BACKFILL_PARTS):
                sliced = _FROM_EVENTS.sub(
                    f"FROM (SELECT * FROM events WHERE event_id % {BACKFILL_PARTS} = {part})",  # noqa: S608 - integers
                    view["select"],
                    count=1,
                )
                found.append(Statement(f"INSERT INTO {view['target']} {sliced}", {}))
        elif _CREATES_SESSIONS.match(statement):
            found.extend(sessions.backfill(BACKFILL_PARTS))
    return found
