"""Which address is the client: untrusted peers cannot choose their IP with a header."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from traytic.http.client_ip import ClientIpResolver


def test_untrusted_peer_header_is_ignored() -> None:
    resolver = ClientIpResolver(["10.0.0.0/8"])
    assert resolver.resolve("203.0.113.9", "1.2.3.4") == "203.0.113.9"


def test_no_trusted_proxies_means_socket_peer() -> None:
    assert ClientIpResolver([]).resolve("192.0.2.1", "1.2.3.4") == "192.0.2.1"


def test_chain_of_trusted_proxies() -> None:
    resolver = ClientIpResolver(["10.0.0.0/8", "2001:db8::/32"])
    assert resolver.resolve("10.1.1.1", "198.51.100.5, 10.2.2.2, 2001:db8::7") == "198.51.100.5"
    assert resolver.resolve("10.1.1.1", "10.3.3.3") == "10.3.3.3"  # only proxies: the farthest


def test_ports_brackets_and_mapped_addresses() -> None:
    resolver = ClientIpResolver(["10.0.0.0/8"])
    assert resolver.resolve("10.0.0.1", "198.51.100.5:4242") == "198.51.100.5"
    assert resolver.resolve("10.0.0.1", "[2001:db8::1]:443") == "2001:db8::1"
    assert resolver.resolve("::ffff:192.0.2.4", None) == "192.0.2.4"
    assert resolver.resolve("testclient", None) == ""


@given(peer=st.ip_addresses(), header=st.one_of(st.none(), st.text(max_size=200)))
def test_never_raises_and_returns_an_ip_or_nothing(peer: object, header: str | None) -> None:
    import ipaddress

    result = ClientIpResolver(["0.0.0.0/0", "::/0"]).resolve(str(peer), header)
    if result:
        ipaddress.ip_address(result)
