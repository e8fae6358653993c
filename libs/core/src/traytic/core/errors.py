"""One error base for Traytic and the Litestar handlers that render every error as JSON.

An expected failure raises a `TrayticError` subclass carrying its HTTP status and, for bad input,
the field at fault; one handler turns it into `{"error": ..., "message": ..., "field": ...}`.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

log = structlog.get_logger()


class TrayticError(Exception):
    """A failure with an HTTP status; 4xx ones are the caller's fault and say which field."""

    status: int = 500
    code: str = "internal_error"

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


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """The JSON body of every error response."""

    error: str
    message: str
    field: str | None = None


ERROR_ENCODER = msgspec.json.Encoder()


def error_body(error: TrayticError) -> bytes:
    return ERROR_ENCODER.encode(ErrorBody(error.code, error.message, error.field))


def _traytic_error_handler(_: Request[Any, Any, Any], exc: TrayticError) -> Response[bytes]:
    if exc.status >= 500:
        log.error("request_failed", error=exc.code, message=exc.message)
    return Response(
        error_body(exc), status_code=exc.status, media_type=MediaType.JSON, headers=exc.headers
    )


def _http_exception_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    field = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        if isinstance(first, dict):
            field = first.get("key") or first.get("source")
    code = "invalid_input" if exc.status_code == 400 else f"http_{exc.status_code}"
    body = ErrorBody(code, str(exc.detail), field)
    return Response(
        ERROR_ENCODER.encode(body),
        status_code=exc.status_code,
        media_type=MediaType.JSON,
        headers=exc.headers,
    )


def _unexpected_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled_error", error_type=type(exc).__name__)
    body = ErrorBody("internal_error", "internal server error")
    return Response(ERROR_ENCODER.encode(body), status_code=500, media_type=MediaType.JSON)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    TrayticError: _traytic_error_handler,
    HTTPException: _http_exception_handler,
    Exception: _unexpected_error_handler,
}
"""Pass as `Litestar(exception_handlers=EXCEPTION_HANDLERS)`."""
