"""What the gateway checks on every beacon, kept current by watching a KV bucket: the sites it
accepts with their rules (`sites`) and the sites over their quota (`quotas`).

The watch is rebuilt after every reconnect (an ordered consumer does not survive a NATS
restart), and the old entries stay in use until the new watch has delivered every key, so a
NATS blip never makes the gateway drop beacons of real sites (nor forget an over-quota flag).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

import nats.errors
import structlog
from nats.js.kv import KeyValue

from traytic.core.bus import QUOTA_DECODER
from traytic.core.sites import SITE_DECODER
from traytic.gateway.site_policy import SitePolicy

log = structlog.get_logger()

_DELETED = ("DEL", "PURGE")

T = TypeVar("T")


class WatchedBucket(Generic[T]):
    """The keys of a KV bucket with their values parsed by `parse` (None: treat as absent).

    Each watch fills a fresh dict and puts it in place once the bucket's current keys are all
    in; later changes update that dict in place. A lookup is one dict access on the hot path.
    """

    def __init__(self, name: str, parse: Callable[[bytes], T | None], fallback: T | None) -> None:
        self.name = name
        self._parse = parse
        self._fallback = fallback
        self._entries: dict[str, T] = {}
        self.ready = asyncio.Event()
        self._restart = asyncio.Event()

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> T | None:
        return self._entries.get(key)

    def _parsed(self, value: bytes | None) -> T | None:
        try:
            return self._parse(value or b"")
        except Exception as exc:
            # Never drop beacons over a value we cannot read (a newer writer, a bad flag).
            log.warning("watched_value_invalid", bucket=self.name, error=type(exc).__name__)
            return self._fallback

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
                log.warning(
                    "kv_watch_failed", bucket=self.name, error=type(exc).__name__, detail=str(exc)
                )
                await asyncio.sleep(1.0)

    async def _watch_once(self, kv: KeyValue) -> None:
        watcher = await kv.watchall()
        try:
            current: dict[str, T] = {}
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
                    else:
                        parsed = None if entry.operation in _DELETED else self._parsed(entry.value)
                        if parsed is None:
                            current.pop(entry.key, None)
                        else:
                            current[entry.key] = parsed
                    if not initial:
                        self._entries = current
                        if not self.ready.is_set():
                            log.info("kv_keys_loaded", bucket=self.name, keys=len(current))
                        self.ready.set()
            finally:
                restart.cancel()
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]


def _site_policy(value: bytes) -> SitePolicy:
    return SitePolicy.of(SITE_DECODER.decode(value))


class SiteRegistry(WatchedBucket[SitePolicy]):
    """The sites the gateway accepts (every key of `sites`), each with its `SitePolicy`; a
    record it cannot read accepts every page rather than losing the site's beacons."""

    def __init__(self) -> None:
        super().__init__("sites", _site_policy, SitePolicy.accept_all())


def _flagged(value: bytes) -> bool | None:
    return True if QUOTA_DECODER.decode(value).over_quota else None


class OverQuotaSites(WatchedBucket[bool]):
    """Site ids whose beacons are dropped: keys of `quotas` with `overQuota: true`.

    A flag's `until` is not checked per beacon (the hot path stays a set lookup): billing
    clears flags when the month or the plan changes.
    """

    def __init__(self) -> None:
        super().__init__("quotas", _flagged, None)
