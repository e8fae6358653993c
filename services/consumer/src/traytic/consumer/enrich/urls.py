"""Page URL → hostname, pathname and UTM parameters; viewport width → screen class;
Accept-Language → primary language.

Hostname: lowercase, without port, trailing dot or a leading `www.` (like Plausible: `www.x.com`
and `x.com` are one site). Pathname: percent-decoded (invalid UTF-8 becomes U+FFFD), starts with
`/`, runs of `/` collapsed, no trailing slash except for the root, cut to `MAX_PATH_LENGTH`.
The query string is dropped except the five `utm_*` parameters (keys matched case-insensitively,
first occurrence wins, values stripped and cut to `MAX_UTM_LENGTH`); the fragment is dropped.

Screen classes use Plausible's breakpoints on the viewport width in CSS pixels:
`mobile` < 576 ≤ `tablet` < 992 ≤ `laptop` < 1440 ≤ `desktop`; unknown or 0 → "".
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

MAX_URL_LENGTH = 8192
MAX_HOSTNAME_LENGTH = 253
MAX_PATH_LENGTH = 1024
MAX_UTM_LENGTH = 256
MAX_LANGUAGE_LENGTH = 35
"""Longest language tag worth keeping (RFC 5646 suggests 35 characters suffice in practice)."""

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

_SLASHES = re.compile(r"/{2,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PageUrl(NamedTuple):
    hostname: str
    pathname: str
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""


def normalise_hostname(host: str) -> str:
    """Lowercase, no trailing dot, no leading `www.`; `host` must already be without port."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host[:MAX_HOSTNAME_LENGTH]


def normalise_pathname(path: str) -> str:
    """Decode, collapse slashes, drop the trailing slash (except `/`), cut to the max length."""
    path = _CONTROL.sub("", unquote(path, errors="replace")).strip()
    path = _SLASHES.sub("/", "/" + path.lstrip("/"))
    path = path[:MAX_PATH_LENGTH]
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path


def _utm(query: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        name = key.strip().lower()
        if name in UTM_KEYS and name not in found:
            found[name] = _CONTROL.sub("", value).strip()[:MAX_UTM_LENGTH]
    return found


def parse_page_url(url: str) -> PageUrl:
    """Split a page URL into the columns we keep; never raises (garbage gives empty parts)."""
    url = url.strip()[:MAX_URL_LENGTH]
    try:
        parts = urlsplit(url)
        hostname = parts.hostname or ""
    except ValueError:  # e.g. an unbalanced IPv6 bracket in the authority
        return PageUrl("", "/")
    return PageUrl(
        normalise_hostname(hostname), normalise_pathname(parts.path), **_utm(parts.query)
    )


def screen_class(width: int | None) -> str:
    """`mobile`, `tablet`, `laptop` or `desktop` from the viewport width; "" when unknown."""
    if width is None or width <= 0:
        return ""
    if width < 576:
        return "mobile"
    if width < 992:
        return "tablet"
    if width < 1440:
        return "laptop"
    return "desktop"


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def _canonical_tag(tag: str) -> str:
    """BCP 47 case conventions: `en-US`, `zh-Hant-TW`, `es-419`."""
    first, *rest = tag.split("-")
    out = [first.lower()]
    for sub in rest:
        if len(sub) == 2 and sub.isalpha():
            out.append(sub.upper())
        elif len(sub) == 4 and sub.isalpha():
            out.append(sub.title())
        else:
            out.append(sub.lower())
    return "-".join(out)


def primary_language(accept_language: str) -> str:
    """The most preferred language tag of an Accept-Language header, or "" when there is none.

    Highest q-value wins, ties go to the earlier entry; `*`, q=0 and malformed entries are
    skipped.
    """
    best, best_q = "", 0.0
    for entry in accept_language[:MAX_URL_LENGTH].split(","):
        tag, _, params = entry.partition(";")
        tag = tag.strip()
        if not _LANGUAGE_TAG.fullmatch(tag):
            continue
        q = 1.0
        params = params.strip()
        if params:
            name, _, value = params.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                q = float(value.strip())
            except ValueError:
                continue
            if not 0.0 <= q <= 1.0:
                continue
        if q > best_q:
            best, best_q = tag, q
    return _canonical_tag(best)[:MAX_LANGUAGE_LENGTH] if best else ""
