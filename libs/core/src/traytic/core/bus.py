"""NATS JetStream: the connection, the `EVENTS` stream, the KV buckets and the subject names.

Every declaration is idempotent (create, or update to the configured shape), so any replica of
any service can run it at start-up. `BusSettings.namespace` prefixes every stream, bucket and
subject, which lets tests (and several installs) share one NATS server without touching each other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import nats
import structlog
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, BucketNotFoundError, KeyNotFoundError, NotFoundError
from nats.js.kv import KeyValue

log = structlog.get_logger()


class BusSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How to reach NATS and the shape of what Traytic declares on it (`TRAYTIC_*`)."""

    nats_url: str = "nats://127.0.0.1:4222"
    """Comma-separated for a cluster: `nats://a:4222,nats://b:4222`."""
    nats_user: str | None = None
    nats_password: str | None = None
    nats_token: str | None = None
    nats_creds: str | None = None
    """Path of a `.creds` file (NGS / decentralised auth)."""
    namespace: str = ""
    """Prefix for stream, bucket and subject names; empty in production."""
    stream_replicas: int = 1
    stream_max_age_s: float = 7 * 24 * 3600
    """Unconsumed beacons are kept this long (consumer down for a week loses nothing sooner)."""
    stream_max_bytes: int = -1
    stream_duplicate_window_s: float = 120.0
    stream_max_msg_bytes: int = 1024 * 1024
    """Match the NATS server's `max_payload` (1 MiB by default); a gateway batch stays below it."""
    stream_storage: str = "file"
    kv_replicas: int = 1


class Names(msgspec.Struct, frozen=True):
    """The concrete names for one namespace."""

    stream: str
    events_subject: str
    events_filter: str
    live_prefix: str
    dead_letter_subject: str
    dead_letter_stream: str
    sites_bucket: str
    salts_bucket: str
    sessions_bucket: str
    quotas_bucket: str
    """Over-quota flags per site (billing writes, the gateway watches)."""
    rate_limit_subject: str
    """Plain NATS (no stream): gateway replicas share what their rate limits spent."""
    limits_bucket: str
    """Login backoff and signup counts, shared by the query replicas."""
    access_subject: str
    """Access changes (a key revoked, a member removed, a site deleted or made private): every
    query replica re-checks its open live streams at once."""


def names(namespace: str = "") -> Names:
    subject_prefix = f"{namespace}.traytic" if namespace else "traytic"
    bucket_prefix = f"{namespace}_" if namespace else ""
    return Names(
        stream=f"{bucket_prefix}EVENTS",
        events_subject=f"{subject_prefix}.events.ingest",
        events_filter=f"{subject_prefix}.events.>",
        live_prefix=f"{subject_prefix}.live",
        dead_letter_subject=f"{subject_prefix}.deadletter",
        dead_letter_stream=f"{bucket_prefix}DEADLETTER",
        sites_bucket=f"{bucket_prefix}sites",
        salts_bucket=f"{bucket_prefix}salts",
        sessions_bucket=f"{bucket_prefix}sessions",
        quotas_bucket=f"{bucket_prefix}quotas",
        rate_limit_subject=f"{subject_prefix}.ratelimit",
        limits_bucket=f"{bucket_prefix}limits",
        access_subject=f"{subject_prefix}.access",
    )


def live_subject(namespace: str, site_id: str) -> str:
    """`traytic.live.<site>`: the consumer publishes enriched events here for SSE."""
    return f"{names(namespace).live_prefix}.{site_id}"


async def connect(settings: BusSettings, *, name: str, **callbacks: Any) -> NatsClient:
    """Connect, retrying until NATS answers, then reconnect forever.

    `pending_size=0` makes a publish during a disconnect fail at once instead of being
    buffered: the gateway must answer 503 then, never 204 for a beacon still in memory.
    """
    options: dict[str, Any] = {
        "servers": [url.strip() for url in settings.nats_url.split(",")],
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.5,
        "connect_timeout": 2,
        "pending_size": 0,
        **callbacks,
    }
    if settings.nats_user:
        options["user"] = settings.nats_user
        options["password"] = settings.nats_password
        # Replies to this user on an inbox of its own: NATS permissions can then let each
        # service read only its replies (`_INBOX.<user>.>`, see deploy/nats/nats.conf).
        options["inbox_prefix"] = f"_INBOX.{settings.nats_user}"
    if settings.nats_token:
        options["token"] = settings.nats_token
    if settings.nats_creds:
        options["user_credentials"] = settings.nats_creds
    delay = 0.2
    while True:
        try:
            return await nats.connect(**options)
        except (OSError, nats.errors.NoServersError, TimeoutError) as exc:
            log.warning("nats_connect_retry", error=str(exc) or type(exc).__name__, delay_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


@contextlib.asynccontextmanager
async def connected(
    settings: BusSettings, *, name: str, **callbacks: Any
) -> AsyncIterator[NatsClient]:
    """`connect()` for a lifespan's exit stack: closed (drained) when the block ends."""
    nc = await connect(settings, name=name, **callbacks)
    try:
        yield nc
    finally:
        await close(nc)


def stream_config(settings: BusSettings) -> StreamConfig:
    n = names(settings.namespace)
    return StreamConfig(
        name=n.stream,
        description="Traytic beacons from the gateway, consumed once by the consumer",
        subjects=[n.events_filter],
        retention=RetentionPolicy.WORK_QUEUE,
        max_age=settings.stream_max_age_s,
        max_bytes=settings.stream_max_bytes,
        max_msg_size=settings.stream_max_msg_bytes,
        duplicate_window=settings.stream_duplicate_window_s,
        storage=StorageType(settings.stream_storage),
        num_replicas=settings.stream_replicas,
    )


async def ensure_stream(js: JetStreamContext, settings: BusSettings) -> None:
    """Create the `EVENTS` stream, or bring an existing one to the configured limits."""
    config = stream_config(settings)
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        try:
            await js.add_stream(config)
            log.info("stream_created", stream=config.name)
            return
        except BadRequestError:
            # Another replica created it between our lookup and our add.
            pass
    await js.update_stream(config)


async def ensure_bucket(
    js: JetStreamContext,
    bucket: str,
    *,
    replicas: int = 1,
    ttl_s: float | None = None,
    history: int = 1,
) -> KeyValue:
    """Open a KV bucket, creating it on first use."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        pass
    config = KeyValueConfig(
        bucket=bucket, replicas=replicas, ttl=ttl_s, history=history, storage=StorageType.FILE
    )
    try:
        return await js.create_key_value(config)
    except BadRequestError:
        return await js.key_value(bucket)


async def ensure_dead_letter_stream(js: JetStreamContext, settings: BusSettings) -> None:
    """`DEADLETTER` keeps messages the consumer could not decode (30 days), for inspection."""
    n = names(settings.namespace)
    config = StreamConfig(
        name=n.dead_letter_stream,
        description="Traytic messages that could not be processed, with the reason in a header",
        subjects=[n.dead_letter_subject],
        max_age=30 * 24 * 3600,
        storage=StorageType(settings.stream_storage),
        num_replicas=settings.stream_replicas,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


async def ensure_sites_bucket(js: JetStreamContext, settings: BusSettings) -> KeyValue:
    """The site registry: key = site id, value = `SiteRecord` JSON. The gateway watches it."""
    return await ensure_bucket(
        js, names(settings.namespace).sites_bucket, replicas=settings.kv_replicas
    )


class QuotaFlag(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The value of a `quotas` key (key = site id): JSON `{"overQuota": bool, "until": ts}`."""

    over_quota: bool
    until: float
    """Unix time when the flag lapses (the end of the month it was computed for)."""


QUOTA_ENCODER = msgspec.json.Encoder()
QUOTA_DECODER = msgspec.json.Decoder(QuotaFlag)


async def ensure_quotas_bucket(js: JetStreamContext, settings: BusSettings) -> KeyValue:
    """Quota flags: key = site id, value = `QuotaFlag` JSON. Billing writes, the gateway
    watches and drops the beacons of flagged sites."""
    return await ensure_bucket(
        js, names(settings.namespace).quotas_bucket, replicas=settings.kv_replicas
    )


ROUND_TRIP_SUBJECT = "$JS.API.INFO"
"""Asked by `round_trip`: every service may already publish it (deploy/nats/nats.conf)."""


async def round_trip(nc: NatsClient, *, timeout: float = 5.0) -> None:
    """Wait until the server has processed all this connection sent before (a subscription
    is then in place), as `nc.flush()` would, but safe to cancel.

    A `flush()` cancelled while it waits, or timed out, leaves its future in nats-py's PONG
    queue (2.16), and the PONG that comes later stops the client's read loop for good: every
    later request of the process times out. A request's late reply is dropped safely instead.
    """
    task = asyncio.current_task()
    asked = task.cancelling() if task is not None else 0
    # No responders (a server without JetStream) is an answer too, after what came before.
    with contextlib.suppress(nats.errors.NoRespondersError):
        await nc.request(ROUND_TRIP_SUBJECT, b"", timeout=timeout)
    if task is not None and task.cancelling() > asked:
        # On Python 3.11 `asyncio.wait_for` (inside the request) returns the reply when a
        # cancellation lands as it arrives, and drops the cancellation: a live stream whose
        # client left then stayed open. Honour it here.
        raise asyncio.CancelledError


async def close(nc: NatsClient, *, timeout: float = 5.0) -> None:
    """Drain (finish in-flight work) when connected, else just close: draining a connection
    that is reconnecting would wait forever."""
    if nc.is_connected:
        try:
            await asyncio.wait_for(nc.drain(), timeout)
        except Exception as exc:
            log.warning("nats_drain_failed", error=type(exc).__name__)
        else:
            return
    await nc.close()


async def kv_keys(kv: KeyValue) -> set[str]:
    """The live keys of a bucket, read from the stream's own per-subject state.

    nats-py's `KeyValue.keys()` ends its listing when the consumer reports nothing pending and
    the client has processed nothing yet, which on a busy machine happens before delivery and
    returns too few keys. Rebuilding a bucket from that would leave stray keys behind.
    """
    js: JetStreamContext = kv._js
    stream: str = kv._stream
    prefix: str = kv._pre
    info = await js.stream_info(stream, subjects_filter=f"{prefix}>")
    keys = set()
    for subject in info.state.subjects or {}:
        key = subject[len(prefix) :]
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:  # deleted or purged: a marker, not a value
            continue
        if entry.value:
            keys.add(key)
    return keys


async def publish_with_id(
    js: JetStreamContext, subject: str, payload: bytes, msg_id: str, *, timeout: float = 5.0
) -> int:
    """Publish once: JetStream drops a second message with the same id within the window.

    Returns the stream sequence; `ack.duplicate` tells a retried publish that it had landed.
    """
    ack = await js.publish(subject, payload, timeout=timeout, headers={"Nats-Msg-Id": msg_id})
    return int(ack.seq)
