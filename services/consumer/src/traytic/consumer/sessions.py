"""Sessions: a visitor's events belong to one session until 30 minutes pass without one.

The state lives in the JetStream KV bucket `sessions` (key: site and visitor hash), so it holds
across replicas and restarts. Each replica also keeps a local cache and reads KV only when the
cache cannot decide: a visitor it has not seen, or a gap that *might* end the session. A cached
`last_seen` can only be older than the truth, so a gap shorter than the timeout by the cache is
shorter in fact, and the session surely continues. Writes are coalesced: an active session's
`last_seen` is written when it moved `write_interval_s` or more.

The state also names the replica that started the session (`owner`). Each assignment says
whether it goes to a session of this replica's own (`owned`) and whether this batch started it
(`new`): the consumer writes the visits it owns from memory (see `visits.py`) and marks the
others as shared before inserting into them (see `shared.py`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import msgspec
import structlog
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from traytic.consumer.enrich.visitor import session_id as derive_session_id
from traytic.consumer.kv_writes import KvWriter

log = structlog.get_logger()

KV_CONCURRENCY = 256


class SessionState(msgspec.Struct, array_like=True, frozen=True):
    session_id: int
    started_at: int
    last_seen: int
    owner: int = 0
    """The replica that started the session (0: one from before replicas were named). Added
    last with a default: older replicas read the new entries and the other way round."""


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(SessionState)


class Visit(NamedTuple):
    """One beacon's identity: the visitor hash of its day and, just after midnight, the one of
    the day before (whose session may still be open)."""

    site_id: str
    visitor_id: int
    ts: int
    previous_visitor_id: int | None = None


class Assigned(NamedTuple):
    visitor_id: int
    session_id: int
    started_at: int
    """When the session started (unix seconds): fixed once, so it keys the visit's row."""
    owned: bool = False
    """The session is this replica's: it started it (its state in KV says so)."""
    new: bool = False
    """...and started it in this batch: nothing of it can have been stored before."""


class _Cached(NamedTuple):
    state: SessionState
    revision: int | None
    written_last_seen: int


Key = tuple[str, int]
"""(site id, visitor id): formatted into a KV key only when KV is touched."""


def _key(site_id: str, visitor_id: int) -> Key:
    return (site_id, visitor_id)


def _kv_key(key: Key) -> str:
    return f"{key[0]}.{key[1]:016x}"


class _Write(NamedTuple):
    """A visitor's new session state, planned from what was known, before it is stored."""

    key: Key
    current: _Cached | None
    visitor_id: int
    ordered: list[int]
    state: SessionState
    assigned: list[tuple[int, Assigned]]


class SessionTracker:
    def __init__(
        self,
        kv: KeyValue,
        *,
        timeout_s: int = 1800,
        write_interval_s: int = 60,
        cache_size: int = 200_000,
        replica: int = 0,
        writer: KvWriter | None = None,
    ) -> None:
        self._kv = kv
        self._writer = writer
        """Writes a batch's first attempts at once (the bucket's); without it, one by one."""
        self.replica = replica or secrets.randbits(63) + 1
        """This replica's name in the states it writes: random per process, never 0."""
        self._timeout = timeout_s
        self._write_interval = write_interval_s
        self._cache: OrderedDict[Key, _Cached] = OrderedDict()
        self._cache_size = cache_size
        self._limit = asyncio.Semaphore(KV_CONCURRENCY)
        self.kv_reads = 0
        self.kv_writes = 0

    async def assign(self, visits: Sequence[Visit]) -> list[Assigned]:
        """The visitor and session id of each visit, in order."""
        results: list[Assigned | None] = [None] * len(visits)
        groups: dict[Key, list[int]] = {}
        cache = self._cache
        timeout = self._timeout
        # The common case first, with no task and no KV: a visitor whose cached session is
        # surely still open and whose `last_seen` in KV is fresh enough. Anything else, and
        # every later visit of that visitor in this batch, takes the careful path below.
        for index, visit in enumerate(visits):
            key = (visit.site_id, visit.visitor_id)
            if key not in groups:
                cached = cache.get(key)
                if cached is not None and visit.previous_visitor_id is None:
                    state = cached.state
                    ts = visit.ts
                    if state.started_at - timeout <= ts and ts - state.last_seen <= timeout:
                        owned = state.owner == self.replica
                        if ts <= state.last_seen:
                            results[index] = Assigned(
                                visit.visitor_id, state.session_id, state.started_at, owned
                            )
                            continue
                        if ts - cached.written_last_seen < self._write_interval:
                            cache[key] = _Cached(
                                SessionState(state.session_id, state.started_at, ts, state.owner),
                                cached.revision,
                                cached.written_last_seen,
                            )
                            results[index] = Assigned(
                                visit.visitor_id, state.session_id, state.started_at, owned
                            )
                            continue
            groups.setdefault(key, []).append(index)
        if groups:
            await self._assign_careful(visits, groups, results)
        return [r for r in results if r is not None]

    async def _assign_careful(
        self,
        visits: Sequence[Visit],
        groups: dict[Key, list[int]],
        results: list[Assigned | None],
    ) -> None:

        # A visitor this replica has not seen is usually new to every replica: try to create
        # their session straight away (one round trip); `_settle` reads and retries if the key
        # exists after all. Only a gap that may end a cached session forces a read first.
        states: dict[Key, _Cached | None] = {}
        to_read: list[Key] = []
        unknown: list[Key] = []
        for key, indices in groups.items():
            cached = self._cache.get(key)
            if cached is None:
                unknown.append(key)
                states[key] = None
            elif min(visits[i].ts for i in indices) - cached.state.last_seen <= self._timeout:
                states[key] = cached
            else:
                to_read.append(key)
        states.update(await self._read_many(to_read))
        to_read.extend(unknown)

        # Just after midnight a visitor's hash changed with the salt; their session of the
        # day before may still be open under yesterday's hash.
        carried: dict[Key, Key] = {}
        previous_keys: list[Key] = []
        for key in to_read:
            if states[key] is not None:
                continue
            visit = visits[groups[key][0]]
            if visit.previous_visitor_id is not None:
                previous = _key(visit.site_id, visit.previous_visitor_id)
                carried[key] = previous
                if previous not in states:
                    previous_keys.append(previous)
        states.update(await self._read_many(previous_keys))

        writes: list[_Write] = []
        for key, indices in groups.items():
            state_key = key
            current = states.get(key)
            carried_key = carried.get(key)
            if carried_key is not None:
                earlier = states.get(carried_key)
                first_ts = min(visits[i].ts for i in indices)
                if earlier is not None and first_ts - earlier.state.last_seen <= self._timeout:
                    state_key, current = carried_key, earlier
            first = visits[indices[0]]
            visitor_id = first.visitor_id
            if state_key != key and first.previous_visitor_id is not None:
                visitor_id = first.previous_visitor_id
            ordered = sorted(indices, key=lambda i: visits[i].ts) if len(indices) > 1 else indices
            state, assigned = self._walk(
                visitor_id, ordered, visits, current.state if current else None
            )
            if self._needs_write(current, state):
                # KV only for the visitors that need it: most of a busy batch needs none.
                writes.append(_Write(state_key, current, visitor_id, ordered, state, assigned))
                continue
            assert current is not None
            self._remember(state_key, _Cached(state, current.revision, current.written_last_seen))
            for index, value in assigned:
                results[index] = value
        for settled in await self._write(writes, visits):
            for index, value in settled:
                results[index] = value

    async def _write(
        self, writes: list[_Write], visits: Sequence[Visit]
    ) -> list[list[tuple[int, Assigned]]]:
        """Store each planned state; a write another replica beat goes the careful way
        (`_settle`: read what it wrote, assign again from that)."""
        if self._writer is None or not writes:
            return await asyncio.gather(
                *(self._settle(w.key, w.current, w.visitor_id, w.ordered, visits) for w in writes)
            )
        self.kv_writes += len(writes)
        revisions = await self._writer.compare_and_set(
            [
                (
                    _kv_key(w.key),
                    _ENCODER.encode(w.state),
                    (w.current.revision or 0) if w.current is not None else 0,
                )
                for w in writes
            ]
        )
        settled: list[list[tuple[int, Assigned]]] = []
        contended = []
        for write, revision in zip(writes, revisions, strict=True):
            if revision is None:
                contended.append(self._settle_after_read(write, visits))
            else:
                self._remember(write.key, _Cached(write.state, revision, write.state.last_seen))
                settled.append(write.assigned)
        settled.extend(await asyncio.gather(*contended))
        return settled

    async def _settle_after_read(
        self, write: _Write, visits: Sequence[Visit]
    ) -> list[tuple[int, Assigned]]:
        current = await self._read(write.key)
        return await self._settle(write.key, current, write.visitor_id, write.ordered, visits)

    def _needs_write(self, current: _Cached | None, state: SessionState) -> bool:
        return (
            current is None
            or state.session_id != current.state.session_id
            or state.last_seen - current.written_last_seen >= self._write_interval
        )

    def _walk(
        self,
        visitor_id: int,
        ordered: list[int],
        visits: Sequence[Visit],
        state: SessionState | None,
    ) -> tuple[SessionState, list[tuple[int, Assigned]]]:
        assigned = []
        timeout = self._timeout
        if state is None:
            sid = start = last = -1
            owner = 0
        else:
            sid, start, last = state.session_id, state.started_at, state.last_seen
            owner = state.owner
        new = False
        for index in ordered:
            ts = visits[index].ts
            if sid != -1 and ts < start - timeout:
                # A straggler from long before the current session: a session of its own,
                # nobody's (no state keeps it), so never written from memory.
                straggler = Assigned(visitor_id, derive_session_id(visitor_id, ts), ts)
                assigned.append((index, straggler))
                continue
            if sid == -1 or ts - last > timeout:
                sid = derive_session_id(visitor_id, ts)
                start = last = ts
                owner, new = self.replica, True
            elif ts > last:
                last = ts
            owned = owner == self.replica
            assigned.append((index, Assigned(visitor_id, sid, start, owned, new and owned)))
        if state is None or sid != state.session_id or last != state.last_seen:
            state = SessionState(sid, start, last, owner)
        return state, assigned

    async def _settle(
        self,
        key: Key,
        current: _Cached | None,
        visitor_id: int,
        ordered: list[int],
        visits: Sequence[Visit],
    ) -> list[tuple[int, Assigned]]:
        """Assign sessions from the state we know, then store the result with compare-and-set.

        If another replica wrote this visitor in between, the write fails: we read what it
        wrote and assign again from that, so concurrent replicas end in the same session.
        """
        for _ in range(8):
            state, assigned = self._walk(
                visitor_id, ordered, visits, current.state if current else None
            )
            if not self._needs_write(current, state):
                assert current is not None
                self._remember(key, _Cached(state, current.revision, current.written_last_seen))
                return assigned
            revision = await self._try_write(key, current, state)
            if revision is not None:
                self._remember(key, _Cached(state, revision, state.last_seen))
                return assigned
            current = await self._read(key)
        log.warning("session_write_contended", site_id=key[0])
        return assigned

    async def _read_many(self, keys: Sequence[Key]) -> dict[Key, _Cached | None]:
        found = await asyncio.gather(*(self._read(key) for key in keys))
        return dict(zip(keys, found, strict=True))

    async def _read(self, key: Key) -> _Cached | None:
        async with self._limit:
            self.kv_reads += 1
            try:
                entry = await self._kv.get(_kv_key(key))
            except KeyNotFoundError:
                return None
        if not entry.value:
            return None
        state = _DECODER.decode(entry.value)
        return _Cached(state, entry.revision, state.last_seen)

    async def _try_write(
        self, key: Key, current: _Cached | None, state: SessionState
    ) -> int | None:
        """The new revision, or None when someone else wrote the key since we read it."""
        async with self._limit:
            self.kv_writes += 1
            try:
                if current is None or current.revision is None:
                    return int(await self._kv.create(_kv_key(key), _ENCODER.encode(state)))
                value = _ENCODER.encode(state)
                return int(await self._kv.update(_kv_key(key), value, last=current.revision))
            except (KeyWrongLastSequenceError, KeyNotFoundError):
                return None

    def _remember(self, key: Key, cached: _Cached) -> None:
        self._cache[key] = cached
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
