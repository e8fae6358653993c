"""The client's IP: the socket peer, or `X-Forwarded-For` when the peer is a trusted proxy.

One rule for every HTTP service, set by one variable (`TRAYTIC_TRUSTED_PROXIES`): the gateway
uses it for the country and visitor hash of beacons, the query service for its login and rate
limits and its stream caps. Only a configured proxy may speak for the client: anyone else could
forge the header and pick the address their requests count against.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.9:51234"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class ClientIpResolver:
    """Resolves client addresses behind the configured trusted proxies (CIDRs or addresses)."""

    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted = parse_networks(trusted_proxies)

    def _is_trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in self._trusted)

    def resolve(self, peer: str | None, forwarded_for: str | None) -> str:
        """Walk `X-Forwarded-For` from the right past trusted proxies; the first hop that is not
        a trusted proxy is the client. Returns "" when nothing usable is known."""
        if not peer:
            return ""
        if not forwarded_for or not self._trusted:
            # The hot path: the server's socket peer is already an address; parsing it with
            # `ipaddress` cost more than the rest of the request's validation.
            if peer.startswith("::ffff:") and "." in peer:
                return peer[7:]
            return peer if peer[0].isdigit() or ":" in peer else ""
        peer_ip = _parse_ip(peer)
        if peer_ip is None:
            return ""
        if not self._is_trusted(peer_ip):
            return str(peer_ip)
        client = peer_ip
        for hop in reversed(forwarded_for.split(",")):
            hop_ip = _parse_ip(hop)
            if hop_ip is None:
                break
            client = hop_ip
            if not self._is_trusted(hop_ip):
                break
        return str(client)
