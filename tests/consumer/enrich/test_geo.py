"""GeoIP lookups against MaxMind's own test databases and the bundled iptocc table."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import iptocc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.data import MAXMIND

from traytic.consumer.enrich.geo import UNKNOWN, GeoLocator, Location

CITY_DB = MAXMIND / "GeoLite2-City-Test.mmdb"
COUNTRY_DB = MAXMIND / "GeoLite2-Country-Test.mmdb"


@pytest.fixture(scope="module")
def city() -> Iterator[GeoLocator]:
    locator = GeoLocator(CITY_DB, cache_size=1024)
    yield locator
    locator.close()


@pytest.fixture(scope="module")
def no_database() -> GeoLocator:
    return GeoLocator(None)


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("81.2.69.142", Location("GB", "ENG", "London")),
        ("2.125.160.216", Location("GB", "ENG", "Boxford")),
        ("89.160.20.112", Location("SE", "E", "Linköping")),
        ("216.160.83.56", Location("US", "WA", "Milton")),
        ("2001:218::1", Location("JP", "", "")),
        ("::ffff:81.2.69.142", Location("GB", "ENG", "London")),
    ],
)
def test_city_database_known_answers(city: GeoLocator, ip: str, expected: Location) -> None:
    assert city.locate(ip) == expected


def test_country_database_gives_country_only() -> None:
    locator = GeoLocator(COUNTRY_DB)
    assert locator.database_type == "GeoLite2-Country"
    assert locator.locate("2001:218::1") == Location("JP", "", "")
    assert locator.locate("81.2.69.142").region == ""
    locator.close()


def test_missing_record_falls_back_to_iptocc_country(city: GeoLocator) -> None:
    # 8.8.8.8 is not in the test database; Google's resolver is registered in the US.
    assert city.locate("8.8.8.8") == Location("US", "", "")


def _city_test_networks() -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Any]]:
    entries = json.loads((MAXMIND / "GeoLite2-City-Test.json").read_text("utf-8"))
    return [(ipaddress.ip_network(net), record) for e in entries for net, record in e.items()]


def test_agrees_with_the_database_source(city: GeoLocator) -> None:
    """Every network of MaxMind's JSON source resolves to its own country/subdivision/city."""
    networks = _city_test_networks()
    checked = 0
    for network, record in networks:
        address = network.network_address
        nested = any(
            other.version == network.version
            and other.prefixlen > network.prefixlen
            and address in other
            for other, _ in networks
        )
        if nested or not address.is_global or "country" not in record:
            continue
        subdivisions = record.get("subdivisions") or [{}]
        expected = Location(
            record["country"]["iso_code"],
            subdivisions[0].get("iso_code", ""),
            record.get("city", {}).get("names", {}).get("en", ""),
        )
        assert city.locate(str(address)) == expected, network
        checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    "ip",
    ["127.0.0.1", "10.0.0.1", "192.168.1.10", "172.16.0.1", "169.254.1.1", "::1", "fe80::1%eth0",
     "fc00::1", "0.0.0.0", "224.0.0.1", "", "not an ip", "999.1.1.1", "1.2.3"],
)  # fmt: skip
def test_private_and_invalid_addresses_are_unknown(
    city: GeoLocator, no_database: GeoLocator, ip: str
) -> None:
    assert city.locate(ip) == UNKNOWN
    assert no_database.locate(ip) == UNKNOWN


def test_without_database_country_comes_from_iptocc(no_database: GeoLocator) -> None:
    assert no_database.database_type == ""
    assert no_database.locate("8.8.8.8") == Location("US", "", "")
    for ip in ("1.1.1.1", "9.9.9.9", "81.2.69.142", "2001:4860:4860::8888", "2a00:1450::1"):
        location = no_database.locate(ip)
        assert location.region == location.city == ""
        assert location.country == (iptocc.country_code(ip) or "")
        assert len(location.country) == 2
        assert location.country.isascii()
        assert location.country.isupper()


def test_cache_is_bounded() -> None:
    locator = GeoLocator(None, cache_size=16)
    for i in range(100):
        locator.locate(f"8.8.{i}.8")
    assert locator.locate.cache_info().currsize == 16


@given(ip=st.one_of(st.ip_addresses().map(str), st.text(max_size=64)))
def test_never_raises(city: GeoLocator, ip: str) -> None:
    location = city.locate_uncached(ip)
    assert location.country == "" or (len(location.country) == 2 and location.country.isupper())
    assert len(location.city) <= 128
