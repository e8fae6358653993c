"""Two-factor sign-in with TOTP (RFC 6238, through `pyotp`): secrets, the otpauth URI and its
QR code for authenticator apps, checking a code (or a recovery code) once, and recovery codes.

A code is accepted for the current 30-second step and one step either side (clock drift), and
only once: the step is claimed in the database (`two_factor.claim_step`), so replaying a code
that was just used is refused even within its window.

The secret is stored sealed with the server's key (`traytic.db.keyring`). One that no
configured key opens (a wrong or lost `TRAYTIC_SECRET_KEY`) fails closed: no code matches, the
log says why (never the secret), and recovery codes, stored hashed, still work.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid

import pyotp
import segno
import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db import Database
from traytic.db.keyring import TWO_FACTOR_SECRET, Keyring, SecretUnreadable, is_sealed
from traytic.db.models import TwoFactor
from traytic.db.repositories import two_factor
from traytic.db.resealing import reseal_two_factor_secrets

log = structlog.get_logger()

RECOVERY_CODES = 10
DRIFT_STEPS = 1
_CODE = re.compile(r"\d{6}")
_NOT_RECOVERY = re.compile(r"[^0-9a-f]")


def new_secret() -> str:
    """160 random bits in base32, what RFC 4226 recommends and apps expect."""
    return pyotp.random_base32(32)


def otpauth_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as an SVG QR code, for the settings page to show inline."""
    return str(segno.make(uri, error="m").svg_inline(scale=4))


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code `code` is (within the drift), else None."""
    code = code.strip().replace(" ", "")
    if not _CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now if now is not None else time.time())
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 80 random bits each, grouped for reading: `1f2e3-4d5c6-b7a89-0f1e2`."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(10)
        codes.append("-".join(raw[i : i + 5] for i in range(0, 20, 5)))
    return codes


def recovery_code_hash(code: str) -> str:
    """sha256 of the code without its dashes or case: 80 random bits need no slow hash."""
    return hashlib.sha256(_NOT_RECOVERY.sub("", code.lower()).encode()).hexdigest()


def sealed_secret(keyring: Keyring, user_id: uuid.UUID, secret: str) -> str:
    """What the database keeps of `secret`: readable with the server's key, by this user only."""
    return keyring.seal(TWO_FACTOR_SECRET, secret, context=str(user_id))


def _readable_secret(keyring: Keyring, row: TwoFactor) -> str | None:
    if not is_sealed(row.secret):
        return row.secret  # stored before sealing; sealed at the next start with a key
    try:
        return keyring.open(TWO_FACTOR_SECRET, row.secret, context=str(row.user_id))
    except SecretUnreadable as exc:
        log.error(
            "two_factor_secret_unreadable",
            user_id=str(row.user_id),
            reason=str(exc),
            fix="set the key that sealed it in TRAYTIC_SECRET_KEY (or TRAYTIC_SECRET_KEY_PREVIOUS)",
        )
        return None


async def check_second_factor(
    session: AsyncSession, keyring: Keyring, row: TwoFactor, code: str
) -> bool:
    """A TOTP code not used before, or an unused recovery code (used up here)."""
    user_id = row.user_id
    secret = _readable_secret(keyring, row)
    step = matching_step(secret, code) if secret is not None else None
    if step is not None:
        return await two_factor.claim_step(session, user_id, step)
    if len(_NOT_RECOVERY.sub("", code.lower())) != 20:
        return False
    return await two_factor.use_recovery_code(session, user_id, recovery_code_hash(code))


async def reseal_secrets(db: Database, keyring: Keyring) -> None:
    """At start: seal plain secrets and those of a previous key with the current key, and say
    in the log what could not be (no key, or secrets no configured key opens)."""
    async with db.engine.begin() as connection:
        done = await connection.run_sync(reseal_two_factor_secrets, keyring)
    if done.sealed:
        log.info("two_factor_secrets_resealed", count=done.sealed, key_id=keyring.key_id)
    if done.plain:
        log.warning(
            "two_factor_secrets_unsealed",
            count=done.plain,
            fix="set TRAYTIC_SECRET_KEY: they are sealed at the next start",
        )
    if done.unreadable:
        log.error(
            "two_factor_secrets_unreadable",
            count=done.unreadable,
            key_id=keyring.key_id,
            fix="set the key that sealed them in TRAYTIC_SECRET_KEY or TRAYTIC_SECRET_KEY_PREVIOUS;"
            " until then those people sign in with a recovery code",
        )
