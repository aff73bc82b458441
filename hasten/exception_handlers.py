"""The default exception handlers: ``HTTPException`` → its status and detail, validation
errors → 422 with ``{"detail": [...]}``, WebSocket validation errors → close with 1008.

An error body echoes what the client sent, which strict JSON cannot always carry (``NaN``,
``1e400``, a lone surrogate ``"\\ud800"``, nesting deeper than the encoders recurse): then the
body is rendered again with those values made safe (``"NaN"``, ``"Infinity"``, U+FFFD,
``"..."`` below 100 levels; see ``encoders._json_safe``) instead of failing with a 500. Bodies that encode as they are cost nothing more.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.status import WS_1008_POLICY_VIOLATION
from starlette.websockets import WebSocket

from .encoders import _json_safe, jsonable_encoder
from .exceptions import RequestValidationError, WebSocketRequestValidationError
from .utils import is_body_allowed_for_status_code

__all__ = [
    "http_exception_handler",
    "request_validation_exception_handler",
    "websocket_request_validation_exception_handler",
]


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """``{"detail": exc.detail}`` with the exception's status and headers."""
    headers = getattr(exc, "headers", None)
    if not is_body_allowed_for_status_code(exc.status_code):
        return Response(status_code=exc.status_code, headers=headers)
    return _error_response(exc.detail, exc.status_code, headers)


async def request_validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> JSONResponse:
    """422 with ``{"detail": errors}`` (FastAPI's error body), the echoed input JSON-safe."""
    return _error_response(exc.errors(), 422, None)


def _error_response(detail: Any, status_code: int, headers: Any) -> JSONResponse:
    """``{"detail": detail}``; if strict JSON cannot carry it, again with it made safe."""
    try:
        content = {"detail": jsonable_encoder(detail)}
        return JSONResponse(content, status_code=status_code, headers=headers)
    except (ValueError, RecursionError):  # NaN, a lone surrogate, input nested too deep
        content = {"detail": _json_safe(jsonable_encoder(_json_safe(detail)))}
        return JSONResponse(content, status_code=status_code, headers=headers)


async def websocket_request_validation_exception_handler(
    websocket: WebSocket, exc: WebSocketRequestValidationError
) -> None:
    """Close the socket with 1008 and the errors as the reason."""
    await websocket.close(code=WS_1008_POLICY_VIOLATION, reason=jsonable_encoder(exc.errors()))
