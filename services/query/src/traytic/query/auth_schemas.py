"""Bodies of the sign-in routes added for issue 13: sign-up by emailed link, two-factor codes
and single sign-on (the older ones, `SignupIn` and `LoginIn`, stay in `schemas`)."""

from __future__ import annotations

from traytic.query.schemas import StrictWire, Wire


class SignupAcceptedOut(Wire):
    """The one answer to every sign-up, whether the address has an account or not."""

    email: str
    message: str


class ConfirmSignupIn(StrictWire):
    token: str


class TwoFactorNeededOut(Wire):
    """The password was right; the sign-in goes on at `/api/auth/login/code` with this token
    and a code from the authenticator app (or a recovery code)."""

    two_factor_required: bool
    pending_token: str


class LoginCodeIn(StrictWire):
    pending_token: str
    code: str


class CodeIn(StrictWire):
    code: str


class TwoFactorStatusOut(Wire):
    enabled: bool
    recovery_codes_left: int


class TwoFactorSetupOut(Wire):
    """Shown once, to be scanned (`qrSvg`) or typed (`secret`) into an authenticator app."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class RecoveryCodesOut(Wire):
    """Shown once: only their hashes are kept."""

    recovery_codes: list[str]


class SsoProviderOut(Wire):
    """For the login page: show "Sign in with <name>" when `enabled`."""

    enabled: bool
    name: str
