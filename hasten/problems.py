"""Problem Details for HTTP APIs (RFC 9457): errors as ``application/problem+json``.

Opt-in: FastAPI's ``{"detail": ...}`` bodies stay the default. :func:`install` makes an app
answer ``HTTPException`` (status, detail and headers kept), request validation errors (422
with FastAPI's error list, unchanged, under ``errors``), :class:`Problem` and unhandled
exceptions (500, nothing about the exception in the body) with a problem object::

    {"type": "about:blank", "title": "Not Found", "status": 404,
     "detail": "Not Found", "instance": "/items/42"}

Handlers the app already has for those exceptions (or registers later) keep priority, and
errors of WebSocket connections keep FastAPI's behaviour. With the app's OpenAPI document on,
its 4xx/5xx responses are documented with the ``Problem`` (422: ``ValidationProblem``) schema.
"""

from __future__ import annotations

import http
from collections.abc import Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from . import exception_handlers as _defaults
from .encoders import _json_safe, jsonable_encoder
from .exceptions import RequestValidationError
from .utils import is_body_allowed_for_status_code

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "Problem",
    "ProblemResponse",
    "install",
    "problem_body",
]

#: The media type of a problem object (RFC 9457, section 3).
PROBLEM_MEDIA_TYPE = "application/problem+json"

_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})


class ProblemResponse(JSONResponse):
    """A JSON response served as ``application/problem+json``."""

    media_type = PROBLEM_MEDIA_TYPE


class Problem(StarletteHTTPException):
    """An HTTP error carrying a problem object; extension members are keyword arguments.

    ``raise Problem(403, type="out-of-credit", detail="Balance 30, cost 50", balance=30)``.
    A relative ``type`` is joined to the ``type_base`` given to :func:`install`. Without
    problem details installed it is an ``HTTPException`` like any other (``{"detail": ...}``).
    """

    def __init__(
        self,
        status_code: int,
        *,
        type: str = "about:blank",
        title: str | None = None,
        detail: Any = None,
        instance: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        clash = _MEMBERS.intersection(extensions)
        if clash:  # pragma: no cover - keyword arguments cannot repeat the named ones
            raise TypeError(f"extension members may not be named {sorted(clash)}")
        super().__init__(status_code, detail=detail, headers=dict(headers) if headers else None)
        self.type = type
        self.title = title
        self.instance = instance
        self.extensions = extensions
        self._detail_given = detail is not None


# RFC 9110's names where older Pythons' http.HTTPStatus still has RFC 7231's: the same title
# whichever Python serves.
_RFC_9110_TITLES = {
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
}


def _reason(status: int) -> str | None:
    if status in _RFC_9110_TITLES:
        return _RFC_9110_TITLES[status]
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return None


def problem_body(
    status: int,
    *,
    type: str = "about:blank",
    title: str | None = None,
    detail: Any = None,
    instance: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """A problem object: ``type``, ``title`` (the reason phrase unless given), ``status``,
    then ``detail``, ``instance`` and the extension members that are not ``None``."""
    body: dict[str, Any] = {"type": type}
    title = title if title is not None else _reason(status)
    if title is not None:
        body["title"] = title
    body["status"] = status
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body.update(extensions)
    return body


def _render(body: dict[str, Any], status: int, headers: Any) -> Response:
    """The problem response; what strict JSON cannot carry is made safe (as FastAPI's errors)."""
    try:
        return ProblemResponse(jsonable_encoder(body), status_code=status, headers=headers)
    except (ValueError, RecursionError):  # NaN, a lone surrogate, input nested too deep
        safe = _json_safe(jsonable_encoder(_json_safe(body)))
        return ProblemResponse(safe, status_code=status, headers=headers)


class _Handlers:
    """The handlers :func:`install` registers, bound to its ``type_base``."""

    def __init__(self, type_base: str | None) -> None:
        self.type_base = type_base

    def _type(self, value: str) -> str:
        if self.type_base is None or value == "about:blank" or ":" in value:
            return value  # "about:blank" and absolute URIs are kept as they are
        return self.type_base.rstrip("/") + "/" + value.lstrip("/")

    async def http_exception(self, conn: HTTPConnection, exc: Exception) -> Response | None:
        assert isinstance(exc, StarletteHTTPException)
        if conn.scope["type"] != "http":  # a WebSocket: FastAPI's behaviour
            return await _defaults.http_exception_handler(conn, exc)  # type: ignore[arg-type]
        headers = getattr(exc, "headers", None)
        status = exc.status_code
        if not is_body_allowed_for_status_code(status):
            return Response(status_code=status, headers=headers)
        if isinstance(exc, Problem):
            detail = exc.detail if exc._detail_given else None
            body = problem_body(
                status,
                type=self._type(exc.type),
                title=exc.title,
                detail=detail,
                instance=exc.instance if exc.instance is not None else conn.url.path,
                **exc.extensions,
            )
        else:
            body = problem_body(status, detail=exc.detail, instance=conn.url.path)
        return _render(body, status, headers)

    async def validation(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        body = problem_body(
            422,
            detail="The request is not valid.",
            instance=request.url.path,
            errors=exc.errors(),
        )
        return _render(body, 422, None)

    async def server_error(self, request: Request, exc: Exception) -> Response:
        return _render(problem_body(500, instance=request.url.path), 500, None)


def _keep_user_handler(app: Any, key: Any, default: Callable[..., Any] | None) -> bool:
    current = app.exception_handlers.get(key)
    return current is not None and current is not default


def install(app: Any, *, type_base: str | None = None, openapi: bool = True) -> None:
    """Render the app's errors as Problem Details (RFC 9457).

    ``type_base`` (e.g. ``"https://example.com/problems"``) is joined to the relative ``type``
    of a :class:`Problem`. Handlers already registered for ``HTTPException``, validation
    errors, ``Problem`` or 500/``Exception`` are kept; handlers registered afterwards replace
    these. With ``openapi`` the document's 4xx/5xx responses show the problem schemas.
    """
    handlers = _Handlers(type_base)
    table = app.exception_handlers
    pairs: list[tuple[Any, Callable[..., Any], Callable[..., Any] | None]] = [
        (StarletteHTTPException, handlers.http_exception, _defaults.http_exception_handler),
        (
            RequestValidationError,
            handlers.validation,
            _defaults.request_validation_exception_handler,
        ),
        (Problem, handlers.http_exception, None),
    ]
    for key, handler, default in pairs:
        if not _keep_user_handler(app, key, default):
            table[key] = handler
    if 500 not in table and Exception not in table:
        table[Exception] = handlers.server_error
    app.middleware_stack = None  # built again with the new handlers on the next request
    app.state.problem_details = handlers
    if openapi:
        _document_problems(app)


# --- OpenAPI ----------------------------------------------------------------------------------

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "A problem object (RFC 9457).",
    "properties": {
        "type": {"title": "Type", "type": "string", "default": "about:blank"},
        "title": {"title": "Title", "type": "string"},
        "status": {"title": "Status", "type": "integer"},
        "detail": {"title": "Detail"},
        "instance": {"title": "Instance", "type": "string"},
    },
    "required": ["type", "status"],
    "additionalProperties": True,
}

_VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ValidationProblem",
    "type": "object",
    "description": "A problem object (RFC 9457) listing the request's validation errors.",
    "properties": {
        **_PROBLEM_SCHEMA["properties"],
        "errors": {
            "title": "Errors",
            "type": "array",
            "items": {"$ref": "#/components/schemas/ValidationError"},
        },
    },
    "required": ["type", "status", "errors"],
    "additionalProperties": True,
}

_HTTP_VALIDATION_REF = "#/components/schemas/HTTPValidationError"


def _document_problems(app: Any) -> None:
    """Wrap ``app.openapi`` so each document it returns shows the problem schemas."""
    generate = app.openapi
    done: list[int] = []

    def openapi() -> dict[str, Any]:
        document: dict[str, Any] = generate()
        if not done or done[0] != id(document):
            _rewrite(document)
            done[:] = [id(document)]
        return document

    app.openapi = openapi


def _is_error_status(code: str) -> bool:
    return code[:1] in ("4", "5") or code == "default"


def _rewrite(document: dict[str, Any]) -> None:
    used = False
    for operations in (document.get("paths") or {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for code, response in (operation.get("responses") or {}).items():
                if _is_error_status(str(code)) and isinstance(response, dict):
                    used = _rewrite_response(response) or used
    if not used:
        return
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", _PROBLEM_SCHEMA)
    if "ValidationError" in schemas:
        schemas.setdefault("ValidationProblem", _VALIDATION_PROBLEM_SCHEMA)
    if _HTTP_VALIDATION_REF not in repr(document.get("paths")):
        schemas.pop("HTTPValidationError", None)


def _rewrite_response(response: dict[str, Any]) -> bool:
    content = response.get("content")
    if content and PROBLEM_MEDIA_TYPE in content:
        return True
    if content is None or not content:
        response["content"] = {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
        return True
    json_content = content.get("application/json")
    schema = json_content.get("schema") if isinstance(json_content, dict) else None
    if schema == {"$ref": _HTTP_VALIDATION_REF} and len(content) == 1:
        ref = {"$ref": "#/components/schemas/ValidationProblem"}
        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": ref}}
        return True
    return False  # a schema the app declared itself: kept
