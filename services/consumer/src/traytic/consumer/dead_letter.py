"""Give a message up: copy it to the dead-letter stream with why, then ack it, counted once.

The one place a message leaves the pipeline unstored: an undecodable message after its last
allowed delivery, or a batch the warehouse keeps rejecting. The copy keeps the original bytes,
so an operator can inspect it and publish it again once the cause is fixed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from nats.aio.msg import Msg

from traytic.consumer.metrics import ConsumerMetrics

log = structlog.get_logger()

MAX_REASON_LENGTH = 500

Publish = Callable[[str, bytes, dict[str, str]], Awaitable[object]]
"""Publishes (subject, payload, headers) durably: JetStream's `publish`, which waits for the ack."""


class DeadLetter:
    def __init__(self, publish: Publish, subject: str, metrics: ConsumerMetrics) -> None:
        self._publish = publish
        self._subject = subject
        self._metrics = metrics

    async def give_up(self, message: Msg, reason: str) -> None:
        metadata = message.metadata
        headers = {
            "Traytic-Reason": reason[:MAX_REASON_LENGTH],
            "Traytic-Stream-Seq": str(metadata.sequence.stream),
            "Traytic-Deliveries": str(metadata.num_delivered),
        }
        # Stored in the dead-letter stream before the ack: a crash in between redelivers the
        # message, it is never lost (at worst it is dead-lettered twice).
        await self._publish(self._subject, message.data, headers)
        await message.ack()
        self._metrics.dead_lettered += 1
        log.error("message_dead_lettered", reason=reason, seq=metadata.sequence.stream)
