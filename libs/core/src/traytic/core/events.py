"""The wire schema (what trackers POST to `/collect`) and the bus schema (what the gateway puts on
JetStream), defined once for every service.

Structs that hold no reference cycles are `gc=False` (msgspec's advice): the consumer creates
hundreds of thousands per second, and the collector tracking them cost more than decoding.
Schema evolution follows msgspec's rules: new fields get defaults, old field types never change.
The TypeScript types in `sdk/js` mirror the wire Structs; `tests/sdk/test_examples.py` checks
both against the shared example payloads.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

# -- wire: camelCase JSON from the tracker --------------------------------------------------------

PropValue = str | int | float | bool | None
"""A custom-event property value; nested objects are not accepted (they cannot be aggregated)."""

VitalName = Literal["LCP", "CLS", "INP", "TTFB", "FCP"]

Url = Annotated[str, msgspec.Meta(min_length=1)]


class Pageview(
    msgspec.Struct, tag="pageview", tag_field="type", rename="camel", frozen=True, gc=False
):
    """A page was shown (a full load or a single-page-app route change)."""

    url: Url
    referrer: str | None = None


Amount = (
    Annotated[float, msgspec.Meta(ge=0, le=1e12)]
    | Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,13}(\.[0-9]{1,20})?$")]
)
"""A revenue amount: a number, or a decimal string (`"29.99"`) where floats would round."""


class Revenue(msgspec.Struct, rename="camel", frozen=True, gc=False):
    """Money a custom event brought in, in the currency it was paid in (stored as sent; the
    stats convert it to the site's reporting currency). See `traytic.core.revenue`."""

    amount: Amount
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{3}$")]
    """An ISO 4217 code (`EUR`); the gateway refuses codes that are not currencies."""


class CustomEvent(
    msgspec.Struct, tag="event", tag_field="type", rename="camel", frozen=True, gc=False
):
    """`track(name, props, {revenue})` from the site's code."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    url: Url
    props: dict[str, PropValue] = msgspec.field(default_factory=dict)
    revenue: Revenue | None = None


class Vital(msgspec.Struct, tag="vital", tag_field="type", rename="camel", frozen=True, gc=False):
    """One Web Vitals measurement (milliseconds, except CLS which is unitless)."""

    name: VitalName
    value: Annotated[float, msgspec.Meta(ge=0)]
    url: Url


class ErrorEvent(
    msgspec.Struct, tag="error", tag_field="type", rename="camel", frozen=True, gc=False
):
    """An uncaught error on the page, when the site turned error tracking on."""

    message: Annotated[str, msgspec.Meta(min_length=1)]
    url: Url
    source: str | None = None
    """Where it was thrown: the script's URL without query or fragment, `:line:column`. The
    tracker never sends a stack (its frames can carry the page's data)."""


MAX_ENGAGED_MS = 86_400_000
"""A day: more engaged time than that from one page is not a person reading."""


class Engagement(
    msgspec.Struct, tag="engagement", tag_field="type", rename="camel", frozen=True, gc=False
):
    """How long a page was visible with the visitor active, and how far they scrolled: sent
    when the page is hidden or left. `engaged_ms` is the time since the previous engagement
    event of the same page view (so a page's times add up); `scroll_depth` is the deepest
    point so far, in percent of the page's height."""

    url: Url
    engaged_ms: Annotated[int, msgspec.Meta(ge=0, le=MAX_ENGAGED_MS)]
    scroll_depth: Annotated[int, msgspec.Meta(ge=0, le=100)]


Event = Pageview | CustomEvent | Vital | ErrorEvent | Engagement
"""The tagged union of everything a beacon can carry, told apart by `type`."""


class Beacon(msgspec.Struct, rename="camel", frozen=True):
    """The body of `POST /collect`."""

    site_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    events: Annotated[list[Event], msgspec.Meta(min_length=1)]
    screen: Annotated[int, msgspec.Meta(ge=0, le=100_000)] | None = None


# -- bus: msgpack on stream EVENTS ----------------------------------------------------------------


class ReceivedBeacon(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A beacon as the gateway received it, with the server-side facts the body may not claim.

    `ip` and `user_agent` exist only on the bus (work-queue retention deletes them once the
    consumer acked): the consumer turns them into country and device columns and a salted
    visitor hash, and never stores them.
    """

    site_id: str
    received_at: float
    """Unix time in seconds at the gateway."""
    ip: str
    user_agent: str
    accept_language: str
    screen: int | None
    events: list[Event]


class IngestBatch(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One JetStream message: the beacons of concurrent requests, coalesced by the gateway.

    `batch_id` is also the message's `Nats-Msg-Id`; with the beacon and event positions it gives
    every event a stable id, so a redelivered message inserts the same rows again (deduplicated).
    """

    batch_id: str
    beacons: list[ReceivedBeacon]


class StreamEvent(msgspec.Struct, rename="camel", frozen=True, kw_only=True, gc=False):
    """An enriched event as the SSE stream sends it to dashboards, shared ones too: no IP, no
    user agent, no visitor hash."""

    ts: int
    type: str
    name: str
    hostname: str
    pathname: str
    referrer_source: str
    channel: str
    country: str
    city: str
    browser: str
    os: str
    device: str
    value: float = 0.0


class LiveEvent(StreamEvent, frozen=True, kw_only=True, gc=False):
    """An enriched event on the bus (`traytic.live.<site>`): the stream's fields and the
    visitor hash, which query replicas use to count live visitors and do not pass on."""

    visitor_id: str
    """The salted daily hash (hex): not reversible, changes every day."""


class LiveBatch(msgspec.Struct, rename="camel", frozen=True):
    """What the consumer publishes on `traytic.live.<site>` after each insert (JSON)."""

    site_id: str
    events: list[LiveEvent]


BEACON_DECODER = msgspec.json.Decoder(Beacon)
LIVE_DECODER = msgspec.json.Decoder(LiveBatch)
INGEST_ENCODER = msgspec.msgpack.Encoder()
INGEST_DECODER = msgspec.msgpack.Decoder(IngestBatch)
JSON_ENCODER = msgspec.json.Encoder()


def decode_beacon(body: bytes) -> Beacon:
    """Decode and type-check a `/collect` body; raises `msgspec.ValidationError` / `DecodeError`."""
    return BEACON_DECODER.decode(body)


def encode_batch(batch: IngestBatch) -> bytes:
    return INGEST_ENCODER.encode(batch)


def decode_batch(data: bytes) -> IngestBatch:
    return INGEST_DECODER.decode(data)
