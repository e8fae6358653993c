"""Two-factor sign-in with TOTP (RFC 6238, through `pyotp`): secrets, the otpauth URI and its
QR code for authenticator apps, checking a code (or a recovery code) once, and recovery codes.

A code is accepted for the current 30-second step and one step either side (clock drift), and
only once: the step is claimed in the database (`two_factor.claim_step`), so replaying a code
that was just used is refused even within its window.
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
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import TwoFactor
from traytic.db.repositories import two_factor

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


async def check_second_factor(
    session: AsyncSession, user_id: uuid.UUID, row: TwoFactor, code: str
) -> bool:
    """A TOTP code not used before, or an unused recovery code (used up here)."""
    step = matching_step(row.secret, code)
    if step is not None:
        return await two_factor.claim_step(session, user_id, step)
    if len(_NOT_RECOVERY.sub("", code.lower())) != 20:
        return False
    return await two_factor.use_recovery_code(session, user_id, recovery_code_hash(code))
