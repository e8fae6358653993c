"""Live streams follow access changes: the streams open on this replica, who opened them, and
the re-check that ends those whose reader may no longer read the site.

A change that can take access away (an API key revoked, a member removed, a session ended, a
site deleted or made private) is announced on the bus subject `access_subject` after its
transaction commits; every replica re-checks its open streams at once. A periodic re-check
(`stream_recheck_s`) also catches what an announcement missed (NATS away at that moment) and
sessions that expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core import bus
from traytic.db import Database
from traytic.db.access import Caller
from traytic.db.models import ApiKey, LoginSession, Membership, Site, utcnow

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Grant:
    """Why a stream was allowed to open: its site and its reader (None: anonymous)."""

    site_id: str
    caller: Caller | None


async def still_allowed(session: AsyncSession, grant: Grant) -> bool:
    """The stats endpoints' rule, read afresh from the database."""
    site = await session.get(Site, grant.site_id, populate_existing=True)
    if site is None or site.deleted_at is not None:
        return False
    caller = grant.caller
    if caller is None:
        return site.public
    if caller.api_key is not None:
        key = await session.get(ApiKey, caller.api_key.id, populate_existing=True)
        if key is None or key.revoked_at is not None:
            return False
        return site.public or key.organisation_id == site.organisation_id
    assert caller.user is not None
    assert caller.login is not None
    login = await session.get(LoginSession, caller.login.id, populate_existing=True)
    if login is None or _expired(login.expires_at):
        return False
    if site.public:
        return True
    member = await session.exec(
        select(Membership.id).where(
            col(Membership.organisation_id) == site.organisation_id,
            col(Membership.user_id) == caller.user.id,
        )
    )
    return member.first() is not None


def _expired(expires_at: datetime) -> bool:
    now = utcnow()
    if expires_at.tzinfo is None:  # SQLite hands timestamps back without their zone (UTC)
        now = now.replace(tzinfo=None)
    return expires_at <= now


class OpenStreams:
    """This replica's open streams, each with its grant and how to end it."""

    def __init__(self, db: Database, namespace: str) -> None:
        self.db = db
        self.namespace = namespace
        self.nc: NatsClient | None = None
        """Set by the lifespan once connected."""
        self._streams: dict[int, tuple[Grant, Callable[[], None]]] = {}
        self._ids = itertools.count()
        self._wanted = asyncio.Event()

    def __len__(self) -> int:
        return len(self._streams)

    @contextlib.contextmanager
    def opened(self, grant: Grant, end: Callable[[], None]) -> Iterator[None]:
        number = next(self._ids)
        self._streams[number] = (grant, end)
        try:
            yield
        finally:
            self._streams.pop(number, None)

    async def recheck(self) -> int:
        """End every stream whose reader lost access; how many ended."""
        ended = 0
        if not self._streams:
            return 0
        async with self.db.session() as session:
            for number, (grant, end) in list(self._streams.items()):
                if not await still_allowed(session, grant):
                    self._streams.pop(number, None)
                    end()
                    ended += 1
        if ended:
            log.info("live_streams_ended", reason="access_changed", streams=ended)
        return ended

    def wanted(self) -> None:
        """Ask for a re-check soon (several announcements at once make one re-check)."""
        self._wanted.set()

    async def announce(self) -> None:
        """Tell every replica (this one too) to re-check its streams: call it after the change
        has committed. Without NATS the periodic re-check still ends them."""
        self.wanted()
        nc = self.nc
        if nc is None or not nc.is_connected:
            log.warning("access_change_not_announced", reason="nats unavailable")
            return
        try:
            await nc.publish(bus.names(self.namespace).access_subject, b"")
        except Exception as exc:
            log.warning("access_change_not_announced", error=type(exc).__name__)

    async def run(self, nc: NatsClient, interval_s: float) -> None:
        """Re-check on every announcement on the access subject, and every `interval_s`."""

        async def announced(_: Msg) -> None:
            self.wanted()

        self.nc = nc
        subject = bus.names(self.namespace).access_subject
        subscription = await nc.subscribe(subject, cb=announced)
        try:
            while True:
                # Not `wait_for`: on 3.11 it swallows a cancellation that arrives as the event
                # is set (an announcement during shutdown), and the lifespan waited forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(interval_s):
                        await self._wanted.wait()
                self._wanted.clear()
                try:
                    await self.recheck()
                except Exception as exc:  # the database may be briefly away: next round
                    log.warning("live_stream_recheck_failed", error=type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
