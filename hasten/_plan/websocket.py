"""The per-connection handler of a WebSocket route."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from .._starlette import wrap_app_handling_exceptions
from ..dependencies.models import Dependant
from ..exceptions import WebSocketRequestValidationError
from ..telemetry._api import _ACTIVE as _TELEMETRY
from ..telemetry._api import operation, validation_failed
from .build import Compiler, endpoint_context
from .dependencies import Context, Node, solve
from .validate import Missing


def websocket_app(dependant: Dependant, overrides_of: Any) -> Any:
    """The ASGI app of one WebSocket route."""
    root = Node(dependant, False, False)
    compiler = Compiler(False, False)
    where = endpoint_context(dependant.call)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)

        async def inner(scope: Scope, receive: Receive, send: Send) -> None:
            async with AsyncExitStack() as request_stack:
                ctx = Context(websocket, Missing, overrides_of(scope), compiler)
                ctx.request_stack = request_stack
                async with AsyncExitStack() as function_stack:
                    ctx.function_stack = function_stack
                    observed = _TELEMETRY.get()  # once per connection
                    data = None if observed is None else observed.data
                    if data is not None:
                        data.websocket = websocket
                    with operation("dependencies", dependant.call):
                        values = await solve(root, ctx)
                        if data is not None:
                            data.values, data.errors = values, ctx.errors
                    if ctx.errors:
                        ctx_info = dict(where)
                        mount = scope.get("root_path", "").rstrip("/")
                        ctx_info["path"] = f"WS {mount}{dependant.path}"
                        failure = WebSocketRequestValidationError(
                            ctx.errors,
                            endpoint_ctx=ctx_info,  # type: ignore[arg-type]
                        )
                        validation_failed(failure)
                        raise failure
                    assert dependant.call is not None
                    with operation("endpoint", dependant.call):
                        await dependant.call(**values)

        await wrap_app_handling_exceptions(inner, websocket)(scope, receive, send)

    return app
