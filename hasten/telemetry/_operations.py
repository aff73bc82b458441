"""A route's plan run under telemetry: the data for processors, and the operation spans.

``hasten._plan.handler.run_plan`` hands a request here only when the request is observed
(``_ACTIVE`` is set); otherwise none of this runs. The steps are those of ``run_plan``, each in
its ``fastapi.dependencies`` / ``fastapi.endpoint`` / ``fastapi.serialization`` span.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .._plan import handler as _handler
from .._plan.body import Prevalidated
from .._plan.dependencies import Context, solve
from .._plan.validate import Missing
from ..exceptions import ResponseValidationError
from ._api import TelemetryData, _RequestTelemetry, operation


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
        raise _handler._validation_error(plan, request, ctx)
    if plan.stream is not None:
        gen = root.call(**values)
        response = await plan.stream(gen, _handler._response_args(plan.status_code, ctx), ctx)
        return _handler._with_sub_headers(response, ctx)
    if plan.is_async:
        with operation("endpoint", root.call):
            return await root.call(**values)
    return await run_in_threadpool(_call_endpoint, root.call, values)


async def _body_seen(request: Request, body: Any) -> Any:
    """The body as parsed before validation (a JSON body validated from bytes is re-read)."""
    if body is Missing:
        return None
    if type(body) is Prevalidated:
        return await request.json()
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
            return _handler._respond(plan.writer, plan.status_code, raw, ctx)
    except ResponseValidationError as exc:
        where = _handler.endpoint_context(plan, request)
        exc.endpoint_ctx, exc.endpoint_path = where, where.get("path")
        raise
