"""Rows: identified beacons → warehouse rows and the visits they touch; pure, no I/O.

Each event becomes one `EventRow` with what its beacon says about the person (place, device,
language, screen: looked up once per beacon, cached by the `Enricher`) and what the event says
itself (page, referrer, UTM, name, props, value). Event ids come from the message's batch id and
the event's position, so a redelivered message builds the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from traytic.consumer.enrich.visitor import event_id
from traytic.consumer.enricher import Enricher
from traytic.consumer.identify import Identified
from traytic.core.events import CustomEvent, ErrorEvent, Pageview, PropValue, Vital
from traytic.warehouse.rows import EventRow

MAX_ERROR_MESSAGE = 1024


class Built(NamedTuple):
    rows: list[EventRow]
    visits: dict[tuple[str, int], int]
    """The visits the rows belong to: (site id, session id) → start (unix seconds)."""


def _prop_text(value: PropValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_rows(identified: Sequence[Identified], enricher: Enricher) -> Built:
    rows: list[EventRow] = []
    visits: dict[tuple[str, int], int] = {}
    for batch_id, beacon_index, beacon, visitor, session, started_at in identified:
        visits[(beacon.site_id, session)] = started_at
        ua = enricher.user_agent(beacon.user_agent)
        where = enricher.location(beacon.ip)
        language = enricher.language(beacon.accept_language)
        screen = enricher.screen(beacon.screen)
        ts = int(beacon.received_at)
        for index, event in enumerate(beacon.events):
            page = enricher.page(event.url)
            referral = enricher.no_referral
            name = ""
            value = 0.0
            keys: list[str] = []
            values: list[str] = []
            if isinstance(event, Pageview):
                referral = enricher.referral(event.referrer or "", page)
            elif isinstance(event, CustomEvent):
                name = event.name
                keys = list(event.props)
                values = [_prop_text(v) for v in event.props.values()]
            elif isinstance(event, Vital):
                name = event.name
                value = event.value
            elif isinstance(event, ErrorEvent):
                name = event.message[:MAX_ERROR_MESSAGE]
            rows.append(
                EventRow(
                    site_id=beacon.site_id,
                    ts=ts,
                    type=event.__struct_config__.tag,  # type: ignore[arg-type]
                    name=name,
                    event_id=event_id(batch_id, beacon_index, index),
                    visitor_id=visitor,
                    session_id=session,
                    hostname=page.hostname,
                    pathname=page.pathname,
                    referrer=referral.referrer,
                    referrer_source=referral.source,
                    channel=referral.channel,
                    utm_source=page.utm_source,
                    utm_medium=page.utm_medium,
                    utm_campaign=page.utm_campaign,
                    utm_term=page.utm_term,
                    utm_content=page.utm_content,
                    country=where.country,
                    region=where.region,
                    city=where.city,
                    browser=ua.browser,
                    browser_version=ua.browser_version,
                    os=ua.os,
                    os_version=ua.os_version,
                    device=ua.device,
                    screen=screen,
                    language=language,
                    props_key=keys,
                    props_value=values,
                    value=value,
                )
            )
    return Built(rows, visits)
