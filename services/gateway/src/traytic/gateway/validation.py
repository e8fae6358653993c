"""Decoding a `/collect` body, and the limits a decoded beacon must respect beyond its types:
sizes that keep one site's beacons from bloating the stream or the warehouse, and values that
every later step (msgpack on the bus, the consumer, ClickHouse) can carry. Each failure is an
`InvalidInput` (400) naming the field, like msgspec's own errors: whatever the bytes, never a 500.
"""

from __future__ import annotations

import re

import msgspec

from traytic.core.errors import InvalidInput
from traytic.core.events import Beacon, CustomEvent, ErrorEvent, Pageview, decode_beacon
from traytic.core.revenue import amount_micros, normalise_currency
from traytic.gateway.settings import GatewaySettings

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1
"""Prop integers must fit a signed 64-bit integer: msgpack on the bus carries no more, and the
consumer writes them as text (Python refuses `str()` of an int past 4300 digits)."""

_ESCAPED_NUL = b"\\u0000"


def decode_body(body: bytes) -> Beacon:
    """The beacon in `body`, or `InvalidInput`: for bytes that are not UTF-8 (overlong forms and
    encoded surrogates included), JSON that is malformed or nested too deeply, wrong types, and
    strings holding NUL."""
    try:
        beacon = decode_beacon(body)
    except msgspec.ValidationError as exc:
        raise InvalidInput(str(exc).split(" - at `", 1)[0], field=field_of(exc)) from None
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}", field="$") from None
    except UnicodeDecodeError as exc:
        # msgspec validates UTF-8 as it copies a string out: overlong forms, encoded
        # surrogates (ED A0 80..) and stray bytes all land here.
        raise InvalidInput(
            f"body is not valid UTF-8 (byte {exc.start}: {exc.reason})", field="$"
        ) from None
    except RecursionError:
        # Arrays or objects nested past msgspec's depth limit, even in a field we ignore.
        raise InvalidInput("body is nested too deeply", field="$") from None
    # A raw NUL byte is already malformed JSON; only the escape `\u0000` decodes to one. Looking
    # for it in the bytes first keeps the walk over every string off the common path.
    if _ESCAPED_NUL in body:
        _refuse_nul(beacon)
    return beacon


def _refuse_nul(beacon: Beacon) -> None:
    if "\x00" in beacon.site_id:
        raise InvalidInput("siteId contains a NUL character", field="$.siteId")
    for index, event in enumerate(beacon.events):
        where = f"$.events[{index}]"
        texts: list[tuple[str, str | None]] = [("url", event.url)]
        if isinstance(event, Pageview):
            texts.append(("referrer", event.referrer))
        elif isinstance(event, CustomEvent):
            texts.append(("name", event.name))
            for key, value in event.props.items():
                field = "props." + key.replace("\x00", "")[:32]
                texts.append((field, key))
                texts.append((field, value if isinstance(value, str) else None))
        elif isinstance(event, ErrorEvent):
            texts.append(("message", event.message))
            texts.append(("source", event.source))
        for name, text in texts:
            if text and "\x00" in text:
                raise InvalidInput(f"{name} contains a NUL character", field=f"{where}.{name}")


def check_limits(beacon: Beacon, settings: GatewaySettings) -> None:
    if len(beacon.events) > settings.max_events:
        raise InvalidInput(f"at most {settings.max_events} events per beacon", field="$.events")
    max_url = settings.max_url_length
    for index, event in enumerate(beacon.events):
        # The field's path is only formatted for an error: this runs for every event.
        if len(event.url) > max_url:
            raise InvalidInput(
                f"url longer than {max_url} characters", field=f"$.events[{index}].url"
            )
        if isinstance(event, Pageview):
            if event.referrer and len(event.referrer) > max_url:
                raise InvalidInput(
                    f"referrer longer than {max_url} characters",
                    field=f"$.events[{index}].referrer",
                )
        elif isinstance(event, CustomEvent):
            _check_custom_event(event, f"$.events[{index}]", settings)
        elif isinstance(event, ErrorEvent):
            if len(event.message) > settings.max_error_message_length:
                raise InvalidInput(
                    f"message longer than {settings.max_error_message_length} characters",
                    field=f"$.events[{index}].message",
                )
            if event.source and len(event.source) > max_url:
                raise InvalidInput(
                    f"source longer than {max_url} characters",
                    field=f"$.events[{index}].source",
                )


def _check_custom_event(event: CustomEvent, where: str, settings: GatewaySettings) -> None:
    if len(event.name) > settings.max_name_length:
        raise InvalidInput(
            f"name longer than {settings.max_name_length} characters", field=f"{where}.name"
        )
    if len(event.props) > settings.max_props:
        raise InvalidInput(f"at most {settings.max_props} props", field=f"{where}.props")
    for key, value in event.props.items():
        if not key or len(key) > settings.max_prop_key_length:
            raise InvalidInput(
                f"prop names must be 1 to {settings.max_prop_key_length} characters",
                field=f"{where}.props.{key[:32]}",
            )
        if isinstance(value, str):
            if len(value) > settings.max_prop_value_length:
                raise InvalidInput(
                    f"prop values must be at most {settings.max_prop_value_length} characters",
                    field=f"{where}.props.{key}",
                )
        elif type(value) is int and not _INT_MIN <= value <= _INT_MAX:
            raise InvalidInput(
                "prop numbers must fit a signed 64-bit integer", field=f"{where}.props.{key}"
            )
    if event.revenue is not None:
        _check_revenue(event, where)


def _check_revenue(event: CustomEvent, where: str) -> None:
    """What the types cannot say: the code is a currency and the amount a sane number."""
    assert event.revenue is not None
    try:
        normalise_currency(event.revenue.currency)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=f"{where}.revenue.currency") from exc
    try:
        amount_micros(event.revenue.amount)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=f"{where}.revenue.amount") from exc


def field_of(error: msgspec.ValidationError) -> str:
    """The JSON path msgspec names: "... - at `$.events[0].url`", and for a missing field
    "Object missing required field `url` - at `$.events[0]`" gives `$.events[0].url`."""
    message = str(error)
    path = "$"
    if " - at `" in message:
        message, _, tail = message.rpartition(" - at `")
        path = tail.rstrip("`")
    missing = re.search(r"missing required field `([^`]+)`", message)
    if missing:
        path = f"{path}.{missing.group(1)}"
    return path
