"""IP address → country (ISO 3166-1 alpha-2), region (ISO 3166-2 subdivision without the country,
e.g. `ENG`) and city (English name).

With a MaxMind-format database (GeoLite2/GeoIP2 City or Country, or a compatible `.mmdb`) the
answer comes from it; where it has no record or no country, the country falls back to `iptocc`
(an offline IP-to-country table bundled with the package), so country works with no setup at all.
Private, loopback, link-local, reserved and malformed addresses resolve to empty strings.
IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what dual-stack sockets report) is looked up as IPv4.
Lookups are cached in a bounded LRU keyed by the IP string.
"""

from __future__ import annotations

import functools
import ipaddress
from os import PathLike
from typing import Any, NamedTuple

import iptocc
import maxminddb

DEFAULT_CACHE_SIZE = 50_000
MAX_CITY_LENGTH = 128


class Location(NamedTuple):
    country: str
    region: str
    city: str


UNKNOWN = Location("", "", "")


def _public_address(ip: str) -> str:
    """The canonical text of a globally routable address, "" otherwise."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address):
        # Drop a zone id (`%eth0`): the database is keyed by the address alone.
        address = address.ipv4_mapped or ipaddress.IPv6Address(address.packed)
    return str(address) if address.is_global and not address.is_multicast else ""


def _field(record: dict[str, Any], *path: str | int) -> Any:
    """`record[path[0]][path[1]]...`, or None where a level is missing or of the wrong kind."""
    value: Any = record
    for key in path:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and len(value) > key else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value


def _text(value: Any, max_length: int = MAX_CITY_LENGTH) -> str:
    return value[:max_length] if isinstance(value, str) else ""


def _location_of(record: dict[str, Any]) -> Location:
    return Location(
        country=_text(_field(record, "country", "iso_code")).upper(),
        region=_text(_field(record, "subdivisions", 0, "iso_code")).upper(),
        city=_text(_field(record, "city", "names", "en")),
    )


class GeoLocator:
    """Locates IPs with an optional `.mmdb` database and `iptocc` for the country fallback.

    The database is opened once (MODE_AUTO: memory-mapped with the C extension when available);
    call `close()` when done with it.
    """

    def __init__(
        self,
        database: str | PathLike[str] | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._reader = maxminddb.open_database(database, maxminddb.MODE_AUTO) if database else None
        self.locate = functools.lru_cache(maxsize=cache_size)(self.locate_uncached)

    @property
    def database_type(self) -> str:
        """The database's type (`GeoLite2-City`...), "" without one."""
        return str(self._reader.metadata().database_type) if self._reader else ""

    def locate_uncached(self, ip: str) -> Location:
        address = _public_address(ip)
        if not address:
            return UNKNOWN
        location = UNKNOWN
        if self._reader is not None:
            record = self._reader.get(address)
            if isinstance(record, dict):
                location = _location_of(record)
        if not location.country:
            country = iptocc.country_code(address)
            location = Location(country.upper() if country else "", "", "")
        return location

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
