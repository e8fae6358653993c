"""Which pages may send beacons for a site: its domain and subdomains, its allowed hostnames,
and local development hosts only when the site opted in.

A site id is public (it is in every page's snippet), so without this anyone could spend a
site's quota from their own pages. `page_hostname()` reads the host out of an event's URL the
way the consumer's `urlsplit` does, and a `SitePolicy` remembers its verdict per host, so the
hot path is a regex match and a dict lookup.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from traytic.core.sites import SiteRecord

_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")
"""`scheme://authority`: what a browser's `location.href` starts with."""

_MAX_VERDICTS = 1024
"""Hosts remembered per site; a site sees a handful, an attacker's random hosts stop here."""


def page_hostname(url: str) -> str:
    """The URL's host, lowercase, without user info, port, brackets or a trailing dot; "" when
    the URL has no authority or the host is not plain ASCII (a browser sends punycode)."""
    return _host(_AUTHORITY.match(url))


def _host(match: re.Match[str] | None) -> str:
    if match is None:
        return ""
    authority = match.group(1)
    at = authority.rfind("@")
    if at != -1:
        authority = authority[at + 1 :]
    if authority.startswith("["):
        close = authority.find("]")
        host = authority[1:close] if close != -1 else ""
        try:
            ipaddress.IPv6Address(host)  # as urlsplit does: brackets hold an IPv6 address
        except ValueError:
            return ""
    elif "[" in authority or "]" in authority:
        return ""  # urlsplit refuses an unbalanced bracket
    else:
        host = authority.partition(":")[0]
    if not host.isascii() or not host.isprintable() or " " in host:
        return ""
    return host.lower().rstrip(".")


def is_local_host(host: str) -> bool:
    """`localhost`, `*.localhost` (RFC 6761), loopback and unspecified addresses."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if not host or not (host[0].isdigit() or ":" in host):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class SitePolicy:
    """A site's rules as the gateway applies them to every event."""

    __slots__ = (
        "_exact",
        "_last_prefix",
        "_last_same",
        "_suffixes",
        "_verdicts",
        "allow_localhost",
        "filter_datacenter",
    )

    def __init__(
        self,
        domain: str,
        allowed_hostnames: Iterable[str] = (),
        *,
        allow_localhost: bool = False,
        filter_datacenter: bool = True,
    ) -> None:
        exact: set[str] = set()
        suffixes: set[str] = set()
        domain = domain.lower().rstrip(".")
        # `www.example.com` and `example.com` are one site (as the consumer counts them).
        for base in {domain, domain.removeprefix("www.")}:
            if base:
                exact.add(base)
                suffixes.add("." + base)
        for allowed in allowed_hostnames:
            entry = allowed.lower().rstrip(".")
            if entry.startswith("*."):
                suffixes.add(entry[1:])
            elif entry:
                exact.add(entry)
        self._exact = frozenset(exact)
        self._suffixes = tuple(sorted(suffixes))
        self._verdicts: dict[str, bool] = {}
        # The last page origin (`scheme://authority`) judged and its verdict: a site's beacons
        # mostly come from one origin, which then costs a prefix test instead of a parse.
        self._last_prefix = ""
        self._last_same = False
        # A site whose domain is itself local (the `traytic dev` demo) wants local pages.
        self.allow_localhost = allow_localhost or is_local_host(domain)
        self.filter_datacenter = filter_datacenter

    @classmethod
    def of(cls, record: SiteRecord) -> SitePolicy:
        return cls(
            record.domain,
            record.allowed_hostnames,
            allow_localhost=record.allow_localhost,
            filter_datacenter=record.filter_datacenter,
        )

    @classmethod
    def accept_all(cls) -> SitePolicy:
        """For a record the gateway cannot read: never drop a real site's beacons over it."""
        policy = cls("", filter_datacenter=False)
        policy._suffixes = ("",)  # every host ends with ""
        policy.allow_localhost = True
        return policy

    def allows(self, host: str) -> bool:
        verdict = self._verdicts.get(host)
        if verdict is None:
            verdict = self._decide(host)
            if len(self._verdicts) < _MAX_VERDICTS:
                self._verdicts[host] = verdict
        return verdict

    def _decide(self, host: str) -> bool:
        if is_local_host(host):
            return self.allow_localhost or host in self._exact
        if not host:
            return False
        return host in self._exact or host.endswith(self._suffixes)

    def foreign_events(self, urls: Iterable[str]) -> list[int]:
        """Indexes of the events (given by URL) whose page this site does not accept."""
        foreign: list[int] = []
        prefix = self._last_prefix
        same = self._last_same
        for index, url in enumerate(urls):
            # Events of one beacon (and most beacons of a site) share their page's origin:
            # skip re-parsing it.
            if prefix and url.startswith(prefix) and url[len(prefix) : len(prefix) + 1] in _ENDS:
                if not same:
                    foreign.append(index)
                continue
            match = _AUTHORITY.match(url)
            prefix = match.group(0) if match is not None else ""
            same = self.allows(_host(match))
            if not same:
                foreign.append(index)
        self._last_prefix = prefix
        self._last_same = same
        return foreign


_ENDS = ("", "/", "?", "#")
