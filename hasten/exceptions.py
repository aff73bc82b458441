"""Exceptions raised by Hasten and by user code.

The tree:

* ``HTTPException`` / ``WebSocketException``: raise them in endpoints and dependencies.
* ``ValidationException``: request data did not validate.
    * ``RequestValidationError``: turned into the 422 response.
    * ``WebSocketRequestValidationError``: closes the socket with 1008.
    * ``ResponseValidationError``: the endpoint returned data its ``response_model`` rejects.
* ``HastenError`` (alias ``FastAPIError``): a configuration mistake, raised at startup.
    * ``DependencyScopeError``, ``PydanticV1NotSupportedError``.
    * ``DeclarationError``: a route, endpoint or parameter declared wrongly; its message
      starts with where: ``[GET /items/{id}, endpoint=read_item, param=limit] ...``.
        * ``InvalidDeclarationError`` (also an ``AssertionError``, what FastAPI raises).
        * ``InvalidParameterTypeError``: a parameter type Pydantic cannot validate.
        * ``ConflictingDefaultError`` (also a ``TypeError``): a default and a
          ``default_factory`` for the same parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from pydantic import BaseModel, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.exceptions import WebSocketException as StarletteWebSocketException

__all__ = [
    "ConflictingDefaultError",
    "DeclarationError",
    "DependencyScopeError",
    "EndpointContext",
    "FastAPIDeprecationWarning",
    "FastAPIError",
    "HTTPException",
    "HastenError",
    "InvalidDeclarationError",
    "InvalidParameterTypeError",
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


class DeclarationError(HastenError):
    """A route, endpoint or parameter declared in a way that cannot work.

    The message starts with where, as far as known:
    ``[GET /items/{id}, endpoint=read_item, dependency=get_db, param=limit] ...``.
    ``route`` is ``"GET /items/{id}"`` (only the path when the methods are not known),
    ``calls`` the names of the functions from the endpoint down to the one whose parameter
    is wrong, ``param`` that parameter. The analysis and the router fill these in as the
    error travels up, so ``str()`` and ``args[0]`` always give the complete message.
    """

    def __init__(self, message: str, *, route: str | None = None, param: str | None = None):
        self.message = message
        self.route = route
        self.param = param
        self.calls: list[str] = []
        self._outermost: Any = None  # the function named first in ``calls``
        super().__init__(self._format())

    def __reduce__(self) -> Any:  # picklable: the functions themselves are left out
        state = {k: v for k, v in self.__dict__.items() if k != "_outermost"}
        return (type(self), (self.message,), state)

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        self.__dict__.update(state or {})
        self.args = (self._format(),)

    @property
    def endpoint(self) -> str | None:
        """The name of the endpoint (the outermost function known)."""
        return self.calls[0] if self.calls else None

    def where(self) -> str:
        """``[GET /items/{id}, endpoint=read_item, param=limit]``: the parts known."""
        parts = [self.route] if self.route else []
        if self.calls:
            parts.append(f"endpoint={self.calls[0]}")
        if len(self.calls) > 1:
            parts.append("dependency=" + " -> ".join(self.calls[1:]))
        if self.param:
            parts.append(f"param={self.param}")
        return f"[{', '.join(parts)}]" if parts else ""

    def _format(self) -> str:
        where = self.where()
        return f"{where} {self.message}" if where else self.message

    def _reached_from(self, call: Any) -> None:
        if self._outermost is not call:
            self.calls.insert(0, _call_name(call))
            self._outermost = call

    def in_call(self, call: Any, *, path: str | None = None, param: str | None = None) -> None:
        """Record that ``call`` (reached through ``path``) is, or depends on, the culprit."""
        self._reached_from(call)
        if self.route is None and path:
            self.route = path
        if self.param is None:
            self.param = param
        self.args = (self._format(),)

    def at_route(self, methods: Any, path: str, endpoint: Any) -> None:
        """Name the route (``"GET,POST /items"``) and put its endpoint first in the chain."""
        verbs = ",".join(sorted(methods or ()))
        self.route = f"{verbs} {path}" if verbs else path
        self._reached_from(endpoint)
        self.args = (self._format(),)


def _call_name(call: Any) -> str:
    return str(getattr(call, "__name__", None) or type(call).__name__)


class InvalidDeclarationError(DeclarationError, AssertionError):
    """A declaration FastAPI rejects with an ``AssertionError`` (same type, same wording)."""


class InvalidParameterTypeError(DeclarationError):
    """A parameter's type is not one Pydantic can validate (e.g. a plain class)."""


class ConflictingDefaultError(DeclarationError, TypeError):
    """A parameter has both a default value and a ``default_factory``."""


class FastAPIDeprecationWarning(UserWarning):
    """A deprecation that users should see (``DeprecationWarning`` is hidden by default)."""


class ValidationException(Exception):
    """Base of the validation errors: ``errors()`` returns the error dicts.

    ``endpoint_ctx`` says where the endpoint is defined and which request it answered; its
    parts are also kept one by one (``endpoint_function``, ``endpoint_path``, ...) and are
    shown at the end of ``str()``, like a traceback line.
    """

    endpoint_ctx: EndpointContext | None
    endpoint_function: str | None  #: the endpoint's ``__name__``
    endpoint_path: str | None  #: ``"GET /items/{id}"``: the request's method and route
    endpoint_file: str | None  #: the file the endpoint is defined in
    endpoint_line: int | None  #: the line of its ``def``

    def __init__(self, errors: Sequence[Any], *, endpoint_ctx: EndpointContext | None = None):
        self._errors = errors
        self.endpoint_ctx = endpoint_ctx
        known: EndpointContext = endpoint_ctx or {}
        for part in _CONTEXT_PARTS:
            setattr(self, f"endpoint_{part}", known.get(part))

    def errors(self) -> Sequence[Any]:
        """The error dicts, as Pydantic reports them (``type``, ``loc``, ``msg``, ``input``)."""
        return self._errors

    def _where(self) -> str:
        path = self.endpoint_path
        if not (self.endpoint_file and self.endpoint_line and self.endpoint_function):
            return f"\n  Endpoint: {path}" if path else ""
        place = f'\n  File "{self.endpoint_file}", line {self.endpoint_line}'
        return f"{place}, in {self.endpoint_function}" + (f"\n    {path}" if path else "")

    def __str__(self) -> str:
        count = len(self._errors)
        lines = [f"{count} validation error{'' if count == 1 else 's'}:"]
        lines += [f"  {err}" for err in self._errors]
        return ("\n".join(lines) + "\n" + self._where()).rstrip()


_CONTEXT_PARTS = ("function", "path", "file", "line")


class _WithBody(ValidationException):
    """A validation error that keeps the data that failed (``body``)."""

    def __init__(
        self,
        errors: Sequence[Any],
        *,
        body: Any = None,
        endpoint_ctx: EndpointContext | None = None,
    ) -> None:
        self.body = body
        super().__init__(errors, endpoint_ctx=endpoint_ctx)


class RequestValidationError(_WithBody):
    """The request did not validate; answered with 422 and ``{"detail": errors}``."""


class WebSocketRequestValidationError(ValidationException):
    """A WebSocket's parameters did not validate; the socket is closed with 1008."""


class ResponseValidationError(_WithBody):
    """The endpoint's return value does not match its response model (a server error)."""
