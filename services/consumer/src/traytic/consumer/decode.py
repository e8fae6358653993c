"""Decode: JetStream message → `IngestBatch`, or the message handed back or given up.

A message that does not decode is redelivered a few times (`decode_max_deliveries`; a message
that fails once may be a truncated read, not bad bytes) and then dead-lettered.
"""

from __future__ import annotations

import structlog
from nats.aio.msg import Msg

from traytic.consumer.dead_letter import DeadLetter
from traytic.core.events import IngestBatch, decode_batch

log = structlog.get_logger()

REDELIVER_AFTER_S = 1


class Decoder:
    def __init__(self, dead_letter: DeadLetter, *, max_deliveries: int) -> None:
        self._dead_letter = dead_letter
        self._max_deliveries = max_deliveries

    async def decode(self, message: Msg) -> IngestBatch | None:
        """The message's batch, or None when it did not decode (then it was nak'ed or given up)."""
        try:
            return decode_batch(message.data)
        except Exception as exc:
            deliveries = message.metadata.num_delivered
            if deliveries >= self._max_deliveries:
                await self._dead_letter.give_up(message, f"undecodable: {exc}")
            else:
                log.warning("message_undecodable", error=str(exc)[:200], deliveries=deliveries)
                await message.nak(delay=REDELIVER_AFTER_S)
            return None
