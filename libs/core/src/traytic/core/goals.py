"""Goal definitions shared by the database (which validates them) and the warehouse (which turns
them into SQL): page path patterns and the limits of custom-event goals.

A pattern matches a stored pathname whole. `*` stands for any characters within one path
segment (no `/`), `**` for any characters at all, `/` included; everything else is literal. The
consumer stores paths starting with `/`, without a query string or fragment, without runs of `/`
and without a trailing slash (the root excepted), so a pattern that breaks one of these rules
cannot match anything and is refused with the reason.
"""

from __future__ import annotations

import re

from traytic.core.errors import InvalidInput

MAX_PATTERN_LENGTH = 256
MAX_EVENT_NAME_LENGTH = 128
"""The gateway's default `max_name_length`: a longer name never reaches the warehouse."""
MAX_PROP_KEY_LENGTH = 64
MAX_PROP_VALUE_LENGTH = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_pattern(pattern: object, field: str = "match") -> str:
    """`pattern` if some stored pathname can match it, else an `InvalidInput` saying why."""
    if not isinstance(pattern, str) or not pattern:
        raise InvalidInput(
            "a page goal needs a path pattern such as /signup or /blog/**", field=field
        )
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidInput(
            f"the pattern is longer than {MAX_PATTERN_LENGTH} characters", field=field
        )
    reasons = (
        (not pattern.startswith("/"), "paths start with /"),
        (
            pattern != pattern.strip() or _CONTROL.search(pattern) is not None,
            "paths hold no control characters or whitespace at either end",
        ),
        ("?" in pattern or "#" in pattern, "query strings and fragments are not stored"),
        ("//" in pattern, "runs of / are stored as one"),
        (len(pattern) > 1 and pattern.endswith("/"), "paths are stored without a trailing /"),
        ("***" in pattern, "use * for one segment or ** for any characters, not ***"),
    )
    for broken, why in reasons:
        if broken:
            raise InvalidInput(f"the pattern {pattern[:64]!r} cannot match: {why}", field=field)
    return pattern


def pattern_regex(pattern: str) -> str:
    """The anchored regular expression (RE2 syntax, as ClickHouse's `match`) of a pattern."""
    parts = []
    for piece in re.split(r"(\*\*|\*)", pattern):
        if piece == "**":
            parts.append(".*")
        elif piece == "*":
            parts.append("[^/]*")
        else:
            parts.append(re.escape(piece))
    return "^" + "".join(parts) + "$"


def pattern_prefix(pattern: str) -> str:
    """The literal start of a pattern, before its first wildcard."""
    return pattern.split("*", 1)[0]


def check_event_name(name: object, field: str = "match") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("an event goal needs the custom event's name", field=field)
    if len(name) > MAX_EVENT_NAME_LENGTH:
        raise InvalidInput(
            f"event names longer than {MAX_EVENT_NAME_LENGTH} characters are never stored",
            field=field,
        )
    if "\x00" in name:
        raise InvalidInput("the event name contains a NUL character", field=field)
    return name
