"""Sends the demo's beacons through the gateway's own `/collect` code, in this process.

The gateway here is the real one (`Gateway`: validation, the site registry, the coalescer,
JetStream), connected to the NATS of the running `traytic dev`, whose consumer enriches and
stores the events as it would any others. Only its clock differs: each beacon is stamped with
its sample time, read from a context variable the sender sets. That clock is a constructor
argument, not a request field, so nothing that reaches the public `/collect` can backdate an
event. The visitor's address arrives as `X-Forwarded-For` from 127.0.0.1, the one proxy this
in-process gateway trusts.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar

from traytic.cli.demo.traffic import Person, SampleBeacon
from traytic.core import bus
from traytic.core.errors import TrayticError
from traytic.core.metrics import CollectorRegistry
from traytic.gateway.app import Gateway
from traytic.gateway.settings import GatewaySettings

_PROXY = "127.0.0.1"
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Sent:
    events: int
    beacons: int
    batches: int
    """JetStream messages the gateway published (beacons are coalesced into them)."""
    seconds: float


class DemoSender:
    """Posts sample beacons to an in-process gateway, a few visitors at a time."""

    def __init__(
        self, settings: GatewaySettings, bus_settings: bus.BusSettings, *, concurrency: int = 64
    ) -> None:
        self._now: contextvars.ContextVar[float] = contextvars.ContextVar("demo_now")
        # The demo speaks for many visitors at once from this machine: the edge's rate limits
        # and datacenter filter (its sampled addresses may fall in a hosting range) are for
        # strangers, not for it. The hostname check stays: its pages are on the dev site.
        demo_settings = msgspec.structs.replace(
            settings,
            trusted_proxies=[f"{_PROXY}/32"],
            rate_limit_ip_per_s=0.0,
            rate_limit_site_per_s=0.0,
            filter_datacenter=False,
        )
        self.gateway = Gateway(
            demo_settings,
            bus_settings,
            metrics_registry=CollectorRegistry(),
            clock=self._now.get,
        )
        self._concurrency = concurrency

    @contextlib.asynccontextmanager
    async def connected(self) -> Any:
        """The gateway's own lifespan: NATS, the stream, the site registry."""
        async with self.gateway.lifespan(Litestar()):
            yield self

    async def post(self, beacon: SampleBeacon) -> None:
        self._now.set(beacon.at)
        body = _ENCODER.encode(beacon.body)
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/collect",
            "client": (_PROXY, 0),
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
                (b"user-agent", beacon.user_agent.encode()),
                (b"accept-language", beacon.language.encode()),
                (b"x-forwarded-for", beacon.ip.encode()),
            ],
        }
        delivered = False
        answer: dict[str, Any] = {}

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            answer.setdefault(message["type"], message)

        await self.gateway.collect(scope, receive, send)
        status = answer["http.response.start"]["status"]
        if status != 204:
            detail = answer.get("http.response.body", {}).get("body", b"").decode()
            raise TrayticError(f"the gateway refused a demo beacon ({status}): {detail}")

    async def send(self, people: Sequence[Person], progress: Callable[[int], None]) -> Sent:
        """Each visitor's beacons in order (their visit depends on it), visitors side by side."""
        started = time.monotonic()
        slots = asyncio.Semaphore(self._concurrency)

        async def visitor(person: Person) -> None:
            async with slots:
                for beacon in person.beacons:
                    await self.post(beacon)
                    progress(len(beacon.events))

        async with asyncio.TaskGroup() as group:
            for person in people:
                group.create_task(visitor(person))
        # every post returned after JetStream acked its batch: all of it is on the stream
        return Sent(
            events=sum(len(b.events) for p in people for b in p.beacons),
            beacons=sum(len(p.beacons) for p in people),
            batches=self.gateway.coalescer.batches_published,
            seconds=time.monotonic() - started,
        )

    async def unstored(self, consumer_name: str) -> int:
        """Messages the consumer has not yet acknowledged (acked = in the warehouse)."""
        assert self.gateway.js is not None
        info = await self.gateway.js.consumer_info(self.gateway.names.stream, consumer_name)
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)
