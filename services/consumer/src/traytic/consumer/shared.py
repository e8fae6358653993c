"""Shared visits: the promise that lets a replica write a visit from memory, kept across replicas.

A replica writes a visit's row from memory (`visits.py`) only while nobody else has inserted an
event of it. So a replica about to insert into a visit it does not own first marks the visit as
shared: a key in the JetStream KV bucket `sessions_shared`. Every replica mirrors that bucket
(an ordered consumer on its stream), and before writing visits from memory it catches its
mirror up with the server (`fence`): a mark stored before then is seen, so the owner then
recomputes the visit from its stored events instead. A mark stored after the fence belongs to an
insert that comes after this write, whose own replica recomputes the visit after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Iterable

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.kv import KV_DEL, KV_OP, KV_PURGE, KeyValue

VisitKey = tuple[str, int]

log = structlog.get_logger()

FENCE_TIMEOUT_S = 2.0
MARKS_REMEMBERED = 200_000
"""Marks this replica wrote or saw (least recent forgotten first). A mark forgotten here is no
loss: a visit the writer found shared once is never written from memory again."""


def mark_key(key: VisitKey) -> str:
    return f"{key[0]}.{key[1]:016x}"


def _visit_of(subject: str, prefix: str) -> VisitKey | None:
    site, _, session = subject[len(prefix) :].rpartition(".")
    try:
        return (site, int(session, 16))
    except ValueError:
        return None


class SharedVisits:
    def __init__(self, js: JetStreamContext, kv: KeyValue, bucket: str) -> None:
        self._js = js
        self._kv = kv
        self._prefix = f"$KV.{bucket}."
        self._marked: OrderedDict[VisitKey, None] = OrderedDict()
        self._seen_seq = 0
        self._progress = asyncio.Event()
        self._subscription: JetStreamContext.PushSubscription | None = None

    def __contains__(self, key: VisitKey) -> bool:
        return key in self._marked

    def _remember(self, key: VisitKey) -> None:
        self._marked[key] = None
        self._marked.move_to_end(key)
        while len(self._marked) > MARKS_REMEMBERED:
            self._marked.popitem(last=False)

    async def start(self) -> None:
        """Mirror the marks: those stored (the bucket's TTL bounds them), then every new one."""
        self._subscription = await self._js.subscribe(
            self._prefix + ">",
            cb=self._on_mark,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def _on_mark(self, message: Msg) -> None:
        self._seen_seq = max(self._seen_seq, message.metadata.sequence.stream)
        self._progress.set()
        if (message.headers or {}).get(KV_OP) in (KV_DEL, KV_PURGE):
            return
        key = _visit_of(message.subject, self._prefix)
        if key is not None:
            self._remember(key)

    async def mark(self, keys: Iterable[VisitKey]) -> None:
        """Mark visits shared (stored when this returns); those marked before are skipped."""
        todo = [key for key in set(keys) if key not in self._marked]
        if todo:
            await asyncio.gather(*(self._kv.put(mark_key(key), b"") for key in todo))
            for key in todo:
                self._remember(key)

    async def fence(self, timeout_s: float = FENCE_TIMEOUT_S) -> bool:
        """Catch the mirror up with every mark stored before this call; False if it could not
        within `timeout_s` (then trust no visit to memory)."""
        if self._subscription is None:
            return False
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                info = await self._subscription.consumer_info()
            except Exception as exc:
                log.warning("shared_visits_fence_failed", error=type(exc).__name__)
                return False
            delivered = info.delivered.stream_seq if info.delivered else 0
            if not info.num_pending and self._seen_seq >= (delivered or 0):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("shared_visits_fence_timeout", pending=info.num_pending)
                return False
            # Delivered but not handled yet (still in the socket), or not delivered yet.
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), min(remaining, 0.01))
