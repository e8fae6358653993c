"""One import from start to end: read the file in a thread (parsing is CPU work and must not
hold the event loop), record its progress while it reads, store what it gave, and record a
failure with the reason a person can act on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import structlog

from traytic.core.errors import TrayticError
from traytic.warehouse.imports import ga4, plausible, umami
from traytic.warehouse.imports.figures import DailyFigures
from traytic.warehouse.imports.reading import Progress
from traytic.warehouse.imports.store import ImportJob, ImportStore, check_source

log = structlog.get_logger()

PROGRESS_EVERY_S = 0.5
Reader = Callable[[Progress], DailyFigures]


def read_file(source: str, path: Path, tz: str, progress: Progress | None = None) -> DailyFigures:
    """The daily figures of an export file of `source` (sync: call it in a thread)."""
    progress = progress if progress is not None else Progress()
    match check_source(source):
        case "plausible":
            return plausible.read_export(path, progress)
        case "umami":
            return umami.read_export(path, tz, progress)
        case "ga4":
            return ga4.read_export(path, progress)


async def run_import(store: ImportStore, job: ImportJob, read: Reader, tz: str) -> ImportJob:
    """Read (in a thread) and store one run; its job row says how far it got. A failure is
    recorded on the job and raised again."""
    progress = Progress()
    reading = asyncio.create_task(asyncio.to_thread(read, progress))
    try:
        while not reading.done():
            await asyncio.wait({reading}, timeout=PROGRESS_EVERY_S)
            if not reading.done():
                job = await store.progress(job, progress)
        figures = reading.result()
        job = replace(job, done_units=progress.total, total_units=progress.total)
        return await store.write(job, figures, tz)
    except TrayticError as exc:
        if exc.status >= 500:
            log.exception("import_failed", site_id=job.site_id, source=job.source)
        await store.fail(job, exc.message if exc.status < 500 else "the warehouse failed")
        raise
    except BaseException as exc:
        reading.cancel()
        log.exception("import_failed", site_id=job.site_id, source=job.source)
        with contextlib.suppress(Exception):
            await store.fail(job, f"the import stopped: {type(exc).__name__}")
        raise
