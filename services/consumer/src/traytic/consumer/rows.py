"""Rows: identified beacons → warehouse rows and the visits they touch; pure, no I/O.

Each event becomes one `EventRow` with what its beacon says about the person (place, device,
language, screen: looked up once per beacon, cached by the `Enricher`) and what the event says
itself (page, referrer, UTM, name, props, value). Event ids come from the message's batch id and
the event's position, so a redelivered message builds the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from traytic.consumer.enrich.visitor import UINT64, beacon_base
from traytic.consumer.enricher import Enricher
from traytic.consumer.identify import Identified
from traytic.core.events import CustomEvent, Engagement, ErrorEvent, Pageview, PropValue, Vital
from traytic.core.revenue import amount_micros
from traytic.warehouse.rows import ENGAGEMENT, EventRow

MAX_ERROR_MESSAGE = 1024
MAX_ERROR_SOURCE = 1024


class Built(NamedTuple):
    rows: list[EventRow]
    visits: dict[tuple[str, int], int]
    """The visits the rows belong to: (site id, session id) → start (unix seconds)."""
    owned: set[tuple[str, int]] = set()
    """Those of them this replica owns (every beacon of theirs here says so)."""
    new: set[tuple[str, int]] = set()
    """Those of them that started in this batch."""


def _prop_text(value: PropValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_NO_PROPS: list[str] = []
"""The props of every row without any: one list for all (nothing changes a row's lists)."""


def build_rows(identified: Sequence[Identified], enricher: Enricher) -> Built:
    rows: list[EventRow] = []
    append = rows.append
    visits: dict[tuple[str, int], int] = {}
    foreign: set[tuple[str, int]] = set()
    new: set[tuple[str, int]] = set()
    page_of = enricher.page
    referral_of = enricher.external_referral
    no_referral = enricher.no_referral
    agent_of = enricher.agent
    location_of = enricher.geo.locate
    language_of = enricher.language
    screen_of = enricher.screen
    no_props = _NO_PROPS
    for batch_id, beacon_index, beacon, visitor, session, started_at, mine, fresh in identified:
        site_id = beacon.site_id
        key = (site_id, session)
        visits[key] = started_at
        if not mine:
            foreign.add(key)
        elif fresh:
            new.add(key)
        ua = agent_of(beacon.user_agent).info
        where = location_of(beacon.ip)
        language = language_of(beacon.accept_language)
        screen = screen_of(beacon.screen)
        ts = int(beacon.received_at)
        base = beacon_base(batch_id, beacon_index)
        index = -1
        for event in beacon.events:
            index += 1
            page = page_of(event.url)
            name = ""
            value = 0.0
            keys = values = no_props
            revenue_micros, revenue_currency = 0, ""
            engaged_ms = scroll_depth = 0
            error_source = ""
            if type(event) is Pageview:  # most events: no other field to read
                kind = "pageview"
                referral = referral_of(
                    event.referrer or "", page.hostname, page.utm_source, page.utm_medium
                )
            else:
                kind = event.__struct_config__.tag  # type: ignore[assignment]
                referral = no_referral
                if isinstance(event, CustomEvent):
                    name = event.name
                    if event.props:
                        keys = list(event.props)
                        values = [_prop_text(v) for v in event.props.values()]
                    if event.revenue is not None:
                        # Stored as sent; the gateway checked both, so neither raises here.
                        revenue_micros = amount_micros(event.revenue.amount)
                        revenue_currency = event.revenue.currency.upper()
                elif isinstance(event, Vital):
                    name = event.name
                    value = event.value
                elif isinstance(event, ErrorEvent):
                    name = event.message[:MAX_ERROR_MESSAGE]
                    error_source = (event.source or "")[:MAX_ERROR_SOURCE]
                elif isinstance(event, Engagement):
                    # A vital-like measurement of the page (see migration 0015).
                    kind, name = "vital", ENGAGEMENT
                    engaged_ms = event.engaged_ms
                    scroll_depth = event.scroll_depth
            # Positional, in column order (see EventRow): the hot loop of the consumer.
            append(
                EventRow(
                    site_id,
                    ts,
                    kind,
                    name,
                    (base + index) & UINT64,  # event_id(batch_id, beacon_index, index)
                    visitor,
                    session,
                    page.hostname,
                    page.pathname,
                    referral.referrer,
                    referral.source,
                    referral.channel,
                    page.utm_source,
                    page.utm_medium,
                    page.utm_campaign,
                    page.utm_term,
                    page.utm_content,
                    where.country,
                    where.region,
                    where.city,
                    ua.browser,
                    ua.browser_version,
                    ua.os,
                    ua.os_version,
                    ua.device,
                    screen,
                    language,
                    keys,
                    values,
                    value,
                    revenue_micros,
                    revenue_currency,
                    engaged_ms,
                    scroll_depth,
                    error_source,
                )
            )
    owned = visits.keys() - foreign
    return Built(rows, visits, owned, new & owned)
