"""The per-connection runner of a WebSocket route: the HTTP runner's stacked edge for sockets."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from .._starlette import wrap_app_handling_exceptions
from ..exceptions import EndpointContext, WebSocketRequestValidationError
from .build import endpoint_context
from .dependant import Dependant
from .dependencies import Context, Node, solve
from .handler import OBSERVED_KEY, OBSERVER
from .validate import Missing


def websocket_failure(
    dependant: Dependant, where: EndpointContext, scope: Scope, ctx: Context
) -> WebSocketRequestValidationError:
    """The validation error of a connection whose parameters or dependencies had errors."""
    info = dict(where)
    mount = scope.get("root_path", "").rstrip("/")
    info["path"] = f"WS {mount}{dependant.path}"
    failure = WebSocketRequestValidationError(ctx.errors, endpoint_ctx=info)  # type: ignore[arg-type]
    on_failure = OBSERVER["failed"]
    if on_failure is not None:
        on_failure(failure)
    return failure


def websocket_app(dependant: Dependant, overrides_of: Any) -> Any:
    """The ASGI app of one WebSocket route (observed connections run telemetry's steps)."""
    root = Node(dependant, False, False)
    where = endpoint_context(dependant.call)
    observer = OBSERVER["websocket"]

    async def run(websocket: WebSocket, ctx: Context) -> None:
        values = await solve(root, ctx)
        if ctx.errors:
            raise websocket_failure(dependant, where, websocket.scope, ctx)
        await dependant.call(**values)  # type: ignore[misc]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)

        async def inner(scope: Scope, receive: Receive, send: Send) -> None:
            async with AsyncExitStack() as request_stack:
                ctx = Context(websocket, Missing, overrides_of(scope))
                ctx.request_stack = request_stack
                async with AsyncExitStack() as function_stack:
                    ctx.function_stack = function_stack
                    state = scope.get(OBSERVED_KEY) if observer is not None else None
                    if state is None:
                        await run(websocket, ctx)
                    else:
                        await observer(dependant, root, where, websocket, ctx, state)

        await wrap_app_handling_exceptions(inner, websocket)(scope, receive, send)

    return app
