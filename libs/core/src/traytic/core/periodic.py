"""The loop of every background job (billing's quota flags and retention, the consumer's pending
poll and warehouse upkeep): one round at once, then one every interval until told to stop; a
failed round is logged and the next one comes on time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger()


async def every(
    interval_s: float,
    stop: asyncio.Event,
    round_: Callable[[], Awaitable[object]],
    *,
    failure: str,
) -> None:
    """Run `round_` now and every `interval_s` until `stop` is set; `failure` names the log
    event of a round that raised."""
    while not stop.is_set():
        try:
            await round_()
        except Exception:
            log.exception(failure)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
