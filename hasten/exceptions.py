"""Exceptions raised by Hasten and by user code.

The tree:

* ``HTTPException`` / ``WebSocketException``: raise them in endpoints and dependencies.
* ``ValidationException``: request data did not validate.
    * ``RequestValidationError``: turned into the 422 response.
    * ``WebSocketRequestValidationError``: closes the socket with 1008.
    * ``ResponseValidationError``: the endpoint returned data its ``response_model`` rejects.
* ``HastenError`` (alias ``FastAPIError``): a configuration mistake, raised at startup.
    * ``DependencyScopeError``, ``PydanticV1NotSupportedError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from pydantic import BaseModel, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.exceptions import WebSocketException as StarletteWebSocketException

__all__ = [
    "DependencyScopeError",
    "EndpointContext",
    "FastAPIDeprecationWarning",
    "FastAPIError",
    "HTTPException",
    "HastenError",
    "PydanticV1NotSupportedError",
    "RequestErrorModel",
    "RequestValidationError",
    "ResponseValidationError",
    "ValidationException",
    "WebSocketErrorModel",
    "WebSocketException",
    "WebSocketRequestValidationError",
]


class EndpointContext(TypedDict, total=False):
    """Where an endpoint is defined, shown in validation error messages."""

    function: str
    path: str
    file: str
    line: int


class HTTPException(StarletteHTTPException):
    """An HTTP error for the client: ``raise HTTPException(404, "Item not found")``."""

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)


class WebSocketException(StarletteWebSocketException):
    """Close a WebSocket with ``code`` (and an optional ``reason``)."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        super().__init__(code=code, reason=reason)


RequestErrorModel: type[BaseModel] = create_model("Request")
WebSocketErrorModel: type[BaseModel] = create_model("WebSocket")


class HastenError(RuntimeError):
    """A mistake in how the application is declared, reported at startup."""


FastAPIError = HastenError


class DependencyScopeError(HastenError):
    """A dependency depends on another one with a narrower scope."""


class PydanticV1NotSupportedError(HastenError):
    """A ``pydantic.v1`` model was used; only Pydantic v2 models are supported."""


class FastAPIDeprecationWarning(UserWarning):
    """A deprecation that users should see (``DeprecationWarning`` is hidden by default)."""


class ValidationException(Exception):
    """Base of the validation errors: ``errors()`` returns the error dicts."""

    def __init__(self, errors: Sequence[Any], *, endpoint_ctx: EndpointContext | None = None):
        self._errors = errors
        self.endpoint_ctx = endpoint_ctx
        ctx = endpoint_ctx or {}
        self.endpoint_function = ctx.get("function")
        self.endpoint_path = ctx.get("path")
        self.endpoint_file = ctx.get("file")
        self.endpoint_line = ctx.get("line")

    def errors(self) -> Sequence[Any]:
        return self._errors

    def _where(self) -> str:
        if self.endpoint_file and self.endpoint_line and self.endpoint_function:
            text = f'\n  File "{self.endpoint_file}", line {self.endpoint_line}, in {self.endpoint_function}'
            return text + (f"\n    {self.endpoint_path}" if self.endpoint_path else "")
        return f"\n  Endpoint: {self.endpoint_path}" if self.endpoint_path else ""

    def __str__(self) -> str:
        count = len(self._errors)
        lines = [f"{count} validation error{'' if count == 1 else 's'}:"]
        lines += [f"  {err}" for err in self._errors]
        return ("\n".join(lines) + "\n" + self._where()).rstrip()


class _WithBody(ValidationException):
    """A validation error that keeps the data that failed (``body``)."""

    def __init__(
        self,
        errors: Sequence[Any],
        *,
        body: Any = None,
        endpoint_ctx: EndpointContext | None = None,
    ) -> None:
        super().__init__(errors, endpoint_ctx=endpoint_ctx)
        self.body = body


class RequestValidationError(_WithBody):
    """The request did not validate; answered with 422 and ``{"detail": errors}``."""


class WebSocketRequestValidationError(ValidationException):
    """A WebSocket's parameters did not validate; the socket is closed with 1008."""


class ResponseValidationError(_WithBody):
    """The endpoint's return value does not match its response model (a server error)."""
