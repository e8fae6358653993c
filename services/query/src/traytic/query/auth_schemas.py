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
