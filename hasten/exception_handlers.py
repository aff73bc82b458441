"""The default exception handlers: ``HTTPException`` → its status and detail, validation
errors → 422 with ``{"detail": [...]}``, WebSocket validation errors → close with 1008."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.status import WS_1008_POLICY_VIOLATION
from starlette.websockets import WebSocket

from .encoders import jsonable_encoder
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
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def request_validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> JSONResponse:
    """422 with ``{"detail": errors}`` (FastAPI's error body)."""
    errors = jsonable_encoder(exc.errors())
    return JSONResponse({"detail": errors}, status_code=422)


async def websocket_request_validation_exception_handler(
    websocket: WebSocket, exc: WebSocketRequestValidationError
) -> None:
    """Close the socket with 1008 and the errors as the reason."""
    await websocket.close(code=WS_1008_POLICY_VIOLATION, reason=jsonable_encoder(exc.errors()))
