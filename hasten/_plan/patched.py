"""A route's request handler through FastAPI's patchable functions.

Instrumentations (Sentry, Logfire, Datadog, …) replace functions of ``fastapi.routing``:
``get_request_handler``, ``solve_dependencies``, ``run_endpoint_function``,
``serialize_response``, ``request_response``. When one of them is replaced — checked when a
route is built and when the app builds its middleware stack, never per request — the route
answers through this handler, which takes the steps FastAPI's handler takes, each through
the function of that name on ``api`` (the ``hasten.routing`` module, handed in, so a
replacement made there is the one called). Reading the body, streams and error shapes are
the engine's own; when nothing is replaced, routes run their compiled runner instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._starlette import JSONBytesResponse
from ..exceptions import RequestValidationError
from .dependencies import Context
from .handler import (
    OBSERVED_KEY,
    OBSERVER,
    CompiledRoute,
    endpoint_context,
    response_args,
    with_sub_headers,
)
from .validate import Missing

_NO_BODY = frozenset(range(100, 200)) | {204, 205, 304}


@dataclasses.dataclass(frozen=True, slots=True)
class HandlerOptions:
    """What FastAPI's ``get_request_handler`` is given, besides the dependant."""

    response_field: Any
    response_class: type[Response]
    default_class: bool  # the response class was not chosen: models dump JSON bytes
    include: Any
    exclude: Any
    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool
    overrides_provider: Any
    embed_body_fields: bool
    request_stack_key: str


def patched_handler(
    plan: CompiledRoute, options: HandlerOptions, api: Any
) -> Callable[[Request], Awaitable[Response]]:
    """``request → response`` for ``plan``, calling ``api``'s functions as FastAPI does."""
    plan = dataclasses.replace(plan, json_body=None)  # the body is parsed, as FastAPI's is
    dependant = plan.root.dependant
    operation = OBSERVER["operation"] or no_operation

    async def handler(request: Request) -> Response:
        data = getattr(request.scope.get(OBSERVED_KEY), "data", None)  # the request's telemetry
        if data is not None:
            data.request = request
        body = Missing if plan.read is None else await plan.read(plan, request)
        if data is not None:
            data.body = None if body is Missing else body
        with operation("dependencies", dependant.call):
            solved = await api.solve_dependencies(
                request=request,
                dependant=dependant,
                body=body,  # Undefined (Missing) when there is none, None for a JSON null
                dependency_overrides_provider=_provider(options, request),
                async_exit_stack=request.scope.get(options.request_stack_key),
                embed_body_fields=options.embed_body_fields,
            )
            if data is not None:
                data.values, data.errors = solved.values, solved.errors
        if solved.errors:
            raise _failure(plan, request, solved.errors, body)
        if plan.stream is not None:
            return await _stream(plan, request, solved, options)
        raw = await api.run_endpoint_function(
            dependant=dependant, values=solved.values, is_coroutine=plan.is_async
        )
        if isinstance(raw, Response):
            if raw.background is None:
                raw.background = solved.background_tasks
            return raw
        with operation("serialization", dependant.call):
            response = await _serialized(plan, request, raw, solved, options, api)
        response.headers.raw.extend(solved.response.headers.raw)
        return response

    return handler


def no_operation(name: str, function: Any) -> AbstractContextManager[None]:
    """A stand-in for telemetry's operation spans when none is installed."""
    return nullcontext()


def _provider(options: HandlerOptions, request: Request) -> Any:
    provider = options.overrides_provider
    return provider if provider is not None else request.scope.get("app")


def _failure(
    plan: CompiledRoute, request: Request, errors: list[Any], body: Any
) -> RequestValidationError:
    failure = RequestValidationError(
        errors,
        body=None if body is Missing else body,
        endpoint_ctx=endpoint_context(plan, request),
    )
    if plan.on_failure is not None:
        plan.on_failure(failure)
    return failure


def _args(plan: CompiledRoute, solved: Any) -> dict[str, Any]:
    """The status (the ``Response`` parameter's, else the route's) and background tasks."""
    args: dict[str, Any] = {"background": solved.background_tasks}
    status = plan.status_code or solved.response.status_code
    if status is not None:
        args["status_code"] = status
    if solved.response.status_code:
        args["status_code"] = solved.response.status_code
    return args


async def _serialized(
    plan: CompiledRoute,
    request: Request,
    raw: Any,
    solved: Any,
    options: HandlerOptions,
    api: Any,
) -> Response:
    dump_json = options.response_field is not None and options.default_class
    content = await api.serialize_response(
        field=options.response_field,
        response_content=raw,
        include=options.include,
        exclude=options.exclude,
        by_alias=options.by_alias,
        exclude_unset=options.exclude_unset,
        exclude_defaults=options.exclude_defaults,
        exclude_none=options.exclude_none,
        is_coroutine=plan.is_async,
        endpoint_ctx=endpoint_context(plan, request),
        dump_json=dump_json,
    )
    args = _args(plan, solved)
    if dump_json:
        return JSONBytesResponse(content, **args)
    response = options.response_class(content, **args)
    if response.status_code in _NO_BODY:
        response.body = b""
    return response


async def _stream(
    plan: CompiledRoute, request: Request, solved: Any, options: HandlerOptions
) -> Response:
    """A generator endpoint's items as the body (the engine's stream writers)."""
    ctx = Context(request, Missing, None)
    ctx.request_stack = request.scope.get(options.request_stack_key)
    ctx.background = solved.background_tasks
    ctx.response = solved.response
    gen = plan.root.dependant.call(**solved.values)  # type: ignore[misc]
    response = await plan.stream(gen, response_args(plan.status_code, ctx), ctx)
    return with_sub_headers(response, ctx)
