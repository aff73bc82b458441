"""A route's plan run under telemetry: the data for processors, and the operation spans.

Importing this module installs its functions as the engine's observer hooks
(``hasten._plan.handler.OBSERVER``); routes built afterwards hand an observed request (one
whose scope carries its telemetry state) to :func:`traced_run_plan`, an observed WebSocket
connection to :func:`traced_websocket`, and each validation failure to ``validation_failed``.
Unobserved requests never reach this module. The steps are those of the engine's
``call_and_write``, each in its ``fastapi.dependencies`` / ``fastapi.endpoint`` /
``fastapi.serialization`` span.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from .._plan import handler as _handler
from .._plan.body import Prevalidated
from .._plan.dependencies import Context, Node, solve
from .._plan.validate import Missing
from .._plan.websocket import websocket_failure
from ..exceptions import ResponseValidationError
from ._api import TelemetryData, _RequestTelemetry, operation, validation_failed


def _solved(data: TelemetryData | None, values: dict[str, Any], ctx: Context) -> None:
    if data is not None:
        data.values = values
        data.errors = ctx.errors


def _call_endpoint(call: Any, values: dict[str, Any]) -> Any:
    with operation("endpoint", call):
        return call(**values)


async def _call(plan: Any, request: Request, ctx: Context, data: TelemetryData | None) -> Any:
    # Dependencies are solved on the event loop (plain ``def`` ones in worker threads), never
    # batched with the endpoint into one thread: each operation gets its own span.
    root = plan.root
    with operation("dependencies", root.call):
        values = await solve(root, ctx)
        _solved(data, values, ctx)
    if ctx.errors:
        raise _handler.validation_error(plan, request, ctx)
    if plan.stream is not None:
        gen = root.call(**values)
        response = await plan.stream(gen, _handler.response_args(plan.status_code, ctx), ctx)
        return _handler.with_sub_headers(response, ctx)
    if plan.is_async:
        with operation("endpoint", root.call):
            return await root.call(**values)
    return await run_in_threadpool(_call_endpoint, root.call, values)


async def _body_seen(request: Request, body: Any) -> Any:
    """The body as parsed before validation (a JSON body validated from bytes is re-read)."""
    if body is Missing:
        return None
    if type(body) is Prevalidated:
        return body.parsed()
    return body


async def traced_run_plan(
    plan: Any, request: Request, ctx: Context, state: _RequestTelemetry
) -> Response:
    """``run_plan`` with the request's telemetry data filled in and operation spans."""
    data = state.data
    if data is not None:
        data.request = request
        data.body = await _body_seen(request, ctx.body)
    raw = await _call(plan, request, ctx, data)
    if isinstance(raw, Response):
        if raw.background is None:
            raw.background = ctx.background
        return raw
    try:
        with operation("serialization", plan.root.call):
            if ctx.response is None and ctx.background is None:
                return plan.writer(raw, plan.response_args)  # type: ignore[no-any-return]
            return _handler.respond(plan.writer, plan.status_code, raw, ctx)
    except ResponseValidationError as exc:
        where = _handler.endpoint_context(plan, request)
        exc.endpoint_ctx, exc.endpoint_path = where, where.get("path")
        raise


async def traced_websocket(
    dependant: Any, root: Node, where: Any, websocket: WebSocket, ctx: Context, state: Any
) -> None:
    """A WebSocket route's steps for an observed connection, each in its operation span."""
    data = state.data
    if data is not None:
        data.websocket = websocket
    with operation("dependencies", dependant.call):
        values = await solve(root, ctx)
        if data is not None:
            data.values, data.errors = values, ctx.errors
    if ctx.errors:
        raise websocket_failure(dependant, where, websocket.scope, ctx)
    with operation("endpoint", dependant.call):
        await dependant.call(**values)


_handler.OBSERVER.update(
    run=traced_run_plan, websocket=traced_websocket, failed=validation_failed, operation=operation
)
