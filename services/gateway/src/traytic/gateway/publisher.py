"""Acknowledged JetStream publishes over one reply subscription of the gateway's own.

`js.publish()` in nats-py is a general request: per call it builds a token, a future with a
done callback, an `asyncio.wait_for`, then decodes the ack with `json.loads` into a dataclass.
The coalescer publishes thousands of batches a second, so this does only what an acked publish
needs: one wildcard inbox subscription for the life of the connection (re-subscribed by the
client after a reconnect), a future per batch keyed by a counter, one timer, and the ack decoded
by msgspec. A batch still resolves only when JetStream acked it, and fails on an error reply,
"no responders" (no stream listens) or the timeout.
"""

from __future__ import annotations

import asyncio
import itertools

import msgspec
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.errors import APIError, NoStreamResponseError


class _ApiError(msgspec.Struct):
    code: int = 0
    err_code: int = 0
    description: str = ""


class _PubAck(msgspec.Struct):
    """JetStream's answer to a publish: `{"stream", "seq", "duplicate"?}` or `{"error"}`."""

    stream: str = ""
    seq: int = 0
    error: _ApiError | None = None


log = structlog.get_logger()

_ACK_DECODER = msgspec.json.Decoder(_PubAck)
_HEADER_STATUS = "Status"
_NO_RESPONDERS = "503"


class PublishTimeout(TimeoutError):
    """JetStream did not ack within the timeout (the message may still land: its id makes a
    retry a duplicate, never a second copy)."""


class JetStreamPublisher:
    """`publish(payload, msg_id)` → the stream sequence, once JetStream acked the message."""

    def __init__(self, subject: str, *, timeout: float) -> None:
        self._subject = subject
        self._timeout = timeout
        self._nc: NatsClient | None = None
        self._sub: Subscription | None = None
        self._prefix = ""
        self._tokens = itertools.count()
        self._waiting: dict[str, asyncio.Future[Msg]] = {}

    async def start(self, nc: NatsClient) -> None:
        self._nc = nc
        # Under the client's inbox prefix, which NATS permissions may restrict replies to.
        self._prefix = nc.new_inbox() + "."
        self._sub = await nc.subscribe(self._prefix + "*", cb=self._on_reply)

    async def stop(self) -> None:
        if self._sub is not None:
            sub, self._sub = self._sub, None
            try:
                await sub.unsubscribe()
            except Exception as exc:  # closing anyway: NATS may already be gone
                log.debug("publisher_unsubscribe_failed", error=type(exc).__name__)

    async def _on_reply(self, msg: Msg) -> None:
        future = self._waiting.pop(msg.subject[len(self._prefix) :], None)
        if future is not None and not future.done():
            future.set_result(msg)

    async def publish(self, payload: bytes, msg_id: str) -> int:
        nc = self._nc
        if nc is None:
            raise RuntimeError("publisher not started")
        token = str(next(self._tokens))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Msg] = loop.create_future()
        self._waiting[token] = future
        timer = loop.call_later(self._timeout, _expire, future)
        try:
            await nc.publish(
                self._subject, payload, reply=self._prefix + token, headers={"Nats-Msg-Id": msg_id}
            )
            msg = await future
        finally:
            timer.cancel()
            self._waiting.pop(token, None)
        if msg.headers and msg.headers.get(_HEADER_STATUS) == _NO_RESPONDERS:
            raise NoStreamResponseError
        ack = _ACK_DECODER.decode(msg.data)
        if ack.error is not None:
            raise APIError(
                code=ack.error.code, err_code=ack.error.err_code, description=ack.error.description
            )
        return ack.seq


def _expire(future: asyncio.Future[Msg]) -> None:
    if not future.done():
        future.set_exception(PublishTimeout("no ack from JetStream in time"))
