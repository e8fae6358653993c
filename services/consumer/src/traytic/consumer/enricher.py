"""The parsers and caches every step that looks at a beacon shares: bots, user agents, GeoIP,
page URLs, referrers, languages.

Every lookup a busy site repeats is cached, which is what makes enrichment cost microseconds per
event instead of tens. Nothing here does I/O after start-up (the GeoIP database is memory-mapped).
"""

from __future__ import annotations

from functools import lru_cache

from traytic.consumer.enrich.bots import BotDetector, BotReason
from traytic.consumer.enrich.geo import GeoLocator, Location
from traytic.consumer.enrich.referrers import Referral, attribute_referral
from traytic.consumer.enrich.urls import PageUrl, parse_page_url, primary_language, screen_class
from traytic.consumer.enrich.useragent import UserAgentInfo, UserAgentParser
from traytic.core.events import Pageview, ReceivedBeacon

NO_REFERRAL = Referral("", "", "", False)

_page_url = lru_cache(maxsize=65_536)(parse_page_url)
_referral = lru_cache(maxsize=65_536)(attribute_referral)
_language = lru_cache(maxsize=4_096)(primary_language)


def first_referrer(beacon: ReceivedBeacon) -> str:
    for event in beacon.events:
        if isinstance(event, Pageview) and event.referrer:
            return event.referrer
    return ""


class Enricher:
    """Holds the parsers and their caches; each lookup is a pure function of its input."""

    no_referral = NO_REFERRAL

    def __init__(self, geoip_path: str | None = None) -> None:
        self.user_agents = UserAgentParser()
        self.bots = BotDetector()
        self.geo = GeoLocator(geoip_path)

    def bot_reason(self, beacon: ReceivedBeacon) -> BotReason | None:
        return self.bots.check(beacon.user_agent, first_referrer(beacon))

    def user_agent(self, user_agent: str) -> UserAgentInfo:
        return self.user_agents.parse(user_agent)

    def location(self, ip: str) -> Location:
        return self.geo.locate(ip)

    @staticmethod
    def language(accept_language: str) -> str:
        return _language(accept_language)

    @staticmethod
    def screen(width: int | None) -> str:
        return screen_class(width)

    @staticmethod
    def page(url: str) -> PageUrl:
        return _page_url(url)

    @staticmethod
    def referral(referrer: str, page: PageUrl) -> Referral:
        """The referral of a pageview; a same-site referrer is no referral (a navigation)."""
        referral = _referral(referrer, page.hostname, page.utm_source, page.utm_medium)
        return NO_REFERRAL if referral.internal else referral
