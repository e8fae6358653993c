"""The set of site ids the gateway accepts, kept current by watching the `sites` KV bucket.

The watch is rebuilt after every reconnect (an ordered consumer does not survive a NATS
restart), and the old set stays in use until the new watch has delivered every key, so a NATS
blip never makes the gateway drop beacons of real sites.
"""

from __future__ import annotations

import asyncio
import contextlib

import nats.errors
import structlog
from nats.js.kv import KeyValue

log = structlog.get_logger()

_DELETED = ("DEL", "PURGE")


class SiteRegistry:
    def __init__(self) -> None:
        self._sites: frozenset[str] = frozenset()
        self.ready = asyncio.Event()
        self._restart = asyncio.Event()

    def __contains__(self, site_id: object) -> bool:
        return site_id in self._sites

    def __len__(self) -> int:
        return len(self._sites)

    def resync(self) -> None:
        """Ask the watch loop to start over (called on reconnect)."""
        self._restart.set()

    async def run(self, kv: KeyValue) -> None:
        """Watch forever; cancel the task to stop."""
        while True:
            self._restart.clear()
            try:
                await self._watch_once(kv)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("site_watch_failed", error=type(exc).__name__, detail=str(exc))
                await asyncio.sleep(1.0)

    async def _watch_once(self, kv: KeyValue) -> None:
        watcher = await kv.watchall()
        try:
            current: set[str] = set()
            initial = True
            restart = asyncio.ensure_future(self._restart.wait())
            try:
                while not restart.done():
                    next_entry = asyncio.ensure_future(watcher.updates(timeout=30))  # type: ignore[no-untyped-call]
                    await asyncio.wait({next_entry, restart}, return_when=asyncio.FIRST_COMPLETED)
                    if not next_entry.done():
                        next_entry.cancel()
                        break
                    try:
                        entry = next_entry.result()
                    except nats.errors.TimeoutError:  # no change for 30 s: keep watching
                        continue
                    if entry is None:
                        initial = False
                    elif entry.operation in _DELETED:
                        current.discard(entry.key)
                    else:
                        current.add(entry.key)
                    if not initial:
                        self._sites = frozenset(current)
                        if not self.ready.is_set():
                            log.info("sites_loaded", sites=len(current))
                        self.ready.set()
            finally:
                restart.cancel()
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]
