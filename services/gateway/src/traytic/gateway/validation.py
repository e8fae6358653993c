"""Limits a decoded beacon must respect beyond its types: sizes that keep one site's beacons from
bloating the stream or the warehouse. Each failure names the field, like msgspec's own errors."""

from __future__ import annotations

import re

import msgspec

from traytic.core.errors import InvalidInput
from traytic.core.events import Beacon, CustomEvent, ErrorEvent, Pageview
from traytic.core.revenue import amount_micros, normalise_currency
from traytic.gateway.settings import GatewaySettings


def check_limits(beacon: Beacon, settings: GatewaySettings) -> None:
    if len(beacon.events) > settings.max_events:
        raise InvalidInput(f"at most {settings.max_events} events per beacon", field="$.events")
    for index, event in enumerate(beacon.events):
        where = f"$.events[{index}]"
        if len(event.url) > settings.max_url_length:
            raise InvalidInput(
                f"url longer than {settings.max_url_length} characters", field=f"{where}.url"
            )
        if isinstance(event, CustomEvent):
            _check_custom_event(event, where, settings)
        elif isinstance(event, ErrorEvent):
            if len(event.message) > settings.max_error_message_length:
                raise InvalidInput(
                    f"message longer than {settings.max_error_message_length} characters",
                    field=f"{where}.message",
                )
        elif (
            isinstance(event, Pageview)
            and event.referrer
            and len(event.referrer) > settings.max_url_length
        ):
            raise InvalidInput(
                f"referrer longer than {settings.max_url_length} characters",
                field=f"{where}.referrer",
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
        if isinstance(value, str) and len(value) > settings.max_prop_value_length:
            raise InvalidInput(
                f"prop values must be at most {settings.max_prop_value_length} characters",
                field=f"{where}.props.{key}",
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
