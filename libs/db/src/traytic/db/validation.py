"""Checks that run before the database sees a value, with an `InvalidInput` naming the field.

SQLite stores an over-long string or a wrong type that PostgreSQL rejects, so both dialects
must refuse the same input here, in Python. The semantic checks (email, slug, domain, time
zone) serve the repositories; `check_row()` and the `ValidatedSession` flush guard check every
column's length and type for whatever reaches a table, as a safety net.
"""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.base import NO_VALUE
from sqlmodel import Session as SqlModelSession

from traytic.core.errors import InvalidInput
from traytic.core.revenue import CURRENCIES

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def check_text(
    field: str, value: object, *, max_length: int, min_length: int = 1, strip: bool = True
) -> str:
    """`value` (stripped unless `strip=False`), as long as it is a string of
    `min_length`..`max_length` characters without NUL (which PostgreSQL refuses)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    if strip:
        value = value.strip()
    if len(value) < min_length:
        raise InvalidInput(f"{field} is required", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    if "\x00" in value:
        raise InvalidInput(f"{field} contains a NUL character", field=field)
    return value


def normalise_email(value: object, field: str = "email") -> str:
    """Lowercase and trimmed, so `Ann@X.com` and `ann@x.com` are one account."""
    email = check_text(field, value, max_length=254).lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{field} is not an email address", field=field)
    return email


def check_slug(value: object, field: str = "slug") -> str:
    slug = check_text(field, value, max_length=64)
    if not _SLUG.match(slug):
        raise InvalidInput(
            f"{field} may hold lowercase letters, digits and inner hyphens only", field=field
        )
    return slug


def normalise_domain(value: object, field: str = "domain") -> str:
    """A bare host name (`example.com`, `blog.example.com`, `localhost`), lowercase."""
    domain = check_text(field, value, max_length=253).lower().rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidInput(f"{field} is not a domain name", field=field) from exc
    if len(domain) > 253 or not all(_LABEL.match(label) for label in domain.split(".")):
        raise InvalidInput(f"{field} is not a domain name", field=field)
    return domain


def normalise_hostnames(values: object, field: str = "allowed_hostnames") -> list[str]:
    """Host names a site's beacons may come from besides its domain: bare names, lowercase,
    without duplicates; `*.example.com` stands for every subdomain of example.com."""
    if not isinstance(values, list | tuple):
        raise InvalidInput(f"{field} must be a list of host names", field=field)
    if len(values) > 100:
        raise InvalidInput(f"{field} holds more than 100 host names", field=field)
    hosts: list[str] = []
    for index, value in enumerate(values):
        where = f"{field}[{index}]"
        wildcard = isinstance(value, str) and value.startswith("*.")
        try:
            host = normalise_domain(value[2:] if wildcard else value, where)
        except InvalidInput:
            shown = repr(value[:80]) if isinstance(value, str) else "the entry"
            raise InvalidInput(
                f"{shown} is not a host name: give it without scheme, port or path, like "
                "shop.example.com, or *.example.com for every subdomain",
                field=where,
            ) from None
        if wildcard and "." not in host:
            raise InvalidInput(
                f"*.{host} would accept every site under .{host}: name a domain", field=where
            )
        host = f"*.{host}" if wildcard else host
        if host not in hosts:
            hosts.append(host)
    return hosts


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def check_time_zone(value: object, field: str = "time_zone") -> str:
    zone = check_text(field, value, max_length=64)
    if zone not in _time_zones():
        raise InvalidInput(f"{field} is not an IANA time zone", field=field)
    return zone


def check_choice(field: str, value: object, choices: Iterable[str]) -> str:
    allowed = tuple(choices)
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(f"{field} must be one of {', '.join(allowed)}", field=field)
    return str(value)


def check_country(value: object, field: str = "billing_country") -> str:
    country = check_text(field, value, max_length=2).upper()
    if not _COUNTRY.match(country):
        raise InvalidInput(f"{field} must be an ISO 3166 alpha-2 code", field=field)
    return country


def check_currency(value: object, field: str = "currency") -> str:
    currency = check_text(field, value, max_length=3).upper()
    if not _CURRENCY.match(currency):
        raise InvalidInput(f"{field} must be an ISO 4217 code", field=field)
    return currency


def check_reporting_currency(value: object, field: str = "currency") -> str:
    """An ISO 4217 currency (`check_currency` accepts any three letters; this knows them)."""
    currency = check_currency(value, field)
    if currency not in CURRENCIES:
        raise InvalidInput(f"{field} {currency!r} is not an ISO 4217 currency", field=field)
    return currency


def check_amount(value: object, field: str = "amount") -> int:
    """Integer subunits, never a float: 14,900 NGN is 1490000."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be an integer number of subunits", field=field)
    if not 0 <= value < 2**63:
        raise InvalidInput(f"{field} is out of range", field=field)
    return value


def check_row(table: sa.Table, values: Mapping[str, Any]) -> None:
    """Every value fits its column: strings within length, integers in range, right types."""
    for name, value in values.items():
        column = table.columns.get(name)
        if column is None or value is None:
            continue
        _check_column(column, value)


def _check_column(column: sa.Column[Any], value: Any) -> None:
    if isinstance(value, sa.sql.ClauseElement):
        return  # an SQL expression (e.g. `attempts + 1`) is the database's business
    field = column.name
    kind = column.type
    if isinstance(kind, sa.String):
        if not isinstance(value, str):
            raise InvalidInput(f"{field} must be a string", field=field)
        if kind.length is not None and len(value) > kind.length:
            raise InvalidInput(f"{field} is longer than {kind.length} characters", field=field)
        if "\x00" in value:
            raise InvalidInput(f"{field} contains a NUL character", field=field)
    elif isinstance(kind, sa.Boolean):
        if not isinstance(value, bool):
            raise InvalidInput(f"{field} must be true or false", field=field)
    elif isinstance(kind, sa.Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{field} must be an integer", field=field)
        bits = 63 if isinstance(kind, sa.BigInteger) else 31
        if not -(2**bits) <= value < 2**bits:
            raise InvalidInput(f"{field} is out of range", field=field)
    elif isinstance(kind, sa.Float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{field} must be a number", field=field)
    elif isinstance(kind, sa.Uuid):
        if not isinstance(value, uuid.UUID):
            raise InvalidInput(f"{field} must be a UUID", field=field)
    elif (
        isinstance(kind, sa.TypeDecorator)
        and isinstance(kind.impl_instance, sa.DateTime)
        and (not isinstance(value, datetime) or value.tzinfo is None)
    ):
        raise InvalidInput(f"{field} must be an aware datetime", field=field)


class ValidatedSession(SqlModelSession):
    """A session that checks each new or changed row against its columns before a flush."""


@event.listens_for(ValidatedSession, "before_flush")
def _validate_before_flush(session: Session, _: UOWTransaction, __: Any) -> None:
    for obj in (*session.new, *session.dirty):
        table = getattr(type(obj), "__table__", None)
        if not isinstance(table, sa.Table):
            continue
        state = sa.inspect(obj)
        for column in table.columns:
            attr = state.attrs.get(column.key)
            if attr is None:
                continue
            if obj in session.dirty and not attr.history.has_changes():
                continue
            value = attr.loaded_value
            if value is not None and value is not NO_VALUE:
                _check_column(column, value)
