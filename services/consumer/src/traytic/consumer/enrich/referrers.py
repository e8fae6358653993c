"""Referrer + UTM → (cleaned referrer, source name, channel), like Plausible's and GA4's
default channel grouping.

The referrer loses its query string, fragment and any `user:password@`; only `http`, `https`
and `android-app` referrers count (`about:blank`, extensions, files are treated as none).
A same-site referrer (the page's host, `www.` or not) is internal: no referrer, no source, channel
`Direct` (as Plausible does) and `internal=True`, so the pipeline can tell a navigation inside
the site from a real direct visit. `utm_source` names the source when given (mapped to a known
name when it is one: `utm_source=chatgpt.com` → `ChatGPT`); else the known name of the referrer
host (`sources.py`), else the host itself.

Channel rules, first match wins (kind = the source's kind from `sources.py`):

| rule                                                                  | channel          |
|-----------------------------------------------------------------------|------------------|
| utm_medium paid-like (`cpc`, `ppc`, `cpm`, `paid*`...) and kind search | `Paid Search`   |
| … and kind social                                                     | `Paid Social`    |
| … and kind video                                                      | `Paid Video`     |
| … otherwise                                                           | `Paid Other`     |
| kind email, or utm_medium/utm_source `email`, `e-mail`, `newsletter`  | `Email`          |
| kind ai (ChatGPT, Perplexity, Claude, Gemini, Copilot...)             | `AI`             |
| kind search, or utm_medium `organic`                                  | `Organic Search` |
| kind social, or utm_medium `social`, `social-media`, `sm`...          | `Organic Social` |
| kind video, or utm_medium `video`                                     | `Organic Video`  |
| any other external referrer or utm_source                             | `Referral`       |
| nothing                                                               | `Direct`         |

`AI` is its own channel (GA4 has none yet) because assistant traffic grows fast and behaves
neither like search nor like a referral.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from traytic.consumer.enrich.sources import (
    SEARCH_BRANDS,
    SOURCES_BY_HOST,
    SOURCES_BY_NAME,
    Source,
)
from traytic.consumer.enrich.urls import MAX_URL_LENGTH, normalise_hostname

MAX_REFERRER_LENGTH = 1024
MAX_SOURCE_LENGTH = 256

DIRECT = "Direct"
REFERRAL = "Referral"
ORGANIC_SEARCH = "Organic Search"
ORGANIC_SOCIAL = "Organic Social"
ORGANIC_VIDEO = "Organic Video"
EMAIL = "Email"
AI = "AI"
PAID_SEARCH = "Paid Search"
PAID_SOCIAL = "Paid Social"
PAID_VIDEO = "Paid Video"
PAID_OTHER = "Paid Other"

CHANNELS = (
    DIRECT,
    REFERRAL,
    ORGANIC_SEARCH,
    ORGANIC_SOCIAL,
    ORGANIC_VIDEO,
    EMAIL,
    AI,
    PAID_SEARCH,
    PAID_SOCIAL,
    PAID_VIDEO,
    PAID_OTHER,
)

_SCHEMES = frozenset({"http", "https", "android-app"})
_PAID_MEDIUM = re.compile(r".*cp.*|ppc|retargeting|paid.*")
_EMAIL_WORDS = frozenset({"email", "e-mail", "e_mail", "e mail", "mail", "newsletter"})
_SOCIAL_MEDIUMS = frozenset(
    {"social", "social-network", "social-media", "social network", "social media", "sm"}
)
_PAID_CHANNELS = {"search": PAID_SEARCH, "social": PAID_SOCIAL, "video": PAID_VIDEO}
_ORGANIC_CHANNELS = {
    "email": EMAIL,
    "ai": AI,
    "search": ORGANIC_SEARCH,
    "social": ORGANIC_SOCIAL,
    "video": ORGANIC_VIDEO,
}


class Referral(NamedTuple):
    referrer: str
    """The referrer URL without query, fragment or credentials; "" when none or internal."""
    source: str
    channel: str
    internal: bool = False


class CleanReferrer(NamedTuple):
    url: str
    host: str
    """Normalised host (lowercase, no `www.`) used for matching."""


def clean_referrer(referrer: str) -> CleanReferrer:
    """Strip a referrer to `scheme://host[:port]/path`; empty when it is not a usable URL."""
    try:
        parts = urlsplit(referrer.strip()[:MAX_URL_LENGTH])
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return CleanReferrer("", "")
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not host:
        return CleanReferrer("", "")
    authority = f"[{host}]" if ":" in host else host
    if port is not None:
        authority = f"{authority}:{port}"
    url = f"{scheme}://{authority}{parts.path or '/'}"[:MAX_REFERRER_LENGTH]
    return CleanReferrer(url, normalise_hostname(host))


@functools.lru_cache(maxsize=4096)
def lookup_host(host: str) -> Source | None:
    """The known source of a normalised host, trying the host, then its parent domains, then
    search-engine brands on country domains."""
    candidate = host
    while candidate:
        if (source := SOURCES_BY_HOST.get(candidate)) is not None:
            return source
        _, _, candidate = candidate.partition(".")
    labels = host.split(".")
    for index, label in enumerate(labels):
        tail = labels[index + 1 :]
        if label in SEARCH_BRANDS and 1 <= len(tail) <= 2 and all(len(t) <= 3 for t in tail):
            return SEARCH_BRANDS[label]
    return None


def lookup_utm_source(utm_source: str) -> Source | None:
    """The known source a `utm_source` value names (`google`, `fb`, `chatgpt.com`...)."""
    value = utm_source.strip().lower()
    return SOURCES_BY_NAME.get(value) or lookup_host(normalise_hostname(value))


def _channel(kind: str | None, medium: str, utm_source: str, has_origin: bool) -> str:
    if medium and _PAID_MEDIUM.fullmatch(medium):
        return _PAID_CHANNELS.get(kind or "", PAID_OTHER)
    if medium in _EMAIL_WORDS or utm_source in _EMAIL_WORDS:
        return EMAIL
    if kind is not None:
        return _ORGANIC_CHANNELS[kind]
    if medium == "organic":
        return ORGANIC_SEARCH
    if medium in _SOCIAL_MEDIUMS:
        return ORGANIC_SOCIAL
    if medium == "video":
        return ORGANIC_VIDEO
    return REFERRAL if has_origin else DIRECT


def attribute_referral(
    referrer: str, page_hostname: str, utm_source: str = "", utm_medium: str = ""
) -> Referral:
    """Where this visit came from: the cleaned referrer, the source name and the channel."""
    clean = clean_referrer(referrer) if referrer else CleanReferrer("", "")
    internal = bool(clean.host) and clean.host == normalise_hostname(page_hostname)
    if internal:
        clean = CleanReferrer("", "")
    utm = utm_source.strip()[:MAX_SOURCE_LENGTH]
    medium = utm_medium.strip().lower()
    referrer_source = lookup_host(clean.host) if clean.host else None
    utm_known = lookup_utm_source(utm) if utm else None
    if utm:
        source = utm_known.name if utm_known else utm
    elif referrer_source is not None:
        source = referrer_source.name
    else:
        source = clean.host
    known = utm_known or referrer_source
    channel = _channel(known.kind if known else None, medium, utm.lower(), has_origin=bool(source))
    return Referral(clean.url, source, channel, internal)
