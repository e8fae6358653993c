"""`/api/orgs/{orgId}/sites/{siteId}/imports`: bring a site's history from Plausible, Umami or
Google Analytics 4. `POST ?source=plausible|umami|ga4&filename=...` with the export file as the
body answers 202 with the job; the import runs in the background and `GET .../imports/{run}`
says how far it got (the dashboard polls it for its progress bar). `GET .../imports` lists
every run, `DELETE .../imports/{source}` takes that tool's import out of the reports.

Admins and owners only: a viewer gets 403, an API key 403 (keys only read), another
organisation's site the same 404 as none. A file larger than `import_max_bytes` is a 413; one
that is not the tool's export fails its job with the reason (the file and column at fault).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import InvalidInput, PayloadTooLarge
from traytic.db.access import OrgAccess, Permission
from traytic.db.errors import NotFound
from traytic.db.models import Site
from traytic.db.repositories import sites as site_repository
from traytic.query.access import provide_org_access
from traytic.query.context import QueryContext
from traytic.query.endpoints.v2_query import warehouse_of
from traytic.warehouse.imports import ImportJob, ImportStore, check_source, read_file, run_import

MAX_FILENAME = 200


class ImportOut(msgspec.Struct, rename="camel"):
    """An import run as the dashboard shows it."""

    run: str
    """The run's id (a string: it is larger than JavaScript's safe integers)."""
    source: str
    file_name: str
    status: str
    """reading, writing, done, failed or deleted."""
    progress: float
    """0..1."""
    message: str
    created_at: datetime
    updated_at: datetime
    first_day: date | None
    last_day: date | None
    skipped_from: date | None
    """The first day left out because the site has its own data then (with `skipped_to`)."""
    skipped_to: date | None
    skipped_days: int
    rows: int

    @classmethod
    def of(cls, job: ImportJob) -> ImportOut:
        return cls(
            run=str(job.run), source=job.source, file_name=job.file_name,
            status=job.shown_status(datetime.now(UTC)), progress=job.progress,
            message=job.message, created_at=job.created_at, updated_at=job.updated_at,
            first_day=job.first_day, last_day=job.last_day, skipped_from=job.skipped_from,
            skipped_to=job.skipped_to, skipped_days=job.skipped_days, rows=job.rows,
        )  # fmt: skip


async def _site(session: AsyncSession, access: OrgAccess, site_id: str) -> Site:
    access.require(Permission.MANAGE_IMPORTS)
    site = await site_repository.get_site(session, access.organisation.id, site_id)
    if site is None:
        raise NotFound("no such site", field="siteId")
    return site


def _discard(path: Path) -> None:
    """Remove an upload (a quick local unlink, fine on the event loop)."""
    path.unlink(missing_ok=True)


async def _spool(request: Request[Any, Any, Any], ctx: QueryContext, suffix: str) -> Path:
    """The request body in a temporary file (never all in memory), within the size limit."""
    limit = ctx.settings.import_max_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"an import file is at most {limit} bytes")
    handle, name = tempfile.mkstemp(prefix="traytic-import-", suffix=suffix,
                                    dir=ctx.settings.import_dir or None)  # fmt: skip
    path, size = Path(name), 0
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"an import file is at most {limit} bytes")
                out.write(chunk)
    except BaseException:
        _discard(path)
        raise
    if size == 0:
        _discard(path)
        raise InvalidInput("the body is empty: send the export file as the body", field="file")
    return path


async def _import_and_clean_up(store: ImportStore, job: ImportJob, path: Path, tz: str) -> None:
    try:
        await run_import(store, job, lambda p: read_file(job.source, path, tz, p), tz)
    finally:
        _discard(path)


def _suffix(filename: str) -> str:
    lowered = filename.lower()
    return ".zip" if lowered.endswith(".zip") else ".csv"


class ImportController(Controller):
    path = "/api/orgs/{org_id:uuid}/sites/{site_id:str}/imports"
    tags = ["imports"]
    dependencies = {"access": Provide(provide_org_access)}

    @post("/", status_code=202, request_max_body_size=None)
    async def start_import(
        self,
        *,
        site_id: FromPath[str],
        request: Request[Any, Any, Any],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
        state: State,
        source: Annotated[str, Parameter(description="plausible, umami or ga4.")],
        filename: Annotated[
            str, Parameter(description="The file's name (a ZIP or a CSV), shown in the list.")
        ] = "upload.zip",
    ) -> ImportOut:
        """Upload an export file (the body) and start importing it: 202 with the job."""
        site = await _site(db_session, access, site_id)
        check_source(source)
        if not filename or len(filename) > MAX_FILENAME or "\x00" in filename:
            raise InvalidInput(f"filename is 1 to {MAX_FILENAME} characters", field="filename")
        store = ImportStore(warehouse_of(state))
        path = await _spool(request, ctx, _suffix(filename))
        try:
            job = await store.start(site.id, source, filename)
        except BaseException:
            _discard(path)
            raise
        ctx.imports.start(
            _import_and_clean_up(store, job, path, site.time_zone), name=f"import-{job.run}"
        )
        return ImportOut.of(job)

    @get("/")
    async def list_imports(
        self,
        site_id: FromPath[str],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> list[ImportOut]:
        """Every import run of the site, newest first."""
        site = await _site(db_session, access, site_id)
        return [ImportOut.of(job) for job in await ImportStore(warehouse_of(state)).jobs(site.id)]

    @get("/{run:str}")
    async def get_import(
        self,
        site_id: FromPath[str],
        run: FromPath[str],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> ImportOut:
        """One run: its status and progress (poll it while it reads and writes)."""
        site = await _site(db_session, access, site_id)
        job = None
        with contextlib.suppress(ValueError):
            job = await ImportStore(warehouse_of(state)).job(site.id, int(run))
        if job is None:
            raise NotFound("no such import", field="run")
        return ImportOut.of(job)

    @delete("/{source:str}", status_code=204)
    async def delete_import(
        self,
        site_id: FromPath[str],
        source: FromPath[str],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> None:
        """Take the site's data imported from `source` out of every report."""
        site = await _site(db_session, access, site_id)
        check_source(source)
        if not await ImportStore(warehouse_of(state)).delete(site.id, source):
            raise NotFound("nothing imported from that source", field="source")
