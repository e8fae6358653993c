"""Country and region names for the codes we store (ISO 3166 via `pycountry`): what
`visit:country_name` and `visit:region_name` answer, and which codes a filter on a name means.
Imports use `country_code` to read the names other tools export."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import pycountry
import re2

EXTRA_NAMES = {"Russia": "RU", "Turkey": "TR", "Czech Republic": "CZ", "Macedonia": "MK"}
"""Names other tools use that ISO lists under another form."""


@cache
def country_names() -> Mapping[str, str]:
    """Alpha-2 code → the name people use (`South Korea`, not `Korea, Republic of`)."""
    return {
        country.alpha_2: getattr(country, "common_name", None) or country.name
        for country in pycountry.countries
    }


@cache
def region_names() -> Mapping[str, str]:
    """ISO 3166-2 code (`DE-BE`) → name (`Berlin`)."""
    return {subdivision.code: subdivision.name for subdivision in pycountry.subdivisions}


@cache
def _country_codes() -> Mapping[str, str]:
    found: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            name = getattr(country, attribute, None)
            if name:
                found[name.casefold()] = country.alpha_2
    found.update({name.casefold(): code for name, code in EXTRA_NAMES.items()})
    return found


def country_code(name: str) -> str:
    """The alpha-2 code of a country's name or code (any case), or '' when unknown."""
    value = name.strip()
    if len(value) == 2 and value.upper() in country_names():
        return value.upper()
    return _country_codes().get(value.casefold(), "")


def codes_matching(
    names: Mapping[str, str], operator: str, clauses: tuple[str, ...], case_sensitive: bool
) -> tuple[str, ...]:
    """The codes whose name satisfies a positive filter (`is`, `contains`, `matches`)."""

    def fold(value: str) -> str:
        return value if case_sensitive else value.casefold()

    wanted = [fold(clause) for clause in clauses]
    if operator.startswith("is"):
        return tuple(code for code, name in names.items() if fold(name) in wanted)
    if operator.startswith("contains"):
        return tuple(code for code, name in names.items() if any(w in fold(name) for w in wanted))
    flags = "" if case_sensitive else "(?i)"
    patterns = [re2.compile(flags + clause) for clause in clauses]
    return tuple(code for code, name in names.items() if any(p.search(name) for p in patterns))
