"""Imports running in the background of the query service: an upload answers 202 at once and
its import goes on here, its progress in the warehouse's `imports` table (any replica answers the
dashboard's polls). The lifespan owns them: shutdown cancels what still runs, and the job of a
process that died shows as failed (`ImportJob.shown_status`)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger()


class ImportTasks:
    """The import tasks of one process."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Recorded on the job by run_import (a bad file is a 4xx there, not a crash).
            log.info("import_task_ended", task=task.get_name(), error=str(task.exception()))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
