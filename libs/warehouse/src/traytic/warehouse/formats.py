"""Encoders of `EventRow` batches into ClickHouse input formats.

Measured by `bench/warehouse_insert.py` (200k events, batches of 5k, 2 shared cores): chDB takes
JSONCompactEachRow fastest (~195k/s; msgspec encodes at ~2M rows/s). ClickHouse 18.16 lacks that
format; there Native (column by column, what the server keeps in memory) costs the consumer a
quarter of what RowBinary does to encode (issue 16: RowBinary's per-value Python loop was 12 us
of the consumer's 45 us per event) and the server less to parse; RowBinary edges out
TabSeparated and beats JSONEachRow (the server's JSON parser is slow).
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import msgspec

from traytic.warehouse.rows import COLUMNS, EVENT_TYPES, EventRow
from traytic.warehouse.sessions import SESSION_COLUMNS, SessionRow
from traytic.warehouse.sql import quote_string

_ENCODER = msgspec.json.Encoder()


def encode_json_compact_each_row(rows: Sequence[EventRow] | Sequence[SessionRow]) -> bytes:
    """JSONCompactEachRow: one JSON array per line, in column order (chDB only)."""
    return _ENCODER.encode_lines(rows)


def encode_json_each_row(rows: Sequence[EventRow]) -> bytes:
    """JSONEachRow: one JSON object per line, keyed by column name."""
    buffer = bytearray()
    encode_into = _ENCODER.encode_into
    asdict = msgspec.structs.asdict
    for row in rows:
        encode_into(asdict(row), buffer, -1)
        buffer += b"\n"
    # The field names props_key/props_value become the Nested column names. Safe on the whole
    # body: inside a JSON string every `"` is escaped, so `"props_key":` only matches a key.
    return (
        bytes(buffer)
        .replace(b'"props_key":', b'"props.key":')
        .replace(b'"props_value":', b'"props.value":')
    )


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def _tsv_array(items: list[str]) -> str:
    return "[" + ",".join(quote_string(item) for item in items) + "]"


def encode_tab_separated(rows: Sequence[EventRow]) -> bytes:
    """TabSeparated, DateTime as Unix seconds, arrays as quoted literals."""
    lines = []
    for row in rows:
        fields = [
            value.translate(_TSV_ESCAPES)
            if isinstance(value, str)
            else _tsv_array(value)
            if isinstance(value, list)
            else repr(value)
            for value in msgspec.structs.astuple(row)
        ]
        lines.append("\t".join(fields))
    lines.append("")
    return "\n".join(lines).encode()


_ENUM8 = {name: index + 1 for index, name in enumerate(EVENT_TYPES)}
_TS_TYPE = struct.Struct("<Ib")
_IDS = struct.Struct("<QQQ")
_F64 = struct.Struct("<d")
_I64 = struct.Struct("<q")
_ENGAGEMENT = struct.Struct("<IB")


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _string(buffer: bytearray, value: str) -> None:
    buffer += _STRINGS[value]


def encode_row_binary(rows: Sequence[EventRow]) -> bytes:
    """RowBinary: fixed-width little-endian numbers, varint-prefixed strings and arrays."""
    buffer = bytearray()
    for row in rows:
        _string(buffer, row.site_id)
        buffer += _TS_TYPE.pack(row.ts, _ENUM8[row.type])
        _string(buffer, row.name)
        buffer += _IDS.pack(row.event_id, row.visitor_id, row.session_id)
        for value in msgspec.structs.astuple(row)[7:27]:
            _string(buffer, value)
        for items in (row.props_key, row.props_value):
            buffer += _varint(len(items))
            for item in items:
                _string(buffer, item)
        buffer += _F64.pack(row.value)
        buffer += _I64.pack(row.revenue_micros)
        _string(buffer, row.revenue_currency)
        buffer += _ENGAGEMENT.pack(row.engaged_ms, row.scroll_depth)
        _string(buffer, row.error_source)
    return bytes(buffer)


class _EncodedStrings(dict[str, bytes]):
    """Each string as Native and RowBinary write it (length varint, UTF-8), made once: a batch
    repeats the same hosts, pages, places and browsers thousands of times."""

    max_size = 50_000
    """Cleared when fuller (a site's distinct pages and referrers can be many)."""

    def __missing__(self, value: str) -> bytes:
        data = value.encode()
        n = len(data)
        encoded = (bytes((n,)) if n < 0x80 else _varint(n)) + data
        if len(self) >= self.max_size:
            self.clear()
        self[value] = encoded
        return encoded


_STRINGS = _EncodedStrings()
_ENUM8_TYPE = "Enum8(" + ", ".join(f"'{n}' = {v}" for n, v in _ENUM8.items()) + ")"


def _native_strings(values: Sequence[str]) -> bytes:
    return b"".join(map(_STRINGS.__getitem__, values))


def _native_string_arrays(values: Sequence[list[str]]) -> bytes:
    # Array(T) in Native: every row's end offset (UInt64), then all the items as one column.
    ends = array("Q")
    total = 0
    for items in values:
        total += len(items)
        ends.append(total)
    encode = _STRINGS.__getitem__
    return ends.tobytes() + b"".join(encode(item) for items in values for item in items)


def _native_numbers(code: str) -> Callable[[Sequence[int] | Sequence[float]], bytes]:
    return lambda values: array(code, values).tobytes()


_NativeColumn = tuple[str, Callable[[Sequence[Any]], bytes]]
"""A column's type as Native names it, and the encoder of its values."""
_STRING: _NativeColumn = ("String", _native_strings)
_UINT64: _NativeColumn = ("UInt64", _native_numbers("Q"))
_UINT32: _NativeColumn = ("UInt32", _native_numbers("I"))
_DATETIME: _NativeColumn = ("DateTime('UTC')", _native_numbers("I"))

_EVENT_TYPES: dict[str, _NativeColumn] = {
    "ts": _DATETIME,
    "type": (_ENUM8_TYPE, lambda values: bytes(map(_ENUM8.__getitem__, values))),
    "event_id": _UINT64,
    "visitor_id": _UINT64,
    "session_id": _UINT64,
    "props_key": ("Array(String)", _native_string_arrays),
    "props_value": ("Array(String)", _native_string_arrays),
    "value": ("Float64", _native_numbers("d")),
    "revenue_micros": ("Int64", _native_numbers("q")),
    "engaged_ms": _UINT32,
    "scroll_depth": ("UInt8", bytes),
}
"""The `events` column types (migrations 0001, 0010, 0015) by field; every other is a String."""
_SESSION_TYPES: dict[str, _NativeColumn] = {
    "started": _DATETIME,
    "session_id": _UINT64,
    "visitor_id": _UINT64,
    "first_ts": _DATETIME,
    "last_ts": _DATETIME,
    "pageviews": _UINT32,
    "events": _UINT32,
    "version": _UINT64,
}
"""The `sessions` column types (migration 0002) by field; every other is a String."""


class _NativeBlock:
    """Native encoding of one table's rows (array_like Structs, fields in column order)."""

    def __init__(
        self, fields: Sequence[str], columns: Sequence[str], types: dict[str, _NativeColumn]
    ) -> None:
        self._columns = []
        for field, column in zip(fields, columns, strict=True):
            kind, encode = types.get(field, _STRING)
            self._columns.append((attrgetter(field), _STRINGS[column] + _STRINGS[kind], encode))

    def encode(self, rows: Sequence[Any]) -> bytes:
        """One block, column after column, each column's values packed back to back (numbers
        as little-endian arrays, strings as length and UTF-8): the engine's own layout."""
        parts = [_varint(len(self._columns)), _varint(len(rows))]
        for get, header, encode in self._columns:
            parts.append(header)
            parts.append(encode(list(map(get, rows))))
        return b"".join(parts)


_EVENTS_NATIVE = _NativeBlock(EventRow.__struct_fields__, COLUMNS, _EVENT_TYPES)
_SESSIONS_NATIVE = _NativeBlock(SessionRow.__struct_fields__, SESSION_COLUMNS, _SESSION_TYPES)


def encode_native(rows: Sequence[EventRow]) -> bytes:
    """`events` rows in Native."""
    return _EVENTS_NATIVE.encode(rows)


def encode_sessions_native(rows: Sequence[SessionRow]) -> bytes:
    """`sessions` rows in Native."""
    return _SESSIONS_NATIVE.encode(rows)


SERVER_FORMATS = {
    "JSONEachRow": encode_json_each_row,
    "TabSeparated": encode_tab_separated,
    "RowBinary": encode_row_binary,
    "Native": encode_native,
}
CHDB_FORMATS = {"JSONCompactEachRow": encode_json_compact_each_row, **SERVER_FORMATS}
SERVER_INSERT_FORMAT = "Native"
CHDB_INSERT_FORMAT = "JSONCompactEachRow"
