"""FastAPI's request-path functions, which instrumentations replace (``fastapi.routing.*``).

``hasten.routing`` re-exports each under FastAPI's name. Hasten's routes do not call them:
they run their compiled runner. When an instrumentation has replaced one of them on the
``hasten.routing`` module (see :func:`replaced`), routes are built through them instead —
``request_response(route.get_route_handler())``, the handler from ``get_request_handler`` —
and the handler (``hasten._plan.patched``) calls ``solve_dependencies``,
``run_endpoint_function`` and ``serialize_response`` on that module at each request, so the
replacements see every request as they would on FastAPI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from types import ModuleType
from typing import Any
from weakref import WeakKeyDictionary

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from .._plan.build import endpoint_context
from .._plan.dependant import Dependant
from .._plan.dependencies import Context
from .._plan.handler import OBSERVED_KEY, OBSERVER, CompiledRoute
from .._plan.patched import HandlerOptions, no_operation, patched_handler
from .._plan.runner import handler_app
from .._plan.websocket import websocket_failure
from .._starlette import is_async_callable, wrap_app_handling_exceptions
from ..datastructures import Default, DefaultPlaceholder
from ..dependencies._solving import solve_dependencies
from ..encoders import jsonable_encoder
from ..exceptions import EndpointContext, ResponseValidationError
from .include import ROUTE_CLASSES

#: The functions of ``hasten.routing`` that instrumentations replace.
NAMES = (
    "get_request_handler",
    "get_websocket_app",
    "request_response",
    "websocket_session",
    "solve_dependencies",
    "run_endpoint_function",
    "serialize_response",
)

#: ``hasten.routing`` registers itself here (``"module"``) when imported (this module sits
#: below it and never imports it).
API: dict[str, ModuleType] = {}

# The compiled route of each route's dependant: ``get_request_handler`` is given the dependant.
_COMPILED: WeakKeyDictionary[Dependant, CompiledRoute] = WeakKeyDictionary()


def remember(plan: CompiledRoute) -> None:
    """Register ``plan`` as the compiled route of its dependant."""
    _COMPILED[plan.root.dependant] = plan


def replaced() -> bool:
    """Whether an instrumentation replaced one of :data:`NAMES` on ``hasten.routing``."""
    api = API["module"]
    return any(getattr(api, name, None) is not _ORIGINALS[name] for name in NAMES)


def refresh(routes: Sequence[Any]) -> None:
    """Rebuild the apps of routes built before a patch point was replaced (or restored).

    Called when an application builds its middleware stack: instrumentations installed
    between declaring the routes and serving the first request are honoured.
    """
    patched = replaced()
    for route in routes:
        if getattr(route, "_through_patch_points", patched) != patched:
            route.app = route._route_app()


def handler_arguments(route: Any) -> dict[str, Any]:
    """What FastAPI's ``APIRoute.get_route_handler`` passes to ``get_request_handler``."""
    return {
        "dependant": route.dependant,
        "body_field": getattr(route, "body_field", None),
        "status_code": route.status_code,
        "response_class": route.response_class,
        "response_field": route.response_field,
        "response_model_include": route.response_model_include,
        "response_model_exclude": route.response_model_exclude,
        "response_model_by_alias": route.response_model_by_alias,
        "response_model_exclude_unset": route.response_model_exclude_unset,
        "response_model_exclude_defaults": route.response_model_exclude_defaults,
        "response_model_exclude_none": route.response_model_exclude_none,
        "dependency_overrides_provider": route.dependency_overrides_provider,
        "embed_body_fields": route.embed_body_fields,
        "strict_content_type": route.strict_content_type,
        "stream_item_field": route.stream_item_field,
        "is_json_stream": route.is_json_stream,
        "form_limits": route.form_limits,
    }


def request_response(
    func: Callable[[Request], Awaitable[Response] | Response],
) -> ASGIApp:
    """The ASGI app around ``func(request) -> response``, with the dependency exit stacks.

    As FastAPI's: the request's exit stacks are in the scope while ``func`` runs, exceptions
    go to the app's handlers, and the stacks close after the response is sent.
    """
    if is_async_callable(func):
        return handler_app(func)

    async def in_thread(request: Request) -> Response:
        return await run_in_threadpool(func, request)  # type: ignore[arg-type]

    return handler_app(in_thread)


async def run_endpoint_function(
    *, dependant: Dependant, values: dict[str, Any], is_coroutine: bool
) -> Any:
    """Call the endpoint with its solved ``values`` (awaited, or in a worker thread)."""
    call: Any = dependant.call
    if is_coroutine:
        operation = OBSERVER["operation"]
        if operation is None:
            return await call(**values)
        with operation("endpoint", call):
            return await call(**values)
    return await run_in_threadpool(_in_operation, call, values)


def _in_operation(call: Any, values: dict[str, Any]) -> Any:
    operation = OBSERVER["operation"]
    if operation is None:
        return call(**values)
    with operation("endpoint", call):
        return call(**values)


async def serialize_response(
    *,
    field: Any = None,
    response_content: Any,
    include: Any = None,
    exclude: Any = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    is_coroutine: bool = True,
    endpoint_ctx: EndpointContext | None = None,
    dump_json: bool = False,
) -> Any:
    """The endpoint's value, validated by ``field`` (a response model) and dumped.

    Without a field: ``jsonable_encoder``'s output. With one: its JSON bytes when
    ``dump_json``, else JSON-compatible data; a value the model refuses raises
    ``ResponseValidationError``.
    """
    if field is None:
        return jsonable_encoder(response_content)
    if is_coroutine:
        value, errors = field.validate(response_content, {}, loc=("response",))
    else:
        value, errors = await run_in_threadpool(
            field.validate, response_content, {}, loc=("response",)
        )
    if errors:
        raise ResponseValidationError(
            errors=errors, body=response_content, endpoint_ctx=endpoint_ctx or EndpointContext()
        )
    dump = field.serialize_json if dump_json else field.serialize
    return dump(
        value,
        include=include,
        exclude=exclude,
        by_alias=by_alias,
        exclude_unset=exclude_unset,
        exclude_defaults=exclude_defaults,
        exclude_none=exclude_none,
    )


def get_request_handler(
    dependant: Dependant,
    body_field: Any = None,
    status_code: int | None = None,
    response_class: type[Response] | DefaultPlaceholder = Default(JSONResponse),
    response_field: Any = None,
    response_model_include: Any = None,
    response_model_exclude: Any = None,
    response_model_by_alias: bool = True,
    response_model_exclude_unset: bool = False,
    response_model_exclude_defaults: bool = False,
    response_model_exclude_none: bool = False,
    dependency_overrides_provider: Any | None = None,
    embed_body_fields: bool = False,
    strict_content_type: bool | DefaultPlaceholder = Default(True),
    stream_item_field: Any = None,
    is_json_stream: bool = False,
    form_limits: Any = None,
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    """The ``request → response`` function of a route with this ``dependant``.

    It takes FastAPI's steps through the functions on ``hasten.routing`` (replacements
    included). A dependant that belongs to no route is compiled here first.
    """
    default_class = isinstance(response_class, DefaultPlaceholder)
    cls: Any = response_class.value if default_class else response_class  # type: ignore[union-attr]
    plan = _COMPILED.get(dependant)
    if plan is None:
        plan = _compile(dependant, status_code, response_class, response_field, form_limits)
    options = HandlerOptions(
        response_field=response_field,
        response_class=cls,
        default_class=default_class,
        include=response_model_include,
        exclude=response_model_exclude,
        by_alias=response_model_by_alias,
        exclude_unset=response_model_exclude_unset,
        exclude_defaults=response_model_exclude_defaults,
        exclude_none=response_model_exclude_none,
        overrides_provider=dependency_overrides_provider,
        embed_body_fields=embed_body_fields,
        request_stack_key="fastapi_inner_astack",
    )
    # ``hasten.routing``, registered there: its functions are looked up at each call.
    return patched_handler(plan, options, API["module"])  # type: ignore[return-value]


def _compile(
    dependant: Dependant, status_code: Any, response_class: Any, field: Any, limits: Any
) -> CompiledRoute:
    """A compiled route for a dependant no route owns (a library built it itself)."""
    route = ROUTE_CLASSES["http"](
        dependant.path or "/",
        dependant.call,
        status_code=status_code,
        response_class=response_class,
        response_model=getattr(getattr(field, "field_info", None), "annotation", None),
        form_limits=limits,
    )
    plan: CompiledRoute = route.plan
    return plan


def websocket_session(func: Callable[[WebSocket], Awaitable[None]]) -> ASGIApp:
    """The ASGI app around ``func(websocket)``, with the dependency exit stacks (FastAPI's)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)

        async def inner(scope: Scope, receive: Receive, send: Send) -> None:
            async with AsyncExitStack() as request_stack:
                scope["fastapi_inner_astack"] = request_stack
                async with AsyncExitStack() as function_stack:
                    scope["fastapi_function_astack"] = function_stack
                    await func(websocket)

        await wrap_app_handling_exceptions(inner, websocket)(scope, receive, send)

    return app


def get_websocket_app(
    dependant: Dependant,
    dependency_overrides_provider: Any | None = None,
    embed_body_fields: bool = False,
) -> Callable[[WebSocket], Coroutine[Any, Any, Any]]:
    """The ``websocket → None`` function of a WebSocket route with this ``dependant``.

    Dependencies are solved through ``solve_dependencies`` on ``hasten.routing`` (a
    replacement included); errors raise ``WebSocketRequestValidationError``.
    """
    where = endpoint_context(dependant.call)

    operation = OBSERVER["operation"] or no_operation

    async def app(websocket: WebSocket) -> None:
        scope = websocket.scope
        data = getattr(scope.get(OBSERVED_KEY), "data", None)  # the connection's telemetry
        if data is not None:
            data.websocket = websocket
        with operation("dependencies", dependant.call):
            solved = await API["module"].solve_dependencies(
                request=websocket,
                dependant=dependant,
                dependency_overrides_provider=dependency_overrides_provider,
                async_exit_stack=scope.get("fastapi_inner_astack"),
                embed_body_fields=embed_body_fields,
            )
            if data is not None:
                data.values, data.errors = solved.values, solved.errors
        if solved.errors:
            ctx = Context(websocket, None, None)
            ctx.errors = solved.errors
            raise websocket_failure(dependant, where, scope, ctx)
        call: Any = dependant.call
        with operation("endpoint", call):
            await call(**solved.values)

    return app


# Hasten's own functions, to tell a replacement from them (``solve_dependencies`` is the one
# ``hasten.routing`` takes from ``hasten.dependencies.utils``).
_ORIGINALS: dict[str, Any] = {
    "get_request_handler": get_request_handler,
    "get_websocket_app": get_websocket_app,
    "request_response": request_response,
    "websocket_session": websocket_session,
    "solve_dependencies": solve_dependencies,
    "run_endpoint_function": run_endpoint_function,
    "serialize_response": serialize_response,
}
