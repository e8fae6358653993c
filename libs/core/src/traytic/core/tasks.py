"""Background tasks owned by a lifespan: started inside an `async with`, stopped when it ends.

A service's lifespan enters each task into its `AsyncExitStack`, so a start-up step that fails
after the task started still stops it, and shutdown stops tasks in the reverse order they
started. A task that dies of an exception is logged at once, not found later in a dead process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import structlog

log = structlog.get_logger()


def _report_death(task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error(
            "background_task_died",
            task=task.get_name(),
            error=type(error).__name__,
            message=str(error),
        )


@contextlib.asynccontextmanager
async def background_task(
    work: Coroutine[Any, Any, None],
    *,
    name: str,
    stop: asyncio.Event | None = None,
    grace_s: float = 0.0,
) -> AsyncIterator[asyncio.Task[None]]:
    """Run `work` for the life of the block. On exit, set `stop` (when the task watches one)
    and give it `grace_s` to finish what it is doing (a round's transaction, say), then
    cancel it and wait until it has stopped."""
    task = asyncio.create_task(work, name=name)
    task.add_done_callback(_report_death)
    try:
        yield task
    finally:
        if stop is not None:
            stop.set()
        if grace_s > 0 and not task.done():
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), timeout=grace_s)
        task.cancel()
        # Its exception, if it died of one, was logged when it died.
        await asyncio.gather(task, return_exceptions=True)
