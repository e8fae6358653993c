"""The query service's expected failures, each rendered by `traytic.core.errors`."""

from __future__ import annotations

from traytic.core.errors import TrayticError


class Unauthorized(TrayticError):
    """No valid session cookie or API key (or a wrong password): sign in again."""

    status = 401
    code = "unauthorized"


class Forbidden(TrayticError):
    """Signed in, a member, but the role does not allow this."""

    status = 403
    code = "forbidden"


class CsrfRejected(Forbidden):
    code = "csrf_rejected"


class TooManyAttempts(TrayticError):
    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after + 0.999)))})


class RateLimited(TooManyAttempts):
    """Too many requests with one API key (or too many open streams): wait `Retry-After`."""

    code = "rate_limited"
