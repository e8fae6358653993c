"""`traytic import ...` run as a person would (in-process `main`), on SQLite and chDB: a
Plausible export, Umami's PostgreSQL database read directly (a real PostgreSQL loaded with the
fixture tables), the list of runs and deleting an import."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.db.conftest import (  # noqa: F401 - a fixture, reused by name
    fresh_postgres_database,
    postgres_available,
)
from tests.fixtures.clickhouse import fresh_database
from tests.warehouse.imports.files import UMAMI, plausible_zip
from traytic.cli.main import main
from traytic.cli.umami_db import read_database
from traytic.db import Database, DbSettings
from traytic.db.migrate import migrate
from traytic.db.repositories import organisations, sites, users
from traytic.warehouse.imports import Progress, read_file

WEBSITE = "5b6e0f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
_UMAMI_TABLES = """
CREATE TABLE session (
    session_id uuid PRIMARY KEY, website_id uuid NOT NULL, hostname varchar(100),
    browser varchar(20), os varchar(20), device varchar(20), screen varchar(11),
    language varchar(35), country char(2), subdivision1 varchar(20), subdivision2 varchar(50),
    city varchar(50), created_at timestamptz DEFAULT now(), distinct_id varchar(50)
);
CREATE TABLE website_event (
    event_id uuid PRIMARY KEY, website_id uuid NOT NULL, session_id uuid NOT NULL,
    visit_id uuid NOT NULL, created_at timestamptz DEFAULT now(), url_path varchar(500) NOT NULL,
    url_query varchar(500), utm_source varchar(255), utm_medium varchar(255),
    utm_campaign varchar(255), utm_content varchar(255), utm_term varchar(255),
    referrer_path varchar(500), referrer_query varchar(500), referrer_domain varchar(500),
    page_title varchar(500), gclid varchar(255), fbclid varchar(255), msclkid varchar(255),
    ttclid varchar(255), li_fat_id varchar(255), twclid varchar(255),
    event_type integer NOT NULL DEFAULT 1, event_name varchar(50), tag varchar(50),
    hostname varchar(100)
);
"""
"""Umami v2's PostgreSQL schema for these tables (prisma/schema.prisma), as far as imports read."""


@pytest.fixture
def umami_url(postgres_available: None) -> Iterator[str]:  # noqa: F811
    """A PostgreSQL database holding the fixture's Umami tables, as Umami would."""
    with fresh_postgres_database() as url:
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(_UMAMI_TABLES)
            for table in ("session", "website_event"):
                text = (UMAMI / f"{table}.csv").read_text()
                with conn.cursor().copy(
                    f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)"
                ) as copy:
                    copy.write(text)
        yield plain


@pytest.fixture
def site_id(tmp_path: Path, chdb_path: str, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'traytic.db'}"
    monkeypatch.setenv("TRAYTIC_DATABASE_URL", url)
    monkeypatch.setenv("TRAYTIC_CHDB_PATH", chdb_path)
    monkeypatch.setenv("TRAYTIC_CLICKHOUSE_DATABASE", fresh_database())
    monkeypatch.delenv("TRAYTIC_CLICKHOUSE_URL", raising=False)

    async def create() -> str:
        settings = DbSettings(database_url=url)
        await migrate(settings)
        db = Database.from_settings(settings)
        try:
            async with db.session() as session:
                user = await users.create_user(session, email="o@example.com", password_hash="x")
                org = await organisations.create_organisation(
                    session, name="o", slug=f"o-{uuid.uuid4().hex[:6]}", owner_id=user.id
                )
                site = await sites.create_site(session, org.id, domain="cli.example.org")
                return site.id
        finally:
            await db.dispose()

    return asyncio.run(create())


def test_umami_database_reads_what_its_export_says(umami_url: str) -> None:
    from_db = read_database(umami_url, WEBSITE, "UTC", Progress())
    assert from_db.rows == read_file("umami", UMAMI / "umami_export.csv", "UTC").rows
    assert not read_database(umami_url, str(uuid.uuid4()), "UTC", Progress()).rows


def test_import_commands(
    site_id: str, umami_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = plausible_zip(tmp_path)
    assert main(["import", "plausible", str(export), "--site", site_id]) == 0
    out = capsys.readouterr()
    assert "plausible: done, 2024-01-01 to 2024-01-03" in out.out and "100%" in out.err
    assert main(["import", "umami", umami_url, "--site", site_id, "--website", WEBSITE]) == 0
    assert "umami: done, 2024-02-01 to 2024-02-02" in capsys.readouterr().out
    assert main(["import", "list", "--site", site_id]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[2].split(":")[0] for line in listed] == ["umami", "plausible"]
    assert main(["import", "delete", "plausible", "--site", site_id]) == 0
    assert main(["import", "delete", "plausible", "--site", site_id]) == 2
    assert main(["import", "umami", umami_url, "--site", site_id]) == 2
    assert "--website" in capsys.readouterr().err
    assert main(["import", "ga4", str(tmp_path / "none.csv"), "--site", site_id]) == 2
    assert main(["import", "ga4", str(export), "--site", "st_nope"]) == 2
