"""The request's unit of work: one session, committed after the handler, then the side effects
that must only follow a commit (the KV registry writes).

A handler calls `after_commit(session, coroutine_function)`; the session dependency calls
`run_after_commit()` once the commit succeeded (a failed request rolls back and never does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

AfterCommit = Callable[[], Awaitable[None]]
_KEY = "traytic_after_commit"


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    session.info.setdefault(_KEY, []).append(callback)


async def run_after_commit(session: AsyncSession) -> None:
    """Run (and forget) the callbacks registered on a session that has committed."""
    callbacks: list[AfterCommit] = session.info.pop(_KEY, [])
    for callback in callbacks:
        await callback()
