"""What the gateway needs to know about a client, learnt once per address: the address itself
(the socket peer, or `X-Forwarded-For` behind a trusted proxy), whether the per-address rate
limit applies to it, and whether it is a server (a hosting network).

Addresses in `exempt` (by default loopback and private networks) are not limited per address:
they are your own machines, or a proxy that is missing from `TRAYTIC_TRUSTED_PROXIES`, behind
which every visitor would share one address and one limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from traytic.gateway.datacenter import DatacenterRanges
from traytic.http.client_ip import ClientIpResolver, parse_networks

_MAX_REMEMBERED = 65_536
"""Addresses remembered; past this the memory starts over (learning one costs a few µs)."""

UNKNOWN_CLIENT = (False, False)
NO_CLIENT = ("", False, False)
"""`of_request()` when no usable address is known: nothing to limit or judge by."""


class ClientFacts:
    """`of_request(peer, x_forwarded_for)` → `(address, rate_limited, datacenter)`: one dict
    lookup for a known peer that speaks for itself (no header, or no trusted proxies)."""

    __slots__ = ("_datacenter", "_exempt", "_ips", "_known", "_peers", "_trusting")

    def __init__(
        self,
        exempt: Iterable[str],
        datacenter: DatacenterRanges | None,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        self._exempt = parse_networks(exempt)
        self._datacenter = datacenter
        trusted = list(trusted_proxies)
        self._ips = ClientIpResolver(trusted)
        self._trusting = bool(trusted)
        self._known: dict[str, tuple[bool, bool]] = {}
        self._peers: dict[str, tuple[str, bool, bool]] = {}

    def of_request(self, peer: str | None, forwarded_for: bytes) -> tuple[str, bool, bool]:
        if not peer:
            return NO_CLIENT
        if forwarded_for and self._trusting:
            # A proxy may speak for many clients: resolve the header on every request.
            ip = self._ips.resolve(peer, forwarded_for.decode("latin-1"))
            return (ip, *self.of(ip)) if ip else NO_CLIENT
        facts = self._peers.get(peer)
        if facts is None:
            ip = self._ips.resolve(peer, None)
            facts = (ip, *self.of(ip)) if ip else NO_CLIENT
            if len(self._peers) >= _MAX_REMEMBERED:
                self._peers.clear()
            self._peers[peer] = facts
        return facts

    def of(self, address: str) -> tuple[bool, bool]:
        facts = self._known.get(address)
        if facts is None:
            facts = self._learn(address)
            if len(self._known) >= _MAX_REMEMBERED:
                self._known.clear()
            self._known[address] = facts
        return facts

    def _learn(self, address: str) -> tuple[bool, bool]:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:  # no usable address: nothing to limit or judge by
            return UNKNOWN_CLIENT
        limited = not any(parsed in network for network in self._exempt)
        server = self._datacenter is not None and address in self._datacenter
        return limited, server
