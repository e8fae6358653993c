"""Pipelined compare-and-set writes keep the bucket's rules: a key is created only where none
exists, updated only from the revision the writer read, and a refused write says so."""

from __future__ import annotations

import pytest
from nats.aio.client import Client as NatsClient
from nats.js.errors import NoStreamResponseError

from traytic.consumer.kv_writes import IN_FLIGHT, KvWriter
from traytic.core import bus


async def test_creates_updates_and_refusals(nc: NatsClient, namespace: str) -> None:
    bucket = f"{namespace}_kvw"
    kv = await bus.ensure_bucket(nc.jetstream(), bucket, replicas=1, ttl_s=60)
    writer = KvWriter(nc, bucket)
    many = IN_FLIGHT + 5  # more than one round of writes in flight
    created = await writer.compare_and_set([(f"k.{n}", b"%d" % n, 0) for n in range(many)])
    assert all(revision is not None for revision in created)
    assert len(set(created)) == many
    assert (await kv.get("k.7")).value == b"7"

    # Again from 0 (another replica created them meanwhile): refused, nothing changed.
    assert await writer.compare_and_set([("k.7", b"late", 0)]) == [None]
    # From the revision read: stored; from a stale one: refused.
    [updated] = await writer.compare_and_set([("k.7", b"next", created[7] or 0)])
    assert updated is not None and updated > (created[7] or 0)
    assert await writer.compare_and_set([("k.7", b"stale", created[7] or 0)]) == [None]
    entry = await kv.get("k.7")
    assert (entry.value, entry.revision) == (b"next", updated)

    await writer.stop()  # a stopped writer subscribes again when used
    assert await writer.compare_and_set([("k.new", b"x", 0)]) != [None]
    await nc.jetstream().delete_key_value(bucket)


async def test_a_bucket_that_does_not_exist_raises(nc: NatsClient, namespace: str) -> None:
    writer = KvWriter(nc, f"{namespace}_missing")
    with pytest.raises(NoStreamResponseError):
        await writer.compare_and_set([("k.1", b"x", 0)])
    await writer.stop()
