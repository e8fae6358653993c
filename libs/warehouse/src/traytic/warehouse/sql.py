"""The one SQL literal escaper and parameter binder both engines use, and the result decoder.

ClickHouse 18.16 has no server-side query parameters, so values are bound on the client:
`{name}` or `{name:Type}` placeholders (the syntax of newer ClickHouse servers) are replaced, in
one pass, by literals that `quote_literal` renders; a bound value can never end its literal early.
Results are read in the `JSON` format, whose `meta` gives each column's type for decoding.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

_STRING_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "'": "\\'",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\0": "\\0",
        "\b": "\\b",
        "\f": "\\f",
    }
)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]+))?\}")
_SAFE_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\([A-Za-z0-9_, ()']*\))?$")


@dataclass(frozen=True, slots=True)
class Statement:
    """SQL with `{name}` placeholders and the values they bind (see `bind`)."""

    sql: str
    params: dict[str, Any]
    scale: float = 1.0
    """What the counts it returns are multiplied by: 1 / the share a `SAMPLE` read."""


def quote_string(value: str) -> str:
    """A ClickHouse string literal: backslash-escaped, so quotes and newlines stay inside it."""
    return "'" + value.translate(_STRING_ESCAPES) + "'"


def quote_literal(value: Any) -> str:
    """Render a Python value as a ClickHouse literal.

    Lists and sets become arrays (`[1, 2]`); a tuple becomes a parenthesised list for `IN`
    (`x IN {ids}` with `ids=(1, 2)`).
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return f"toDateTime('{value:%Y-%m-%d %H:%M:%S}', 'UTC')"
    if isinstance(value, date):
        return f"toDate('{value.isoformat()}')"
    if isinstance(value, tuple):
        return "(" + ", ".join(quote_literal(item) for item in value) + ")"
    if isinstance(value, (list, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return "[" + ", ".join(quote_literal(item) for item in items) + "]"
    raise TypeError(f"cannot bind a {type(value).__name__} as a ClickHouse literal")


def bind(sql: str, params: Mapping[str, Any] | None) -> str:
    """Replace `{name}` / `{name:Type}` placeholders by escaped literals (`CAST` when typed)."""
    if not params:
        return sql

    def render(match: re.Match[str]) -> str:
        name, type_name = match.group(1), match.group(2)
        if name not in params:
            raise KeyError(f"no value for query parameter {name!r}")
        literal = quote_literal(params[name])
        if type_name is None:
            return literal
        type_name = type_name.strip()
        if not _SAFE_TYPE.match(type_name):
            raise ValueError(f"unsupported parameter type {type_name!r}")
        return f"CAST({literal} AS {type_name})"

    return _PLACEHOLDER.sub(render, sql)


class _Column(msgspec.Struct):
    name: str
    type: str


class _JSONResult(msgspec.Struct):
    meta: list[_Column]
    data: list[dict[str, Any]]


_RESULT_DECODER = msgspec.json.Decoder(_JSONResult)
Converter = Callable[[Any], Any]


def _unwrap(type_name: str, wrapper: str) -> str | None:
    prefix = wrapper + "("
    if type_name.startswith(prefix) and type_name.endswith(")"):
        return type_name[len(prefix) : -1]
    return None


def _converter(type_name: str) -> Converter | None:
    """How to turn a JSON value of this ClickHouse type into Python; None when as-is."""
    inner = _unwrap(type_name, "Nullable")
    if inner is not None:
        convert = _converter(inner)
        if convert is None:
            return None
        return lambda v: None if v is None else convert(v)
    inner = _unwrap(type_name, "LowCardinality")
    if inner is not None:
        return _converter(inner)
    inner = _unwrap(type_name, "Array")
    if inner is not None:
        item = _converter(inner)
        if item is None:
            return None
        return lambda v: [item(x) for x in v]
    if re.fullmatch(r"U?Int(64|128|256)", type_name):
        return int
    if type_name.startswith("Float"):
        # JSON has no NaN/inf: ClickHouse writes them as null (or quoted in newer versions).
        return lambda v: math.nan if v is None else float(v)
    if type_name in {"Date", "Date32"}:
        return date.fromisoformat
    if type_name.startswith("DateTime"):
        zone = re.search(r"'([^']+)'", type_name)
        tz = ZoneInfo(zone.group(1)) if zone else UTC
        return lambda v: datetime.fromisoformat(v).replace(tzinfo=tz).astimezone(UTC)
    return None


def decode_json_result(body: bytes) -> list[dict[str, Any]]:
    """Rows of a `FORMAT JSON` answer, 64-bit integers as `int`, DateTime as aware UTC."""
    if not body.strip():
        return []
    result = _RESULT_DECODER.decode(body)
    converters = [
        (column.name, convert)
        for column in result.meta
        if (convert := _converter(column.type)) is not None
    ]
    if converters:
        for row in result.data:
            for name, convert in converters:
                row[name] = convert(row[name])
    return result.data
