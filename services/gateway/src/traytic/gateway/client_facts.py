"""What the gateway needs to know about a client address, learnt once per address: whether the
per-address rate limit applies to it, and whether it is a server (a hosting network).

Addresses in `exempt` (by default loopback and private networks) are not limited per address:
they are your own machines, or a proxy that is missing from `TRAYTIC_TRUSTED_PROXIES`, behind
which every visitor would share one address and one limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from traytic.gateway.datacenter import DatacenterRanges
from traytic.http.client_ip import parse_networks

_MAX_REMEMBERED = 65_536
"""Addresses remembered; past this the memory starts over (learning one costs a few µs)."""

UNKNOWN_CLIENT = (False, False)


class ClientFacts:
    """`of(address)` → `(rate_limited, datacenter)`, one dict lookup for a known address."""

    __slots__ = ("_datacenter", "_exempt", "_known")

    def __init__(self, exempt: Iterable[str], datacenter: DatacenterRanges | None) -> None:
        self._exempt = parse_networks(exempt)
        self._datacenter = datacenter
        self._known: dict[str, tuple[bool, bool]] = {}

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
