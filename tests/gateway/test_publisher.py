"""The gateway's own acked publisher: a publish resolves to the stream sequence only once
JetStream acked it, and fails (so its requests get 503) on an error reply, on "no responders"
when no stream listens, and when no ack comes in time."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.errors import APIError, NoStreamResponseError

from traytic.core import bus
from traytic.gateway.publisher import JetStreamPublisher, PublishTimeout


async def started(nc: NatsClient, subject: str, timeout: float = 2.0) -> JetStreamPublisher:
    publisher = JetStreamPublisher(subject, timeout=timeout)
    await publisher.start(nc)
    return publisher


async def test_acked_publishes_get_their_sequence_and_a_repeated_id_is_stored_once(
    nc: NatsClient, bus_settings: bus.BusSettings
) -> None:
    js = nc.jetstream()
    await bus.ensure_stream(js, bus_settings)
    names = bus.names(bus_settings.namespace)
    publisher = await started(nc, names.events_subject)
    try:
        seqs = await asyncio.gather(*(publisher.publish(b"m%d" % i, f"id-{i}") for i in range(50)))
        assert sorted(seqs) == list(range(1, 51))
        assert await publisher.publish(b"m7 again", "id-7") == seqs[7]  # a duplicate
        assert (await js.stream_info(names.stream)).state.messages == 50
    finally:
        await publisher.stop()


async def test_no_stream_listening_fails_the_publish(
    nc: NatsClient, bus_settings: bus.BusSettings
) -> None:
    publisher = await started(nc, bus.names(bus_settings.namespace).events_subject)
    try:
        with pytest.raises(NoStreamResponseError):
            await publisher.publish(b"lost", "id-1")
    finally:
        await publisher.stop()


async def test_an_error_reply_fails_the_publish(
    nc: NatsClient, bus_settings: bus.BusSettings
) -> None:
    small = msgspec.structs.replace(bus_settings, stream_max_msg_bytes=64)
    await bus.ensure_stream(nc.jetstream(), small)
    publisher = await started(nc, bus.names(bus_settings.namespace).events_subject)
    try:
        with pytest.raises(APIError) as error:
            await publisher.publish(b"x" * 200, "id-1")
        assert error.value.code == 400
        assert await publisher.publish(b"fits", "id-2") == 1
    finally:
        await publisher.stop()


async def test_no_ack_in_time_fails_the_publish(nc: NatsClient, namespace: str) -> None:
    subject = f"{namespace}.silent"
    silent = await nc.subscribe(subject)  # receives, never answers: not a stream
    publisher = await started(nc, subject, timeout=0.2)
    try:
        with pytest.raises(PublishTimeout):
            await publisher.publish(b"unanswered", "id-1")
    finally:
        await publisher.stop()
        await silent.unsubscribe()
