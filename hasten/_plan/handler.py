"""The steps of one HTTP request on a compiled route: read the body, solve, call, write.

Everything that varies per route is decided when its ``CompiledRoute`` is built (``build.py``):
which body reader runs (``read``), how the endpoint is called (``call``: one worker-thread
hop for a plain ``def`` chain, awaited, in a worker thread, or as a stream) and which writer
turns its value into a response. These functions only run what was chosen; the ASGI edges
that drive them (exit stacks, exception handlers, ``dependency_overrides``) are in
``runner.py``.
"""

from __future__ import annotations

import email.message
import functools
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from .._body_limit import MAX_BODY_SIZE_SCOPE_KEY, limit_error
from .._form_limits import FORM_LIMITS_SCOPE_KEY
from .._starlette import first_header
from ..exceptions import EndpointContext, HTTPException, RequestValidationError
from .body import Prevalidated, SingleBody
from .dependencies import Context, Node, solve, solve_sync_values
from .respond import Writer
from .validate import Missing

#: Where the engine finds the hooks that observe requests (telemetry installs its own):
#: ``run`` replaces :func:`call_and_write`'s steps for an observed request, ``websocket`` a
#: WebSocket route's for an observed connection, ``failed`` hears of each validation
#: failure, and ``operation(name, function)`` gives the context manager of an operation span
#: (the patch-point path, ``patched.py``, takes FastAPI's steps inside them). Read when a
#: route is built, never per request.
OBSERVER: dict[str, Any] = {"run": None, "failed": None, "websocket": None, "operation": None}
#: The scope key under which an observed request carries its observation state.
OBSERVED_KEY = "fastapi.telemetry"


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    """One route, compiled: everything a request needs, fixed when the route is built.

    Frozen; ``route.plan`` holds it. ``for_overrides`` (``runner.py``) derives the compiled
    route for a version of ``dependency_overrides``; ``refresh_writers`` (``build.py``) swaps
    the writer when ``JSONResponse`` was patched after the route was built.
    """

    root: Node
    read: Any  # the body reader (``read_json``/``read_form``), None without a body
    call: Any  # how the endpoint is called: ``call_batched``/``call_async``/``call_sync``/…
    stream: Any  # a generator endpoint's stream writer, None otherwise
    is_async: bool
    strict_content_type: bool
    status_code: int | None
    writer: Writer
    needs_stack: bool
    stack_edge: bool  # the exit stacks are needed whatever the dependencies (forms, SSE)
    endpoint_ctx: EndpointContext
    path: str
    form_limits: dict[str, int]
    response_args: dict[str, Any]  # the writer's arguments when nothing changed them
    trivial: bool  # no parameters, no dependencies, a plain (non-streamed) answer
    json_body: SingleBody | None  # validates the JSON body straight from its bytes
    response_opts: Any  # what ``writer`` was made from (``respond.ResponseOptions``)
    json_patched: bool  # whether ``JSONResponse`` was patched when ``writer`` was made
    observer: Any  # the observed-request run installed at build time (None: never observed)
    on_failure: Any  # the validation-failure hook installed at build time
    serve: Any = None  # the ASGI edge (``runner.py``), set once the plan exists
    variants: dict[int, tuple[Node, CompiledRoute]] = field(default_factory=dict)
    # The overrides version used last: [its snapshot, the plan for it, the context's start].
    recent: list[Any] = field(default_factory=lambda: [None, None, None])
    #: How the runner sends an answer without a response object (``respond.direct_body``).
    direct: Any = None

    @property
    def body_kind(self) -> str | None:
        """None (no body), "json" or "form"."""
        if self.read is None:
            return None
        return "form" if self.read is read_form else "json"


# -- reading the body -------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _is_json_type(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


_LOADS = json.loads


def _json_declared(plan: CompiledRoute, scope: Scope) -> bool:
    """Whether the request's content type makes its body JSON for this route: a JSON type,
    or none at all (absent or empty) unless the route's content type is strict."""
    content_type = first_header(scope["headers"], b"content-type")
    if not content_type:
        return not plan.strict_content_type
    return _is_json_type(content_type)


async def read_json(plan: CompiledRoute, request: Request) -> Any:
    """A JSON route's body: validated from its bytes, parsed JSON, bytes, or Missing.

    Missing when the body is empty; the bytes when the content type is not JSON (or absent
    on a route with a strict content type); else parsed JSON. A body whose schema validates
    JSON text exactly as parsed JSON (``json_mode_safe``) is validated from its bytes in one
    pass instead (``Prevalidated``), outside the error mapping: an exception other than a
    validation error (none is expected from such a schema) is not turned into a 400. One
    that does not validate is parsed as usual, so that its errors read as FastAPI's.
    """
    try:
        body = await request.body()
        if not body:
            return Missing
        if not _json_declared(plan, request.scope):
            return body
        if plan.json_body is None or json.loads is not _LOADS:  # (tests patch json.loads)
            return await request.json()
    except Exception as exc:
        error = _body_error(plan, request, exc)
        if error is exc:
            raise
        raise error from exc
    checked = plan.json_body.from_json(body)
    if checked is not None:
        return checked
    try:  # not valid: parsed as usual, so that errors read as FastAPI's
        return await request.json()
    except Exception as exc:
        error = _body_error(plan, request, exc)
        if error is exc:
            raise
        raise error from exc


async def read_form(plan: CompiledRoute, request: Request) -> Any:
    """A form route's body. The runner closes it once the answer is done (handlers too)."""
    try:
        form = await request.form(**_form_limits(plan, request.scope))
    except Exception as exc:
        error = _body_error(plan, request, exc)
        if error is exc:
            raise
        raise error from exc
    forms = request.scope.get(FORMS_KEY)
    if forms is not None:
        forms.append(form)
    return form


#: The scope key of the list of form data a request read (``runner.closing_forms``).
FORMS_KEY = "hasten.forms"


def _body_error(plan: CompiledRoute, request: Request, exc: Exception) -> Exception:
    """What a failure to read the body answers: 422 for bad JSON, 413, or 400."""
    if isinstance(exc, json.JSONDecodeError):
        return _json_error(exc, plan)
    if isinstance(exc, StarletteHTTPException):
        return exc
    signal = limit_error(exc) if MAX_BODY_SIZE_SCOPE_KEY in request.scope else None
    if isinstance(signal, Exception):
        return signal
    return HTTPException(status_code=400, detail="There was an error parsing the body")


def _json_error(exc: json.JSONDecodeError, plan: CompiledRoute) -> RequestValidationError:
    error = {
        "type": "json_invalid",
        "loc": ("body", exc.pos),
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": exc.msg},
    }
    failure = RequestValidationError([error], body=exc.doc, endpoint_ctx=plan.endpoint_ctx)
    if plan.on_failure is not None:
        plan.on_failure(failure)
    return failure


def _form_limits(plan: CompiledRoute, scope: Scope) -> dict[str, int]:
    # The limits of the routers and apps that called this route, under the route's own.
    inherited = scope.get(FORM_LIMITS_SCOPE_KEY)
    return plan.form_limits if inherited is None else {**inherited, **plan.form_limits}


# -- calling the endpoint -----------------------------------------------------------------------


def endpoint_context(plan: CompiledRoute, request: Request) -> EndpointContext:
    """Where the endpoint is, and which request it was answering (``"GET /items/{id}"``)."""
    ctx = plan.endpoint_ctx.copy()
    mount = request.scope.get("root_path", "").rstrip("/")
    ctx["path"] = f"{request.method} {mount}{plan.path}"
    return ctx


def validation_error(plan: CompiledRoute, request: Request, ctx: Context) -> RequestValidationError:
    """The 422 of a request whose parameters, body or dependencies had errors."""
    body = ctx.body
    if body is Missing:
        body = None
    elif type(body) is Prevalidated:
        body = body.parsed()
    failure = RequestValidationError(
        ctx.errors, body=body, endpoint_ctx=endpoint_context(plan, request)
    )
    if plan.on_failure is not None:
        plan.on_failure(failure)
    return failure


def _batched_endpoint(plan: CompiledRoute, request: Request, ctx: Context) -> Any:
    values = solve_sync_values(plan.root, ctx)
    if ctx.errors:
        raise validation_error(plan, request, ctx)
    return plan.root.call(**values)  # type: ignore[misc]


async def call_batched(plan: CompiledRoute, request: Request, ctx: Context) -> Any:
    """A plain ``def`` endpoint whose dependencies are plain ``def`` too: one thread hop."""
    return await run_in_threadpool(_batched_endpoint, plan, request, ctx)


async def call_async(plan: CompiledRoute, request: Request, ctx: Context) -> Any:
    """An ``async def`` endpoint: dependencies solved, then awaited."""
    values = await solve(plan.root, ctx)
    if ctx.errors:
        raise validation_error(plan, request, ctx)
    return await plan.root.call(**values)  # type: ignore[misc]


async def call_json_body(plan: CompiledRoute, request: Request, ctx: Context) -> Any:
    """An ``async def`` endpoint whose one parameter is the JSON body (``item: Item``, no
    dependencies): a body validated from its bytes is its argument, as ``solve`` would pass
    it; any other body is solved (``call_async``)."""
    body = ctx.body
    if type(body) is Prevalidated:
        root = plan.root
        return await root.call(**{root.body.field.name: body.value})  # type: ignore[misc,union-attr]
    return await call_async(plan, request, ctx)


async def call_sync(plan: CompiledRoute, request: Request, ctx: Context) -> Any:
    """A plain ``def`` endpoint with dependencies that are not: called in a worker thread."""
    values = await solve(plan.root, ctx)
    if ctx.errors:
        raise validation_error(plan, request, ctx)
    return await run_in_threadpool(plan.root.call, **values)  # type: ignore[arg-type]


async def call_stream(plan: CompiledRoute, request: Request, ctx: Context) -> Response:
    """A generator endpoint: its items are the body of the response it answers."""
    values = await solve(plan.root, ctx)
    if ctx.errors:
        raise validation_error(plan, request, ctx)
    gen = plan.root.call(**values)  # type: ignore[misc]
    response = await plan.stream(gen, response_args(plan.status_code, ctx), ctx)
    return with_sub_headers(response, ctx)


async def call_and_write(plan: CompiledRoute, request: Request, ctx: Context) -> Response:
    """Solve, call the endpoint and write its response (an observed request: the observer's)."""
    scope = request.scope
    if OBSERVED_KEY in scope and plan.observer is not None:
        state = scope[OBSERVED_KEY]
        if state is not None:
            return await plan.observer(plan, request, ctx, state)  # type: ignore[no-any-return]
    raw = await plan.call(plan, request, ctx)
    if isinstance(raw, Response):
        if raw.background is None:
            raw.background = ctx.background
        return raw
    if ctx.response is None and ctx.background is None:
        return plan.writer(raw, plan.response_args)
    return respond(plan.writer, plan.status_code, raw, ctx)


# -- writing the response -----------------------------------------------------------------------


def response_args(status_code: int | None, ctx: Context) -> dict[str, Any]:
    """Background tasks and the status: the ``Response`` parameter's, else the route's."""
    args: dict[str, Any] = {"background": ctx.background}
    sub = ctx.response
    if sub is not None and sub.status_code:
        args["status_code"] = sub.status_code
    elif status_code:
        args["status_code"] = status_code
    return args


def with_sub_headers(response: Response, ctx: Context) -> Response:
    """Headers (and cookies) set on the ``Response`` parameter go on the real response."""
    if ctx.response is not None:
        response.headers.raw.extend(ctx.response.headers.raw)
    return response


def respond(writer: Writer, status_code: int | None, raw: Any, ctx: Context) -> Response:
    """The writer's response, with what the ``Response`` parameter and background tasks set."""
    return with_sub_headers(writer(raw, response_args(status_code, ctx)), ctx)
