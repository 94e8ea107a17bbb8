"""One error renderer for the API: every error body is the same envelope.

``{"ok": false, "error": message, "errors": [details], "status": http_status}`` plus the two fields the
Segment SDKs read from a non-2xx reply (``analytics-python`` raises ``APIError(status, code, message)``):
``"code"`` and ``"message"``, and ``"success": false`` as Segment's own replies carry.

The handler is registered once on :class:`~ordito.errors.OrditoError`; Starlette finds it by walking the
exception's MRO, so every subclass (``AuthError`` -> 401, ``RequestError`` -> 400, ...) is rendered here.

* OrditoError                      (ordito.errors)
  + RequestError                   400 invalid_request
    - PayloadTooLarge              400 payload_too_large (Segment answers 400, not 413)
  + AuthError                      401 unauthorized
  + ServiceUnavailable             503 unavailable (the inbox cannot write: the SDKs retry 5xx)
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import OrditoError, RequestError

log = logging.getLogger("ordito.api")


class PayloadTooLarge(RequestError):
    code = "payload_too_large"


class ServiceUnavailable(OrditoError):
    status = 503
    code = "unavailable"


_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


def _code(exc: OrditoError) -> str:
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        return code
    return _CODES.get(exc.status) or re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def error_body(
    status: int, message: str, errors: list[Any] | None = None, code: str | None = None
) -> dict[str, Any]:
    """The error envelope (also Segment-readable)."""
    return {
        "ok": False,
        "error": message,
        "errors": errors or [],
        "status": status,
        "success": False,
        "code": code or _CODES.get(status, "error"),
        "message": message,
    }


def json_response(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    import orjson

    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


async def handle_ordito_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OrditoError)
    if exc.status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    headers = {"WWW-Authenticate": 'Basic realm="ordito"'} if exc.status == 401 else None
    if exc.status == 503:
        headers = {"Retry-After": "1"}
    errors: list[Any] = list(exc.errors)
    extra = getattr(exc, "rejected", None)
    if extra:
        errors = extra
    return json_response(error_body(exc.status, exc.message, errors, _code(exc)), exc.status, headers)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return json_response(
        error_body(exc.status_code, str(exc.detail)), exc.status_code, dict(exc.headers or {})
    )


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("%s %s failed", request.method, request.url.path)
    return json_response(error_body(500, f"internal error: {type(exc).__name__}", code="internal"), 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(OrditoError, handle_ordito_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected)
