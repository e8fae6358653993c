"""Keeps the JetStream KV `sites` registry (which the gateway watches) equal to the live sites
in the database.

Writes happen after the database commit. A write that fails (NATS down, a timeout) is logged
and a background resync retries a full rebuild until it succeeds, so the database stays the
truth and the bucket catches up. One lock orders request writes and rebuilds in this process,
so a rebuild never puts back a site a request has just deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from nats.js.kv import KeyValue

from traytic.core import bus
from traytic.core.sites import SiteRecord, delete_site, put_site
from traytic.db import Database
from traytic.db.models import Site
from traytic.db.repositories import sites as site_repository

log = structlog.get_logger()

_MAX_RETRY_S = 30.0


def site_record(site: Site) -> SiteRecord:
    return SiteRecord(
        site_id=site.id,
        domain=site.domain,
        created_at=site.created_at.timestamp(),
        allowed_hostnames=list(site.allowed_hostnames),
        allow_localhost=site.allow_localhost,
        filter_datacenter=site.filter_datacenter,
    )


class SiteRegistrySync:
    def __init__(self, db: Database, *, timeout_s: float, retry_s: float) -> None:
        self.db = db
        self.kv: KeyValue | None = None
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self._lock = asyncio.Lock()
        self._resync: asyncio.Task[None] | None = None

    @property
    def resync_pending(self) -> bool:
        return self._resync is not None and not self._resync.done()

    async def site_saved(self, site: Site) -> None:
        """Mirror a committed create or update; never raises."""
        record = site_record(site)
        await self._write(site.id, "put", lambda kv: put_site(kv, record))

    async def site_deleted(self, site_id: str) -> None:
        """Mirror a committed (soft) delete; never raises."""
        await self._write(site_id, "delete", lambda kv: delete_site(kv, site_id))

    async def _write(
        self, site_id: str, action: str, write: Callable[[KeyValue], Awaitable[None]]
    ) -> None:
        try:
            async with self._lock:
                if self.kv is None:
                    raise ConnectionError("not connected to NATS")
                await asyncio.wait_for(write(self.kv), self.timeout_s)
        except Exception as exc:
            log.warning(
                "site_registry_write_failed",
                site_id=site_id,
                action=action,
                error=type(exc).__name__,
                detail=str(exc),
            )
            self.schedule_resync()

    async def rebuild(self) -> tuple[int, int]:
        """Put every live site and delete every other key; `(put, deleted)`."""
        async with self._lock:
            kv = self.kv
            if kv is None:
                raise ConnectionError("not connected to NATS")
            async with self.db.session() as session:
                live = await site_repository.list_all_live_sites(session)
            keys = await asyncio.wait_for(bus.kv_keys(kv), self.timeout_s)
            for site in live:
                await asyncio.wait_for(put_site(kv, site_record(site)), self.timeout_s)
            stray = keys - {site.id for site in live}
            for key in stray:
                await asyncio.wait_for(delete_site(kv, key), self.timeout_s)
        log.info("site_registry_rebuilt", sites=len(live), removed=len(stray))
        return len(live), len(stray)

    def schedule_resync(self) -> None:
        """Start the retrying rebuild unless one is already running."""
        if not self.resync_pending:
            self._resync = asyncio.create_task(self._resync_until_done(), name="site-registry-sync")

    async def _resync_until_done(self) -> None:
        delay = self.retry_s
        while True:
            await asyncio.sleep(delay)
            try:
                await self.rebuild()
            except Exception as exc:
                log.warning("site_registry_resync_failed", error=type(exc).__name__, retry_s=delay)
                delay = min(delay * 2, _MAX_RETRY_S)
            else:
                return

    async def close(self) -> None:
        if self._resync is not None:
            self._resync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resync
