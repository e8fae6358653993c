"""The Litestar handlers that render every error as JSON (`traytic.core.errors.ErrorBody`).

Expected failures (`TrayticError`) answer with their status and, for 4xx, their message. A 5xx
and any unexpected exception are logged in full with the request id; the body carries only the
kind of failure and the id, never a driver's message, a URL or SQL.
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from traytic.core.errors import ERROR_ENCODER, ErrorBody, TrayticError, error_body
from traytic.http.request_id import request_id_of

log = structlog.get_logger()


def _with_id(headers: dict[str, str] | None, request_id: str | None) -> dict[str, str]:
    """The id in the error response's headers too: the exception middleware may answer
    outside `request_ids`, whose `send` would add it."""
    return {**(headers or {}), "X-Request-Id": request_id} if request_id else dict(headers or {})


def render_traytic_error(request: Request[Any, Any, Any], exc: TrayticError) -> Response[bytes]:
    request_id = request_id_of(request.scope)
    if exc.status >= 500:
        log.error(
            "request_failed",
            error=exc.code,
            message=exc.message,
            path=request.scope.get("path_template") or "unmatched",
            request_id=request_id,
            exc_info=exc,
        )
    return Response(
        error_body(exc, request_id),
        status_code=exc.status,
        media_type=MediaType.JSON,
        headers=_with_id(exc.headers, request_id),
    )


def _http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    field = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        if isinstance(first, dict):
            field = first.get("key") or first.get("source")
    code = "invalid_input" if exc.status_code == 400 else f"http_{exc.status_code}"
    message = str(exc.detail) if exc.status_code < 500 else "internal server error"
    request_id = request_id_of(request.scope)
    body = ErrorBody(code, message, field, request_id if exc.status_code >= 500 else None)
    return Response(
        ERROR_ENCODER.encode(body),
        status_code=exc.status_code,
        media_type=MediaType.JSON,
        headers=_with_id(exc.headers, request_id),
    )


def _unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    request_id = request_id_of(request.scope)
    log.exception("unhandled_error", error_type=type(exc).__name__, request_id=request_id)
    body = ErrorBody("internal_error", "internal server error", request_id=request_id)
    return Response(
        ERROR_ENCODER.encode(body),
        status_code=500,
        media_type=MediaType.JSON,
        headers=_with_id(None, request_id),
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    TrayticError: render_traytic_error,
    HTTPException: _http_exception_handler,
    Exception: _unexpected_error_handler,
}
"""Pass as `Litestar(exception_handlers=EXCEPTION_HANDLERS)`."""
