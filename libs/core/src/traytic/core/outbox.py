"""Sending what an outbox table holds, the loop every outbox shares (alert deliveries, account
mails): claim due rows, send each in a task of its own (at most `concurrency` at once), and
look again when a row is written (`wake`), when a send ends, or every `tick_s`.

What a row is and how it is claimed and marked is the caller's (`claim`, `deliver`); this loop
only paces them. On `stop` it claims nothing more and gives the sends in flight `stop_timeout_s`
to end; one cut off keeps its lease and is sent again after the lease by whoever claims it.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import structlog

log = structlog.get_logger()

T = TypeVar("T")


def replica_name() -> str:
    """This process, as lease owners name it (host and pid: fits the 64-character column)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def claim_name(replica: str) -> str:
    """A name for one claim, unique even within a replica: a row claimed again after its lease
    ran out is no longer the first claim's, even on the same replica (`leases.holds`)."""
    return f"{replica}/{secrets.token_hex(4)}"


def retry_delay(
    attempts: int, *, base_s: float, max_s: float, retry_after_s: float | None = None
) -> float:
    """Seconds before the next attempt after `attempts` failed ones: `base_s` doubling up to
    `max_s`, with jitter so that rows that failed together do not come back together; at least
    what the receiver asked for (`Retry-After`, up to `max_s`)."""
    wait = min(max_s, base_s * 2.0 ** (attempts - 1))
    wait *= random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not a secret)
    if retry_after_s is not None:
        wait = max(wait, min(retry_after_s, max_s))
    return wait


async def drain(
    claim: Callable[[int], Awaitable[Sequence[T]]],
    deliver: Callable[[T], Coroutine[Any, Any, object]],
    *,
    concurrency: int,
    tick_s: float,
    wake: asyncio.Event,
    stop: asyncio.Event,
    stop_timeout_s: float,
    name: str,
) -> None:
    """Until `stop`: claim as many rows as there are free slots and deliver each. `name`
    prefixes the log events of a failed claim and of a send task that raised."""
    in_flight: set[asyncio.Task[object]] = set()
    try:
        while not stop.is_set():
            free = concurrency - len(in_flight)
            claimed: Sequence[T] = []
            if free > 0:
                wake.clear()
                try:
                    claimed = await claim(free)
                except Exception:
                    log.exception(f"{name}_claim_failed")
            for item in claimed:
                in_flight.add(asyncio.create_task(deliver(item)))
            if claimed and len(claimed) == free:
                continue  # more may be due: claim again once a slot frees
            waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(
                [*waiters, *in_flight], timeout=tick_s, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waiters:
                waiter.cancel()
            for task in [task for task in in_flight if task.done()]:
                in_flight.discard(task)
                if task.exception() is not None:
                    log.error(f"{name}_task_failed", error=repr(task.exception()))
    finally:
        if in_flight:
            try:
                await asyncio.wait(in_flight, timeout=stop_timeout_s)
            finally:  # also when this loop is cancelled meanwhile: no send outlives it
                for task in in_flight:
                    task.cancel()
