"""Failures counted per key with an exponential backoff, shared by the query replicas through
the JetStream KV bucket `limits` (this replica's memory until NATS is up, or when it is away).

A key may fail `free` times; then each further failure makes it wait `base_s`, doubling up to
`cap_s`. Failures older than `forget_s` are forgotten. A wait is never a lock: it ends by
itself, and the caps decide how long anyone can be made to wait.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import msgspec
import structlog
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

log = structlog.get_logger()

_MAX_LOCAL_KEYS = 100_000


class Failures(msgspec.Struct, frozen=True):
    count: int
    last: float
    """Unix time of the latest failure."""


@dataclass(frozen=True, slots=True)
class BackoffRule:
    free: int
    base_s: float
    cap_s: float
    forget_s: float

    def wait(self, failures: Failures | None, now: float) -> float:
        """Seconds the key must still wait (0: it may try now)."""
        if failures is None or now - failures.last > self.forget_s:
            return 0.0
        if failures.count < self.free:
            return 0.0
        doublings = min(failures.count - self.free, 60)  # past the cap anyway; no overflow
        delay = min(self.cap_s, self.base_s * 2.0**doublings)
        return max(0.0, failures.last + delay - now)


def key_for(kind: str, value: str) -> str:
    """A KV key (`[A-Za-z0-9_=.-]`) that does not store the email or address itself."""
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:40]
    return f"{kind}.{digest}"


class FailureStore(Protocol):
    async def get(self, key: str) -> Failures | None: ...
    async def add(self, key: str, now: float, forget_s: float) -> None: ...
    async def clear(self, key: str) -> None: ...


class LocalFailures:
    """One replica's memory: the store before NATS answers, and when it is away."""

    def __init__(self) -> None:
        self._rows: OrderedDict[str, Failures] = OrderedDict()

    async def get(self, key: str) -> Failures | None:
        return self._rows.get(key)

    async def add(self, key: str, now: float, forget_s: float) -> None:
        old = self._rows.pop(key, None)
        count = old.count + 1 if old is not None and now - old.last <= forget_s else 1
        self._rows[key] = Failures(count, now)
        while len(self._rows) > _MAX_LOCAL_KEYS:
            self._rows.popitem(last=False)

    async def clear(self, key: str) -> None:
        self._rows.pop(key, None)


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Failures)


class SharedFailures:
    """The `limits` KV bucket, updated with compare-and-set so concurrent replicas add up.
    Any NATS failure falls back to this replica's memory for that call (logged)."""

    def __init__(self, kv: KeyValue, fallback: LocalFailures) -> None:
        self.kv = kv
        self.fallback = fallback

    async def _read(self, key: str) -> tuple[Failures | None, int]:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return None, 0
        if not entry.value:
            return None, entry.revision or 0
        return _DECODER.decode(entry.value), entry.revision or 0

    async def get(self, key: str) -> Failures | None:
        try:
            return (await self._read(key))[0]
        except Exception as exc:
            log.warning("limits_bucket_unavailable", error=type(exc).__name__)
            return await self.fallback.get(key)

    async def add(self, key: str, now: float, forget_s: float) -> None:
        try:
            for _ in range(5):  # another replica wrote in between: read again
                old, revision = await self._read(key)
                count = old.count + 1 if old is not None and now - old.last <= forget_s else 1
                value = _ENCODER.encode(Failures(count, now))
                try:
                    if revision:
                        await self.kv.update(key, value, last=revision)
                    else:
                        await self.kv.create(key, value)
                    return
                except KeyWrongLastSequenceError:
                    continue
            log.warning("limits_contended", key_kind=key.split(".", maxsplit=1)[0])
        except Exception as exc:
            log.warning("limits_bucket_unavailable", error=type(exc).__name__)
        await self.fallback.add(key, now, forget_s)

    async def clear(self, key: str) -> None:
        await self.fallback.clear(key)
        try:
            await self.kv.purge(key)
        except Exception as exc:
            log.warning("limits_bucket_unavailable", error=type(exc).__name__)


class Backoffs:
    """The store in use: local until `share()` hands it the bucket."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.local = LocalFailures()
        self.store: FailureStore = self.local

    def share(self, kv: KeyValue) -> None:
        self.store = SharedFailures(kv, self.local)

    async def wait(self, key: str, rule: BackoffRule) -> float:
        return rule.wait(await self.store.get(key), self.clock())

    async def fail(self, key: str, rule: BackoffRule) -> None:
        await self.store.add(key, self.clock(), rule.forget_s)

    async def clear(self, key: str) -> None:
        await self.store.clear(key)
