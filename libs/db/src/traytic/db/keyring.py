"""Secrets the database keeps, sealed with the server's key (`TRAYTIC_SECRET_KEY`).

A TOTP secret must be readable to check a code, and a queued mail must hold its link until it
is sent, so neither can be hashed like passwords and tokens are; both are encrypted instead, so
that a copy of the database (a dump, a backup) gives no one a second factor or a working link.

AES-256-GCM (`cryptography`), with a key derived by HKDF-SHA256 from the server's key for each
purpose, so the same key never encrypts two kinds of data. The row a value belongs to (a user
id, a mail id) is authenticated data: a sealed value copied into another row does not open.

A sealed value reads `sk1.<key id>.<base64url(nonce | ciphertext | tag)>`: the key id (derived
from the key, not secret) says which key sealed it, so a rotated key keeps opening what its
predecessor sealed (`TRAYTIC_SECRET_KEY_PREVIOUS`) until everything is sealed again with the new
one. A value without the prefix was stored before sealing existed (a base32 TOTP secret never
holds a dot).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from traytic.core.errors import ConfigurationError
from traytic.db.settings import DbSettings

TWO_FACTOR_SECRET = "two-factor-secret"  # noqa: S105 (a purpose, not a secret)
"""Purpose: a user's TOTP secret (authenticated with the user id)."""
MAIL_OUTBOX = "mail-outbox"
"""Purpose: a queued account mail, its address and link (authenticated with the mail's id)."""

FORMAT = "sk1"
MIN_KEY_LENGTH = 32
"""Characters: `openssl rand -base64 32` gives 44; a short phrase is refused, not stretched."""
_NONCE_BYTES = 12
_SALT = b"traytic keyring v1"


class SecretUnreadable(Exception):
    """A sealed value that no configured key opens; the message names why, never the value."""


def _derive(master: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info).derive(master)


@dataclass(frozen=True, slots=True)
class _Key:
    key_id: str
    master: bytes = field(repr=False)

    @classmethod
    def of(cls, text: str, variable: str) -> _Key:
        if len(text) < MIN_KEY_LENGTH:
            raise ConfigurationError(
                f"{variable} must be at least {MIN_KEY_LENGTH} characters "
                "(make one with `openssl rand -base64 32`)"
            )
        master = text.encode()
        return cls(_derive(master, b"traytic key id", 4).hex(), master)

    def cipher(self, purpose: str) -> AESGCM:
        return AESGCM(_derive(self.master, b"traytic/" + purpose.encode()))


def _aad(purpose: str, context: str) -> bytes:
    return f"{purpose}\x00{context}".encode()


def is_sealed(value: str) -> bool:
    return value.startswith(FORMAT + ".")


class Keyring:
    """The current key, which seals, and the previous ones, which only open."""

    def __init__(self, current: str = "", previous: Sequence[str] = ()) -> None:
        self._current = _Key.of(current, "TRAYTIC_SECRET_KEY") if current else None
        keys = [self._current] if self._current else []
        keys += [_Key.of(text, "TRAYTIC_SECRET_KEY_PREVIOUS") for text in previous if text]
        self._keys = {key.key_id: key for key in reversed(keys)}  # the current key wins

    @classmethod
    def from_settings(cls, settings: DbSettings) -> Keyring:
        return cls(settings.secret_key, settings.secret_key_previous)

    @property
    def can_seal(self) -> bool:
        """A key is configured (`TRAYTIC_SECRET_KEY`)."""
        return self._current is not None

    @property
    def key_id(self) -> str | None:
        return self._current.key_id if self._current else None

    def seal(self, purpose: str, plaintext: str, *, context: str) -> str:
        if self._current is None:
            raise ConfigurationError("TRAYTIC_SECRET_KEY is not set: nothing can be sealed")
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.cipher(purpose).encrypt(
            nonce, plaintext.encode(), _aad(purpose, context)
        )
        payload = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{FORMAT}.{self._current.key_id}.{payload}"

    def open(self, purpose: str, value: str, *, context: str) -> str:
        """The plaintext of `value`, which `seal` made for the same purpose and context."""
        version, _, rest = value.partition(".")
        key_id, _, payload = rest.partition(".")
        if version != FORMAT or not payload:
            raise SecretUnreadable("not a sealed value")
        key = self._keys.get(key_id)
        if key is None:
            configured = ", ".join(self._keys) or "none"
            raise SecretUnreadable(
                f"sealed with key {key_id}, which is not configured (configured: {configured})"
            )
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            plain = key.cipher(purpose).decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(purpose, context)
            )
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SecretUnreadable(
                f"key {key_id} does not open it (altered, or moved from another row)"
            ) from exc
        return plain.decode()

    def is_current(self, value: str) -> bool:
        """Sealed with the current key: nothing to do when resealing."""
        return self._current is not None and value.startswith(f"{FORMAT}.{self._current.key_id}.")
