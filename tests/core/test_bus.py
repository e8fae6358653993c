"""Stream and bucket declarations are idempotent; JetStream dedupes by Nats-Msg-Id."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client as NatsClient
from nats.js.api import RetentionPolicy

from traytic.core import bus
from traytic.core.events import IngestBatch, Pageview, ReceivedBeacon, decode_batch, encode_batch


async def test_stream_declared_twice_and_concurrently(
    nc: NatsClient, bus_settings: bus.BusSettings
) -> None:
    js = nc.jetstream()
    await asyncio.gather(*(bus.ensure_stream(js, bus_settings) for _ in range(3)))
    await bus.ensure_stream(js, bus_settings)
    info = await js.stream_info(bus.names(bus_settings.namespace).stream)
    assert info.config.retention == RetentionPolicy.WORK_QUEUE
    assert info.config.duplicate_window == bus_settings.stream_duplicate_window_s
    assert info.config.subjects == [bus.names(bus_settings.namespace).events_filter]


async def test_stream_limits_follow_settings_on_restart(
    nc: NatsClient, bus_settings: bus.BusSettings
) -> None:
    js = nc.jetstream()
    await bus.ensure_stream(js, bus_settings)
    changed = bus.BusSettings(
        nats_url=bus_settings.nats_url, namespace=bus_settings.namespace, stream_max_age_s=3600
    )
    await bus.ensure_stream(js, changed)
    info = await js.stream_info(bus.names(bus_settings.namespace).stream)
    assert info.config.max_age == 3600


async def test_buckets_are_created_once(nc: NatsClient, bus_settings: bus.BusSettings) -> None:
    js = nc.jetstream()
    first, second = await asyncio.gather(
        bus.ensure_sites_bucket(js, bus_settings), bus.ensure_sites_bucket(js, bus_settings)
    )
    await first.put("k", b"v")
    assert (await second.get("k")).value == b"v"


async def test_same_message_id_is_stored_once(
    nc: NatsClient, bus_settings: bus.BusSettings
) -> None:
    js = nc.jetstream()
    await bus.ensure_stream(js, bus_settings)
    n = bus.names(bus_settings.namespace)
    batch = IngestBatch(
        "gw-1",
        [ReceivedBeacon("st_a", 1.0, "192.0.2.1", "ua", "en", 390, [Pageview(url="https://a/")])],
    )
    payload = encode_batch(batch)
    first = await bus.publish_with_id(js, n.events_subject, payload, "gw-1")
    again = await bus.publish_with_id(js, n.events_subject, payload, "gw-1")
    assert first == again
    info = await js.stream_info(n.stream)
    assert info.state.messages == 1
    assert decode_batch(payload) == batch


def test_namespaces_do_not_collide() -> None:
    a, b, prod = bus.names("a"), bus.names("b"), bus.names("")
    assert a.stream != b.stream != prod.stream
    assert prod.events_filter == "traytic.events.>"
    assert bus.live_subject("", "st_x") == "traytic.live.st_x"
    assert not b.events_subject.startswith(a.events_filter[:-1])


async def test_quota_flags_bucket_and_value(nc: NatsClient, bus_settings: bus.BusSettings) -> None:
    assert bus.names("").quotas_bucket == "quotas"
    assert bus.names("a").quotas_bucket == "a_quotas"
    kv = await bus.ensure_quotas_bucket(nc.jetstream(), bus_settings)
    flag = bus.QuotaFlag(over_quota=True, until=1_796_083_200.0)
    await kv.put("st_x", bus.QUOTA_ENCODER.encode(flag))
    value = (await kv.get("st_x")).value or b""
    assert value == b'{"overQuota":true,"until":1796083200.0}'
    assert bus.QUOTA_DECODER.decode(value) == flag


async def test_kv_keys_lists_live_keys_only(nc: NatsClient, bus_settings: bus.BusSettings) -> None:
    kv = await bus.ensure_sites_bucket(nc.jetstream(), bus_settings)
    assert await bus.kv_keys(kv) == set()
    for key in ("a", "b", "c", "d"):
        await kv.put(key, b"1")
    await kv.put("a", b"2")  # a second revision is still one key
    await kv.delete("b")
    await kv.purge("c")
    assert await bus.kv_keys(kv) == {"a", "d"}
