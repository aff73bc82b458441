"""The per-request handler of an HTTP route: read body → solve → call → write.

Everything that varies per route was decided when the ``RoutePlan`` was built; these
functions only run it.
"""

from __future__ import annotations

import email.message
import functools
import json
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from anyio import CancelScope
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from .._body_limit import MAX_BODY_SIZE_SCOPE_KEY, limit_error
from .._form_limits import FORM_LIMITS_SCOPE_KEY
from .._starlette import (
    RouteRequest,
    first_header,
    is_async_callable,
    lookup_handler,
    wrap_app_handling_exceptions,
)
from ..exceptions import (
    EndpointContext,
    HastenError,
    HTTPException,
    RequestValidationError,
    ResponseValidationError,
)
from ..telemetry._api import _ACTIVE as _TELEMETRY
from ..telemetry._api import validation_failed
from .body import Prevalidated, RawJSON, SingleBody
from .dependencies import Context, Node, solve, solve_sync_values
from .respond import Writer
from .validate import Missing

_NOT_AWAITED = (
    "Response not awaited. There's a high chance that the application code is raising an"
    " exception and a dependency with yield has a block with a bare except, or a block with"
    " except Exception, and is not raising the exception again. Read more about it in the"
    " docs: https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/#dependencies-with-yield-and-except"
)


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """Everything a route needs per request, fixed at startup."""

    stream: Any
    root: Node
    is_async: bool
    body_kind: str | None
    strict_content_type: bool
    status_code: int | None
    writer: Writer
    needs_stack: bool
    endpoint_ctx: EndpointContext
    path: str
    compiler: Any
    form_limits: dict[str, int]
    response_args: dict[str, Any]  # the writer's arguments when nothing changed them
    trivial: bool  # no parameters, no dependencies, a plain (non-streamed) answer
    json_body: SingleBody | None  # validates the JSON body straight from its bytes
    response_opts: Any  # what ``writer`` was made from (``respond.ResponseOptions``)
    json_patched: bool  # whether ``JSONResponse`` was patched when ``writer`` was made


@functools.lru_cache(maxsize=256)
def _is_json_type(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


async def _read_json(plan: RoutePlan, request: Request) -> Any:
    """The parsed JSON body, the raw bytes when it is not JSON, or Missing when empty.

    A body whose schema validates JSON text exactly as parsed JSON (``json_mode_safe``) is
    only checked for being JSON here; :func:`prevalidate` then validates it from its bytes.
    """
    body = await request.body()
    if not body:
        return Missing
    content_type = first_header(request.scope["headers"], b"content-type")
    if not content_type:  # absent or empty: JSON unless the route is strict
        if plan.strict_content_type:
            return body
    elif not _is_json_type(content_type):
        return body
    if plan.json_body is not None:
        return RawJSON(body)
    return await request.json()


async def _validate_raw(plan: RoutePlan, request: Request, body: RawJSON) -> Any:
    """Validate a ``RawJSON`` body from its bytes in one pass, or parse it the usual way.

    Runs outside :func:`read_body`'s error mapping: an exception other than a validation
    error (none is expected from a ``json_mode_safe`` schema) is not turned into a 400.
    """
    checked = plan.json_body.from_json(body.raw)  # type: ignore[union-attr]
    if checked is not None:
        return checked
    try:
        return await request.json()
    except json.JSONDecodeError as exc:
        raise _json_error(exc, plan) from exc


def _json_error(exc: json.JSONDecodeError, plan: RoutePlan) -> RequestValidationError:
    error = {
        "type": "json_invalid",
        "loc": ("body", exc.pos),
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": exc.msg},
    }
    failure = RequestValidationError([error], body=exc.doc, endpoint_ctx=plan.endpoint_ctx)
    validation_failed(failure)  # telemetry (error path only)
    return failure


async def read_body(plan: RoutePlan, request: Request) -> Any:
    """The request body as the route needs it: parsed JSON, bytes, form data, or Missing.

    Form data (and its files) is closed by :func:`_closing_forms` once the route's answer,
    exception handlers included, is done: the handlers may still read the files.
    """
    try:
        if plan.body_kind == "form":
            form = await request.form(**_form_limits(plan, request.scope))
            forms = request.scope.get(_FORMS)
            if forms is not None:
                forms.append(form)
            return form
        body = await _read_json(plan, request)
    except json.JSONDecodeError as exc:
        raise _json_error(exc, plan) from exc
    except StarletteHTTPException:
        raise
    except Exception as exc:
        signal = limit_error(exc) if MAX_BODY_SIZE_SCOPE_KEY in request.scope else None
        if signal is not None:
            raise signal from exc
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
    if type(body) is RawJSON:
        return await _validate_raw(plan, request, body)
    return body


def _form_limits(plan: RoutePlan, scope: Scope) -> dict[str, int]:
    # The limits of the routers and apps that called this route, under the route's own.
    inherited = scope.get(FORM_LIMITS_SCOPE_KEY)
    return plan.form_limits if inherited is None else {**inherited, **plan.form_limits}


def endpoint_context(plan: RoutePlan, request: Request) -> EndpointContext:
    ctx = plan.endpoint_ctx.copy()
    mount = request.scope.get("root_path", "").rstrip("/")
    ctx["path"] = f"{request.method} {mount}{plan.path}"
    return ctx


def _validation_error(plan: RoutePlan, request: Request, ctx: Context) -> RequestValidationError:
    body = ctx.body
    if body is Missing:
        body = None
    elif type(body) is Prevalidated:
        body = body.parsed()
    failure = RequestValidationError(
        ctx.errors, body=body, endpoint_ctx=endpoint_context(plan, request)
    )
    validation_failed(failure)  # telemetry (error path only)
    return failure


def _call_sync_endpoint(plan: RoutePlan, request: Request, ctx: Context) -> Any:
    """A plain ``def`` endpoint with plain ``def`` dependencies: all in one worker thread."""
    values = solve_sync_values(plan.root, ctx)
    if ctx.errors:
        raise _validation_error(plan, request, ctx)
    return plan.root.call(**values)  # type: ignore[misc]


async def run_plan(plan: RoutePlan, request: Request, ctx: Context) -> Response:
    """Solve dependencies, call the endpoint and build the response."""
    observed = _TELEMETRY.get()  # set only while telemetry observes the request
    if observed is not None:
        from ..telemetry._operations import traced_run_plan

        return await traced_run_plan(plan, request, ctx, observed)
    root: Node = plan.root
    if root.batchable and not ctx.overrides:
        raw = await run_in_threadpool(_call_sync_endpoint, plan, request, ctx)
    else:
        values = await solve(root, ctx)
        if ctx.errors:
            raise _validation_error(plan, request, ctx)
        if plan.stream is not None:  # a generator endpoint: its items are the body
            gen = root.call(**values)  # type: ignore[misc]
            response = await plan.stream(gen, _response_args(plan.status_code, ctx), ctx)
            return _with_sub_headers(response, ctx)
        if plan.is_async:
            raw = await root.call(**values)  # type: ignore[misc]
        else:
            raw = await run_in_threadpool(root.call, **values)  # type: ignore[arg-type]
    if isinstance(raw, Response):
        if raw.background is None:
            raw.background = ctx.background
        return raw
    try:
        if ctx.response is None and ctx.background is None:
            return plan.writer(raw, plan.response_args)
        return _respond(plan.writer, plan.status_code, raw, ctx)
    except ResponseValidationError as exc:  # say which request it was
        where = endpoint_context(plan, request)
        exc.endpoint_ctx, exc.endpoint_path = where, where.get("path")
        raise


def _response_args(status_code: int | None, ctx: Context) -> dict[str, Any]:
    """Background tasks and the status: the ``Response`` parameter's, else the route's."""
    args: dict[str, Any] = {"background": ctx.background}
    sub = ctx.response
    if sub is not None and sub.status_code:
        args["status_code"] = sub.status_code
    elif status_code:
        args["status_code"] = status_code
    return args


def _with_sub_headers(response: Response, ctx: Context) -> Response:
    """Headers (and cookies) set on the ``Response`` parameter go on the real response."""
    if ctx.response is not None:
        response.headers.raw.extend(ctx.response.headers.raw)
    return response


def _respond(writer: Writer, status_code: int | None, raw: Any, ctx: Context) -> Response:
    return _with_sub_headers(writer(raw, _response_args(status_code, ctx)), ctx)


async def handled_response(request: Request, exc: Exception) -> Response:
    """Turn ``exc`` into a response with the app's handler; re-raise when there is none."""
    handler = lookup_handler(request.scope, exc)
    if handler is None:
        raise exc
    if is_async_callable(handler):
        response = await handler(request, exc)
    else:
        response = await run_in_threadpool(handler, request, exc)
    exc.__traceback__ = None
    return response  # type: ignore[no-any-return]


async def send_response(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    """Send ``response``; a streamed body's iterator is closed however the sending ended.

    A client that goes away mid-stream (a failed ``send``, an ``http.disconnect`` that
    Starlette answers by cancelling the stream) would otherwise leave the endpoint's
    generator suspended until garbage collection: its ``finally`` blocks run now instead.
    """
    if not isinstance(response, StreamingResponse):
        await response(scope, receive, send)
        return
    try:
        await response(scope, receive, send)
    finally:
        aclose = getattr(response.body_iterator, "aclose", None)
        if aclose is not None:
            with CancelScope(shield=True):
                await aclose()


def request_app(plan: RoutePlan, route: Any) -> Any:
    """The ASGI app of one HTTP route (``route`` gives the ``dependency_overrides`` provider)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        provider = route.dependency_overrides_provider
        if provider is None:
            provider = scope["app"] if "app" in scope else None
        try:
            overrides = provider.dependency_overrides
        except AttributeError:
            overrides = None
        if plan.needs_stack or overrides:
            stacked = RouteRequest(scope, receive, send)
            inner = wrap_app_handling_exceptions(_with_stacks(plan, stacked, overrides), stacked)
            if plan.body_kind == "form":
                inner = _closing_forms(inner)
            await inner(scope, receive, send)
            return
        request: Request | None = None
        try:
            if plan.trivial:  # no parameters: no request object needed
                response = await _run_trivial(plan, scope)
            else:
                request = RouteRequest(scope, receive, send)
                body = Missing if plan.body_kind is None else await read_body(plan, request)
                response = await run_plan(
                    plan, request, Context(request, body, overrides, plan.compiler)
                )
        except Exception as exc:
            if request is None:
                request = RouteRequest(scope, receive, send)
            response = await handled_response(request, exc)
        await send_response(response, scope, receive, send)

    return app


async def _run_trivial(plan: RoutePlan, scope: Scope) -> Response:
    """An endpoint without parameters or dependencies: call it and write its answer."""
    if _TELEMETRY.get() is not None:  # observed by telemetry: the full run, with its spans
        request = RouteRequest(scope)
        return await run_plan(plan, request, Context(request, Missing, None, plan.compiler))
    call: Any = plan.root.call
    raw = await call() if plan.is_async else await run_in_threadpool(call)
    if isinstance(raw, Response):
        return raw
    try:
        return plan.writer(raw, plan.response_args)
    except ResponseValidationError as exc:  # say which request it was
        where = endpoint_context(plan, RouteRequest(scope))
        exc.endpoint_ctx, exc.endpoint_path = where, where.get("path")
        raise


def _with_stacks(plan: RoutePlan, request: Request, overrides: Any) -> Any:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        done = False
        async with AsyncExitStack() as request_stack:
            body = Missing
            if plan.body_kind is not None:
                body = await read_body(plan, request)
            ctx = Context(request, body, overrides, plan.compiler)
            ctx.request_stack = request_stack
            async with AsyncExitStack() as function_stack:
                ctx.function_stack = function_stack
                response = await run_plan(plan, request, ctx)
            await send_response(response, scope, receive, send)
            done = True
        if not done:
            raise HastenError(_NOT_AWAITED)

    return inner


_REQUEST_STACK = "hasten.request_stack"
_FUNCTION_STACK = "hasten.function_stack"
_FORMS = "hasten.forms"


def _closing_forms(app: Any) -> Any:
    """``app``, closing the form data its route read once it is done, however it ends."""

    async def closing(scope: Scope, receive: Receive, send: Send) -> None:
        forms: list[Any] = []
        scope[_FORMS] = forms
        try:
            await app(scope, receive, send)
        finally:
            del scope[_FORMS]
            for form in forms:
                await form.close()

    return closing


def plan_handler(plan: RoutePlan, overrides_of: Any) -> Any:
    """``request → response`` for the plan, for route classes that wrap ``get_route_handler``.

    Dependency exit stacks come from the scope (see :func:`handler_app`), so request-scoped
    teardown still runs after the response is sent.
    """

    async def handler(request: Request) -> Response:
        scope = request.scope
        request_stack = scope.get(_REQUEST_STACK)
        body = Missing
        if plan.body_kind is not None:
            body = await read_body(plan, request)
        ctx = Context(request, body, overrides_of(scope), plan.compiler)
        ctx.request_stack = request_stack
        ctx.function_stack = scope.get(_FUNCTION_STACK)
        return await run_plan(plan, request, ctx)

    return handler


def handler_app(handler: Any) -> Any:
    """The ASGI app around a ``request → response`` handler, with dependency exit stacks."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)

        async def inner(scope: Scope, receive: Receive, send: Send) -> None:
            async with AsyncExitStack() as request_stack:
                scope[_REQUEST_STACK] = request_stack
                async with AsyncExitStack() as function_stack:
                    scope[_FUNCTION_STACK] = function_stack
                    response = await handler(request)
                await send_response(response, scope, receive, send)

        await _closing_forms(wrap_app_handling_exceptions(inner, request))(scope, receive, send)

    return app
