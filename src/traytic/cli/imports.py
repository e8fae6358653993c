"""`traytic import plausible|umami|ga4 FILE --site ID`: a site's history from another tool,
through the same path as the dashboard's upload (`traytic.warehouse.imports.run_import`), with
a progress bar on stderr. Umami also reads straight from its database:
`traytic import umami postgresql://user@host/umami --site st_... --website <Umami website id>`.
`traytic import list --site ID` shows the runs; `traytic import delete SOURCE --site ID` takes
that tool's data out of the reports."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from traytic.cli.sites import live_site, migrated_database
from traytic.core.errors import InvalidInput
from traytic.core.settings import load_settings
from traytic.db.errors import NotFound
from traytic.warehouse import WarehouseSettings, open_warehouse
from traytic.warehouse.imports import (
    SOURCES,
    ImportJob,
    ImportStore,
    read_file,
    run_import,
)
from traytic.warehouse.imports.running import Reader

BAR = 30


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "import", help="import a site's history from Plausible, Umami or Google Analytics 4"
    )
    parser.add_argument("source", choices=[*SOURCES, "list", "delete"], metavar="SOURCE",
                        help="plausible, umami or ga4 (or list, delete)")  # fmt: skip
    parser.add_argument(
        "file",
        nargs="?",
        help="the export (ZIP or CSV); for umami also a postgresql:// URL; for delete the source",
    )
    parser.add_argument("--site", required=True, help="the site id (st_...)")
    parser.add_argument("--website", help="umami from a database: the Umami website id")


def _bar(share: float) -> str:
    filled = round(share * BAR)
    return f"\r[{'#' * filled}{'.' * (BAR - filled)}] {share:4.0%}"


def describe(job: ImportJob) -> str:
    text = f"{job.source}: {job.status}, {job.first_day} to {job.last_day}, {job.rows} rows"
    if job.skipped_days:
        text += (
            f"; skipped {job.skipped_from} to {job.skipped_to} ({job.skipped_days} days):"
            " the site has its own data on those days"
        )
    return text


def _reader(args: argparse.Namespace, tz: str) -> Reader:
    if args.file is None:
        raise InvalidInput("name the export file to import", field="file")
    if args.source == "umami" and args.file.startswith(("postgres://", "postgresql://")):
        if not args.website:
            raise InvalidInput("--website (the Umami website id) is needed", field="--website")
        from traytic.cli.umami_db import read_database

        return lambda progress: read_database(args.file, args.website, tz, progress)
    path = Path(args.file)
    if not path.is_file():
        raise InvalidInput(f"no file {args.file!r}", field="file")
    return lambda progress: read_file(args.source, path, tz, progress)


async def _show_progress(store: ImportStore, site_id: str, run: int) -> None:
    """Redraw the bar from the job's recorded progress until the job ends."""
    while True:
        job = await store.job(site_id, run)
        if job is not None:
            print(_bar(job.progress), end="", file=sys.stderr, flush=True)
        await asyncio.sleep(0.5)


async def run_import_command(args: argparse.Namespace) -> int:
    db = await migrated_database()
    try:
        async with db.session() as session:
            site = await live_site(session, args.site)
    finally:
        await db.dispose()
    warehouse = open_warehouse(load_settings(WarehouseSettings))
    try:
        await warehouse.migrate()
        store = ImportStore(warehouse)
        if args.source == "list":
            for job in await store.jobs(site.id):
                print(f"{job.run}\t{job.created_at:%Y-%m-%d %H:%M}\t{describe(job)}")
            return 0
        if args.source == "delete":
            if not await store.delete(site.id, args.file or ""):
                raise NotFound(f"nothing imported from {args.file!r}", field="file")
            print(f"deleted the {args.file} import of {site.id}")
            return 0
        read = _reader(args, site.time_zone)
        name = args.file if "://" not in args.file else f"umami database {args.website}"
        job = await store.start(site.id, args.source, Path(name).name)
        bar = asyncio.create_task(_show_progress(store, site.id, job.run))
        try:
            job = await run_import(store, job, read, site.time_zone)
        finally:
            bar.cancel()
        print(_bar(1.0), file=sys.stderr)
        print(describe(job))
        return 0
    finally:
        await warehouse.close()
