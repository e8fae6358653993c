"""Stand-ins for the steps' unit tests, each following the contract of what it replaces.

- `RecordingNats`: the one client call a JetStream message's ack, nak and in-progress make
  (`publish` to the message's reply subject); the messages themselves are nats-py's real `Msg`,
  with a reply subject in JetStream's `$JS.ACK` form, so their metadata parses as delivered.
- `MemoryKeyValue`: JetStream KV's contract as nats-py exposes it: `get` raises
  `KeyNotFoundError`, `create` raises `KeyWrongLastSequenceError` when the key exists, `update`
  when `last` is not the key's revision; revisions grow across the bucket.
- `MemoryWarehouse`: the calls the writer makes of a `Warehouse`, recorded in order, with
  failures to inject.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nats.aio.msg import Msg
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from traytic.core.events import IngestBatch, encode_batch
from traytic.warehouse import EventRow


class RecordingNats:
    def __init__(self, log: list[tuple[str, Any]] | None = None) -> None:
        self.log = log if log is not None else []
        """("publish", (subject, payload)) in call order; shared with other stand-ins."""

    async def publish(
        self, subject: str, payload: bytes = b"", reply: str = "", headers: Any = None
    ) -> None:
        self.log.append(("publish", (subject, payload)))

    def replies(self, message: Msg) -> list[bytes]:
        """What was sent to `message`'s reply subject: b"" (ack), b"-NAK ..." or b"+WPI"."""
        return [payload for kind, (subject, payload) in self.log if subject == message.reply]


def message(
    client: RecordingNats,
    data: bytes | IngestBatch,
    *,
    delivered: int = 1,
    seq: int = 1,
) -> Msg:
    """A JetStream message as a pull consumer receives it (stream EVENTS, consumer c)."""
    if isinstance(data, IngestBatch):
        data = encode_batch(data)
    reply = f"$JS.ACK.EVENTS.c.{delivered}.{seq}.{seq}.1767225600000000000.0"
    return Msg(client, subject="traytic.events.in", reply=reply, data=data)  # type: ignore[arg-type]


class _Entry:
    def __init__(self, key: str, value: bytes, revision: int) -> None:
        self.key = key
        self.value = value
        self.revision = revision


class MemoryKeyValue:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._revision = 0
        self.reads = 0
        self.writes = 0

    async def get(self, key: str) -> _Entry:
        self.reads += 1
        if key not in self._entries:
            raise KeyNotFoundError
        return self._entries[key]

    def _store(self, key: str, value: bytes) -> int:
        self.writes += 1
        self._revision += 1
        self._entries[key] = _Entry(key, value, self._revision)
        return self._revision

    async def create(self, key: str, value: bytes) -> int:
        if key in self._entries:
            raise KeyWrongLastSequenceError
        return self._store(key, value)

    async def update(self, key: str, value: bytes, last: int | None = None) -> int:
        entry = self._entries.get(key)
        if entry is None or entry.revision != last:
            raise KeyWrongLastSequenceError
        return self._store(key, value)

    async def put(self, key: str, value: bytes) -> int:
        return self._store(key, value)


class MemoryWarehouse:
    def __init__(self, log: list[tuple[str, Any]] | None = None) -> None:
        self.log = log if log is not None else []
        self.rows: list[EventRow] = []
        self.failures: list[Exception] = []
        """Raised by the next inserts, one each, before anything is stored."""
        self.refresh_failures: list[Exception] = []

    async def insert_events(self, rows: Sequence[EventRow]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.log.append(("insert", len(rows)))
        self.rows.extend(rows)

    async def existing_event_ids(
        self, site_ids: Iterable[str], ts_min: int, ts_max: int, event_ids: Iterable[int]
    ) -> set[int]:
        wanted = set(event_ids)
        self.log.append(("lookup", len(wanted)))
        return {row.event_id for row in self.rows if row.event_id in wanted}

    async def refresh_sessions(
        self, visits: Mapping[tuple[str, int], int], *, lookback_s: int = 1800
    ) -> None:
        if self.refresh_failures:
            raise self.refresh_failures.pop(0)
        self.log.append(("refresh", dict(visits)))
