"""The parsers and caches every step that looks at a beacon shares: bots, user agents, GeoIP,
page URLs, referrers, languages.

Every lookup a busy site repeats is cached, which is what makes enrichment cost microseconds per
event instead of tens: what a user agent says (bot or not, browser, OS, device) is one lookup
keyed by the whole user agent, a referrer's spam verdict one keyed by the referrer. Nothing here
does I/O after start-up (the GeoIP database is memory-mapped).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from traytic.consumer.enrich.bots import BotDetector, BotReason
from traytic.consumer.enrich.geo import GeoLocator, Location
from traytic.consumer.enrich.referrers import Referral, attribute_referral
from traytic.consumer.enrich.urls import PageUrl, parse_page_url, primary_language, screen_class
from traytic.consumer.enrich.useragent import UNKNOWN, UserAgentInfo, UserAgentParser
from traytic.core.events import Pageview, ReceivedBeacon

NO_REFERRAL = Referral("", "", "", False)
AGENT_CACHE_SIZE = 20_000
REFERRER_CACHE_SIZE = 65_536


def _external_referral(referrer: str, hostname: str, utm_source: str, utm_medium: str) -> Referral:
    referral = attribute_referral(referrer, hostname, utm_source, utm_medium)
    return NO_REFERRAL if referral.internal else referral


_page_url = lru_cache(maxsize=65_536)(parse_page_url)
_referral = lru_cache(maxsize=65_536)(_external_referral)
_language = lru_cache(maxsize=4_096)(primary_language)


class Agent(NamedTuple):
    """Everything a user agent alone says."""

    bot: BotReason | None
    """Why its beacons are dropped, when they are: a bot's UA is not parsed further."""
    info: UserAgentInfo


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
        self.agent = lru_cache(maxsize=AGENT_CACHE_SIZE)(self._agent)
        self._referrer_spam = lru_cache(maxsize=REFERRER_CACHE_SIZE)(self.bots.is_referrer_spam)

    def _agent(self, user_agent: str) -> Agent:
        bot = self.bots.check_user_agent_uncached(user_agent)
        if bot is not None:
            return Agent(bot, UNKNOWN)
        return Agent(None, self.user_agents.parse_uncached(user_agent))

    def bot_reason(self, beacon: ReceivedBeacon) -> BotReason | None:
        """Why to drop this beacon (its UA, or the spam its first referrer is); None keeps it."""
        reason = self.agent(beacon.user_agent).bot
        if reason is None:
            referrer = first_referrer(beacon)
            if referrer and self._referrer_spam(referrer):
                return "referrer_spam"
        return reason

    def user_agent(self, user_agent: str) -> UserAgentInfo:
        return self.agent(user_agent).info

    def location(self, ip: str) -> Location:
        return self.geo.locate(ip)

    # The cached functions themselves, not methods calling them: rows.py calls them per event.
    language = staticmethod(_language)
    screen = staticmethod(screen_class)
    page = staticmethod(_page_url)

    external_referral = staticmethod(_referral)
    """(referrer, page hostname, utm_source, utm_medium) → the referral of a pageview; a
    same-site referrer is no referral (a navigation)."""

    @staticmethod
    def referral(referrer: str, page: PageUrl) -> Referral:
        """The referral of a pageview on `page` (see `external_referral`)."""
        return _referral(referrer, page.hostname, page.utm_source, page.utm_medium)
