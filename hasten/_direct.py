"""Answering an ASGI request without the core stack, where nothing could tell the difference.

A route whose endpoint takes nothing (``serve_trivial``) and whose answer goes out without a
response object (``CompiledRoute.direct``) needs nothing of the request but its method and
path. Behind a real server such a request costs Hasten more in the layers around the route
than in the route: the core stack's frame, the body limit's counter and its scope keys, the
router's lookup, the runner's frame (``bench/README.md``). ``DirectCalls`` finds the route
itself, calls the endpoint and sends the runner's two messages, from ``Hasten.__call__``.

It is taken only when all of these hold; otherwise the request runs the app's own way:

* the app's stack is its own ``CoreStack`` (no user middleware, no instrumentation),
  unreplaced inside, whose router finds routes through its ``direct_target``; no
  instrumentation replaced ``Starlette.__call__`` and the request is not traced (both are
  asked by ``Hasten.__call__`` before it asks here);
* the scope is a top-level HTTP request's: no root path, no router, no parent's body limit
  and no telemetry state in it (a mounted app, or an app called by another router, runs the
  stack's way);
* the path is a static route's that the router already found for it (``Matcher.direct``,
  the table ``direct_target`` looks at first), for the routes as they are now, and the route
  allows the method;
* the route's app is its ``serve_trivial`` runner, and its answer can be written without a
  response object (``plan.direct``);
* the request declares no body (no ``content-length``, no ``transfer-encoding``): the body
  limit would watch the answer of one that does.

The scope gets what the stack's way leaves in it for the route (the exception handlers, the
router, the route, the endpoint, the path parameters), so a layer around the app reads the
same after the request. Whatever else the endpoint's outcome leads to runs the stack's way,
*replayed* with that outcome (``runner.Settled``), as the RSGI direct answer does
(``hasten._rsgi.direct``): an exception (from the endpoint or from encoding its answer), an
answer that needs its response object, and a ``send`` that raises (the runner had noted the
start, as here). The exception handlers, the 500 response and the server see what they
would have seen, and the endpoint is not called twice.
"""

from __future__ import annotations

from collections.abc import Coroutine
from functools import partial
from types import MethodType
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from ._core import _HANDLERS_KEY, CoreStack
from ._plan.handler import OBSERVED_KEY
from ._plan.runner import (
    _CYCLE_SEND,
    _RESPONSE_CALL,
    RunnerPlans,
    Settled,
    note_started,
    serve_trivial,
    trivial_plan,
)
from ._starlette import LIMIT_RESPONDER_KEY

__all__ = ["DirectCalls"]

_RUNNER_KEY = "hasten.direct.runner"  # a replay's runner, for the replaying core's finder
_BODY_HEADERS = frozenset((b"content-length", b"transfer-encoding"))  # a request with a body


class DirectCalls:
    """The direct answers of one Hasten ``app`` over ASGI (see the module's documentation).

    ``Hasten.__call__`` asks :meth:`answer` with the app's stack for an HTTP request.
    """

    __slots__ = ("app", "core", "plans", "replaying", "router", "table")

    def __init__(self, app: Any) -> None:
        self.app = app
        self.core: Any = None  # the stack decided for
        self.router: Any = None  # its router when its requests may be answered directly
        self.replaying: Any = None  # its copy that replays a request (``_replay``)
        #: The router's static paths found so far (``Matcher.direct``, the same dict for the
        #: router's life), empty when nothing may be answered directly: ``Hasten.__call__``
        #: asks :meth:`answer` only for a path in it, or once the stack changed.
        self.table: dict[str, Any] = {}
        #: route app → its plan when it is ``serve_trivial``'s with a ``direct`` answer, else
        #: None (``_direct_plan``, asked once per app object).
        self.plans = RunnerPlans(_direct_plan)

    def answer(
        self, core: Any, scope: Scope, receive: Receive, send: Send
    ) -> Coroutine[Any, Any, None] | None:
        """The coroutine that answers the request directly, or None (the stack answers)."""
        if core is not self.core:  # built (anew) since: decided again
            self._decide(core)
        router = self.router
        if router is None:
            return None
        matcher = router._matcher  # RouterDispatch.direct_target's lookup
        route = matcher.direct.get(scope["path"])
        if route is None:
            return None
        runner = route.app
        try:
            plan = self.plans[runner]
        except TypeError:  # an unhashable route app: not a runner of Hasten's
            return None
        if (
            plan is None
            or scope["method"] not in route.methods
            or not router._flattened
            or matcher.version != router.routes.version
            or core.app is not core._chain
            or scope.get("root_path")
            or "router" in scope
            or LIMIT_RESPONDER_KEY in scope
            or OBSERVED_KEY in scope
        ):
            return None
        for name, _ in scope["headers"]:
            if name in _BODY_HEADERS:
                return None
        return _answer(self, route, plan, scope, receive, send)

    def _decide(self, core: Any) -> None:
        """Note for the stack ``core`` whether requests may be answered directly."""
        self.core = core
        self.plans = RunnerPlans(_direct_plan)
        plain = type(core) is CoreStack and not self.app._through_starlette
        self.router = core.dispatch if plain else None
        self.replaying = None if self.router is None else core.finding(_replayed)
        self.table = {} if self.router is None else self.router._matcher.direct


def _direct_plan(runner: Any) -> Any:
    """The plan of a route app that is ``serve_trivial``'s with a ``direct`` answer, else
    None."""
    plan = trivial_plan(runner)
    return None if plan is None or plan.direct is None else plan


def _replayed(scope: Scope) -> Any:
    """The replaying core's finder: the runner the replay put in the scope (taken out); the
    route's keys are in the scope already."""
    return scope.pop(_RUNNER_KEY)


async def _answer(
    direct: DirectCalls, route: Any, plan: Any, scope: Scope, receive: Receive, send: Send
) -> None:
    """The route's runner's call and answer, straight to ``send``; the rest replayed."""
    # What the core and ``direct_target`` set for the route, in their order.
    scope[_HANDLERS_KEY] = direct.core._handlers
    scope["router"] = direct.router
    scope["route"] = route
    scope["endpoint"] = route.endpoint
    outer = scope["path_params"] if "path_params" in scope else None
    scope["path_params"] = dict(outer) if outer else {}
    runner: Any
    try:
        call = plan.root.call
        raw = await call() if plan.is_async else await run_in_threadpool(call)
        messages = plan.direct
        out = messages[0](raw) if messages[1].__call__ is _RESPONSE_CALL else None
    except Exception as exc:
        runner = partial(serve_trivial, plan, prepared=Settled(None, exc))
    else:
        if out is None:  # its answer needs its response object
            runner = partial(serve_trivial, plan, prepared=Settled(raw, None))
        else:
            status, headers, body = out
            try:
                if type(send) is MethodType and send.__func__ is _CYCLE_SEND:  # as the runner
                    await send.__self__.answer(status, headers, body)  # type: ignore[attr-defined]
                else:
                    await send(
                        {"type": "http.response.start", "status": status, "headers": headers}
                    )
                    await send({"type": "http.response.body", "body": body})
                return
            except Exception as exc:
                runner = partial(_send_failed, exc)
    scope[_RUNNER_KEY] = runner
    await direct.replaying(scope, receive, send)


async def _send_failed(exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
    """A replay's runner for an answer whose sending raised ``exc``: as ``serve_trivial``
    would have left it, the start noted and the exception raised."""
    note_started(scope)
    raise exc
