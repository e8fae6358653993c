"""Identifiers: public site ids and message ids that are unique across replicas and restarts."""

from __future__ import annotations

import itertools
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: no i, l, o, u to misread


def _random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_site_id() -> str:
    """`st_` and 16 base32 characters (80 random bits): public, so unguessable is not needed,
    but unique across every install is."""
    return "st_" + _random_token(16)


class MessageIds:
    """Cheap unique ids for `Nats-Msg-Id`: a random per-process prefix and a counter.

    A random prefix per process keeps two gateway replicas (or one restarted) from ever reusing
    an id inside JetStream's duplicate window; the counter keeps the hot path free of `secrets`.
    """

    def __init__(self) -> None:
        self._prefix = _random_token(12)
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"
