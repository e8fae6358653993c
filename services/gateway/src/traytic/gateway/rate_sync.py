"""Shares what each gateway replica's token buckets spent, over a plain NATS subject.

Every `interval` seconds a replica publishes the tokens it took per key since the last round
(msgpack, fire and forget) and charges its own buckets with what the others published. A lost
message only loosens a limit for one round, and the hot path never waits on the network. A
limit therefore holds across replicas within about one round's traffic per replica.
"""

from __future__ import annotations

import asyncio
import secrets

import msgspec
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from traytic.gateway.rate_limit import TokenBuckets

log = structlog.get_logger()

SWEEP_EVERY_S = 5.0


class SpentTokens(msgspec.Struct, array_like=True, frozen=True):
    """One replica's round: its id, and tokens taken per key by each limiter."""

    replica: str
    by_limiter: dict[str, dict[str, int]]


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(SpentTokens)


class RateSync:
    """Publishes this replica's spending and applies the others' (`run()` until cancelled)."""

    def __init__(
        self, limiters: dict[str, TokenBuckets], subject: str, *, interval_s: float
    ) -> None:
        self.limiters = limiters
        self.subject = subject
        self.interval_s = interval_s
        self.replica = secrets.token_hex(6)
        self.rounds_published = 0
        self.rounds_applied = 0
        self._publishing = False

    @property
    def pending(self) -> bool:
        """Some spending is not published yet (it will be in the next round)."""
        return self._publishing or any(limiter.unreported for limiter in self.limiters.values())

    async def _on_message(self, msg: Msg) -> None:
        try:
            spent = _DECODER.decode(msg.data)
        except msgspec.DecodeError:
            log.warning("rate_sync_message_invalid")
            return
        if spent.replica == self.replica:
            return
        for name, keys in spent.by_limiter.items():
            limiter = self.limiters.get(name)
            if limiter is not None:
                limiter.spend_all(keys)
        self.rounds_applied += 1

    async def publish_round(self, nc: NatsClient) -> None:
        self._publishing = True
        try:
            by_limiter = {name: limiter.report() for name, limiter in self.limiters.items()}
            by_limiter = {name: keys for name, keys in by_limiter.items() if keys}
            if not by_limiter or not nc.is_connected:
                return
            payload = _ENCODER.encode(SpentTokens(self.replica, by_limiter))
            try:
                await nc.publish(self.subject, payload)
            except Exception as exc:  # a lost round only loosens the limits for that round
                log.warning("rate_sync_publish_failed", error=type(exc).__name__)
                return
            self.rounds_published += 1
        finally:
            self._publishing = False

    async def run(self, nc: NatsClient) -> None:
        subscription: Subscription = await nc.subscribe(self.subject, cb=self._on_message)
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + SWEEP_EVERY_S
        try:
            while True:
                await asyncio.sleep(self.interval_s)
                await self.publish_round(nc)
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + SWEEP_EVERY_S
                    for limiter in self.limiters.values():
                        limiter.sweep()
        finally:
            try:
                await subscription.unsubscribe()
            except Exception as exc:  # closing anyway: NATS may already be gone
                log.debug("rate_sync_unsubscribe_failed", error=type(exc).__name__)
