"""Password hashing with argon2id, off the event loop (it is slow on purpose), and the rules
a new password must meet."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from traytic.core.errors import InvalidInput

MAX_PASSWORD_LENGTH = 256


def check_password(password: str, *, min_length: int, email: str | None = None) -> str:
    """The password if it meets the rules, else `InvalidInput(field="password")`."""
    if len(password) < min_length:
        raise InvalidInput(f"password must have at least {min_length} characters", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at most {MAX_PASSWORD_LENGTH} characters", field="password"
        )
    if not password.strip():
        raise InvalidInput("password must not be only spaces", field="password")
    if email is not None and password.strip().lower() == email.strip().lower():
        raise InvalidInput("password must not be the email address", field="password")
    return password


class Passwords:
    """Hashes and verifies; verifying against no user still costs one hash, so a response
    time does not tell whether an email has an account."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; False for a mismatch or when there is no user."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        target = password_hash if password_hash is not None else self._dummy_hash
        matches = await asyncio.to_thread(self._matches, target, password)
        return matches and password_hash is not None

    def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
