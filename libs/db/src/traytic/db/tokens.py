"""Random tokens handed to people (session cookies, invitation links) and their stored hashes.

Only `hash_token(token)` reaches the database: a leaked table holds nothing that logs anyone in.
sha256 suffices because the tokens carry 256 random bits; there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
