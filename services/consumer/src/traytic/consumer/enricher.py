"""Beacon → warehouse rows: the pure step between decoding and inserting.

Every lookup a busy site repeats (user agents, bot checks, GeoIP, page URLs, referrers) is cached,
which is what makes enrichment cost microseconds per event instead of tens.
"""

from __future__ import annotations

from functools import lru_cache

from traytic.consumer.enrich.bots import BotDetector, BotReason
from traytic.consumer.enrich.geo import GeoLocator
from traytic.consumer.enrich.referrers import Referral, attribute_referral
from traytic.consumer.enrich.urls import PageUrl, parse_page_url, primary_language, screen_class
from traytic.consumer.enrich.useragent import UserAgentParser
from traytic.consumer.enrich.visitor import event_id
from traytic.core.events import CustomEvent, ErrorEvent, Pageview, PropValue, ReceivedBeacon, Vital
from traytic.core.revenue import amount_micros
from traytic.warehouse.rows import EventRow

MAX_ERROR_MESSAGE = 1024
_NO_REFERRAL = Referral("", "", "", False)

_page_url = lru_cache(maxsize=65_536)(parse_page_url)
_referral = lru_cache(maxsize=65_536)(attribute_referral)
_language = lru_cache(maxsize=4_096)(primary_language)


def _prop_text(value: PropValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def first_referrer(beacon: ReceivedBeacon) -> str:
    for event in beacon.events:
        if isinstance(event, Pageview) and event.referrer:
            return event.referrer
    return ""


class Enricher:
    """Holds the parsers and their caches; `rows()` itself has no side effects."""

    def __init__(self, geoip_path: str | None = None) -> None:
        self.user_agents = UserAgentParser()
        self.bots = BotDetector()
        self.geo = GeoLocator(geoip_path)

    def bot_reason(self, beacon: ReceivedBeacon) -> BotReason | None:
        return self.bots.check(beacon.user_agent, first_referrer(beacon))

    def rows(
        self,
        batch_id: str,
        beacon_index: int,
        beacon: ReceivedBeacon,
        visitor_id: int,
        session_id: int,
    ) -> list[EventRow]:
        ua = self.user_agents.parse(beacon.user_agent)
        where = self.geo.locate(beacon.ip)
        language = _language(beacon.accept_language)
        screen = screen_class(beacon.screen)
        ts = int(beacon.received_at)
        rows = []
        for index, event in enumerate(beacon.events):
            page: PageUrl = _page_url(event.url)
            referral = _NO_REFERRAL
            name = ""
            value = 0.0
            keys: list[str] = []
            values: list[str] = []
            revenue_micros, revenue_currency = 0, ""
            if isinstance(event, Pageview):
                referral = _referral(
                    event.referrer or "", page.hostname, page.utm_source, page.utm_medium
                )
                if referral.internal:
                    referral = _NO_REFERRAL
            elif isinstance(event, CustomEvent):
                name = event.name
                keys = list(event.props)
                values = [_prop_text(v) for v in event.props.values()]
                if event.revenue is not None:
                    # The gateway checked both, so neither raises here.
                    revenue_micros = amount_micros(event.revenue.amount)
                    revenue_currency = event.revenue.currency.upper()
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
                    visitor_id=visitor_id,
                    session_id=session_id,
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
                    revenue_micros=revenue_micros,
                    revenue_currency=revenue_currency,
                )
            )
        return rows
