"""One error base for Traytic, and the JSON body every error response carries.

An expected failure raises a `TrayticError` subclass carrying its HTTP status and, for bad input,
the field at fault; one handler (`traytic.http.errors`) turns it into
`{"error": ..., "message": ..., "field": ..., "requestId": ...}`. A 5xx's message may hold what a
driver said (a URL, SQL): it goes to the log, and the body says only what kind of failure it was.
"""

from __future__ import annotations

import msgspec


class TrayticError(Exception):
    """A failure with an HTTP status; 4xx ones are the caller's fault and say which field."""

    status: int = 500
    code: str = "internal_error"
    public: bool = False
    """A 5xx whose message we wrote for the caller (a readiness probe's), not a driver's."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.field = field
        self.headers = headers or {}


class ConfigurationError(TrayticError):
    """A setting is missing or has the wrong type; raised at start-up."""

    code = "configuration_error"


class InvalidInput(TrayticError):
    """The request body or a parameter is not valid."""

    status = 400
    code = "invalid_input"


class PayloadTooLarge(TrayticError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(TrayticError):
    status = 415
    code = "unsupported_media_type"


class Unauthorized(TrayticError):
    """No valid session cookie or API key (or a wrong password): sign in again."""

    status = 401
    code = "unauthorized"


class Forbidden(TrayticError):
    """Signed in, a member, but the role (or the API key's scope) does not allow this."""

    status = 403
    code = "forbidden"


class TwoFactorRequired(Forbidden):
    """The organisation requires two-factor sign-in and the caller has not turned it on."""

    code = "two_factor_required"


class Conflict(TrayticError):
    """The request does not fit the current state (two-factor sign-in already on, say)."""

    status = 409
    code = "conflict"


class TwoFactorUnavailable(Conflict):
    """Two-factor sign-in cannot be turned on: the server has no key to seal secrets with."""

    code = "two_factor_unavailable"


class CsrfRejected(Forbidden):
    """A write with the session cookie but without the matching `X-CSRF-Token` header."""

    code = "csrf_rejected"


class TooManyAttempts(TrayticError):
    """Too many tries (logins, signups): wait `Retry-After` seconds."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after + 0.999)))})


class RateLimited(TooManyAttempts):
    """Too many requests (or too many open streams) from one caller: wait `Retry-After`."""

    code = "rate_limited"


class ServiceUnavailable(TrayticError):
    """A dependency (NATS, ClickHouse) is down; the caller should retry later."""

    status = 503
    code = "service_unavailable"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class ErrorBody(msgspec.Struct, omit_defaults=True, rename="camel"):
    """The JSON body of every error response."""

    error: str
    message: str
    field: str | None = None
    request_id: str | None = None
    """On a 5xx: quote it when reporting the failure; the log holds the full error under it."""


ERROR_ENCODER = msgspec.json.Encoder()

_WITHHELD = {503: "temporarily unavailable: try again shortly"}


def public_message(error: TrayticError) -> str:
    """What the response may say: a 4xx's message (worded for the caller), a 5xx's kind."""
    if error.status < 500 or error.public:
        return error.message
    return _WITHHELD.get(error.status, "internal server error")


def error_body(error: TrayticError, request_id: str | None = None) -> bytes:
    """A 5xx names its request id in the body too (every response has `X-Request-Id`), so a
    user reporting one quotes what finds the full error in the log."""
    quoted = request_id if error.status >= 500 else None
    return ERROR_ENCODER.encode(ErrorBody(error.code, public_message(error), error.field, quoted))
