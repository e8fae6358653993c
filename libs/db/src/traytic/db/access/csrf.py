"""The CSRF check for cookie-authenticated writes (double-submit, with a derived token).

A write made with the session cookie must echo the CSRF cookie's value in `X-CSRF-Token`. The
value is derived from the session token (sha256 with a domain prefix), not stored: a page on
another site cannot read our cookies, so it cannot send the header, and a cookie planted from a
sibling domain does not match the session, so it cannot forge one. Bearer requests carry no
ambient credential and need no token.
"""

from __future__ import annotations

import hashlib
import hmac

from traytic.core.errors import CsrfRejected

CSRF_HEADER = "X-CSRF-Token"
"""Cookie-authenticated writes echo the CSRF cookie's value in this header (double-submit)."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing, so need no token."""


def csrf_token_for(session_token: str) -> str:
    """The CSRF cookie's value for a login session."""
    return hashlib.sha256(b"traytic-csrf:" + session_token.encode()).hexdigest()


def check_csrf(method: str, session_token: str, sent: str | None) -> None:
    """`CsrfRejected` (403) for a write whose header does not match the session."""
    if method.upper() in SAFE_METHODS:
        return
    if not hmac.compare_digest((sent or "").encode(), csrf_token_for(session_token).encode()):
        raise CsrfRejected(
            f"send the CSRF cookie's value in the {CSRF_HEADER} header", field=CSRF_HEADER
        )
