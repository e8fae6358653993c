"""Sets of keys the gateway checks on every beacon, kept current by watching a KV bucket:
the site ids it accepts (`sites`) and the sites over their quota (`quotas`).

The watch is rebuilt after every reconnect (an ordered consumer does not survive a NATS
restart), and the old set stays in use until the new watch has delivered every key, so a NATS
blip never makes the gateway drop beacons of real sites (nor forget an over-quota flag).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import nats.errors
import structlog
from nats.js.kv import KeyValue

from traytic.core.bus import QUOTA_DECODER

log = structlog.get_logger()

_DELETED = ("DEL", "PURGE")


class WatchedKeys:
    """The keys of a KV bucket whose values pass `include` (every key by default), as a
    frozenset swapped whole on each change: membership is one set lookup on the hot path."""

    def __init__(self, name: str, include: Callable[[bytes], bool] | None = None) -> None:
        self.name = name
        self._include = include
        self._keys: frozenset[str] = frozenset()
        self.ready = asyncio.Event()
        self._restart = asyncio.Event()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def _included(self, value: bytes | None) -> bool:
        if self._include is None:
            return True
        try:
            return self._include(value or b"")
        except Exception as exc:
            # A value we cannot read counts as absent: never drop beacons on a bad flag.
            log.warning("watched_value_invalid", bucket=self.name, error=type(exc).__name__)
            return False

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
                    elif entry.operation in _DELETED or not self._included(entry.value):
                        current.discard(entry.key)
                    else:
                        current.add(entry.key)
                    if not initial:
                        self._keys = frozenset(current)
                        if not self.ready.is_set():
                            log.info("kv_keys_loaded", bucket=self.name, keys=len(current))
                        self.ready.set()
            finally:
                restart.cancel()
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]


class SiteRegistry(WatchedKeys):
    """The site ids the gateway accepts (every key of `sites`)."""

    def __init__(self) -> None:
        super().__init__("sites")


def _flagged(value: bytes) -> bool:
    return QUOTA_DECODER.decode(value).over_quota


class OverQuotaSites(WatchedKeys):
    """Site ids whose beacons are dropped: keys of `quotas` with `overQuota: true`.

    A flag's `until` is not checked per beacon (the hot path stays a set lookup): billing
    clears flags when the month or the plan changes.
    """

    def __init__(self) -> None:
        super().__init__("quotas", _flagged)
