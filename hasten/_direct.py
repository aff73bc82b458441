"""Answering an ASGI request without the core stack, where nothing could tell the difference.

A route whose endpoint takes nothing (``serve_trivial``) and whose answer goes out without a
response object (``CompiledRoute.direct``) needs nothing of the request but its method and
path. Behind a real server such a request costs Hasten more in the layers around the route
than in the route: the core stack's frame, the body limit's counter and its scope keys, the
router's lookup, the runner's frame (``bench/README.md``). ``DirectCalls`` finds the route
itself, calls the endpoint and sends the runner's two messages, from ``Hasten.__call__``.

A ``serve_plain`` route whose dependencies and parameters read nothing but headers, the query
and the path (``hasten._plan.planned.ready``, the rule the RSGI direct answer keeps) is
answered the same way: its call step gets what ``serve_plain`` would give it (a
``RouteRequest`` of the scope, no payload, the ``dependency_overrides`` the route runs with,
only when none are set). Nothing it reads is something the core or the body limit sets.

It is taken only when all of these hold; otherwise the request runs the app's own way:

* the app's stack is its own ``CoreStack`` (no user middleware, no instrumentation),
  unreplaced inside, whose router finds routes through its ``direct_target``; no
  instrumentation replaced ``Starlette.__call__`` and the request is not traced (both are
  asked by ``Hasten.__call__`` before it asks here);
* the scope is a top-level HTTP request's: no root path, no router, no parent's body limit
  and no telemetry state in it (a mounted app, or an app called by another router, runs the
  stack's way);
* the path is a static route's that the router already found for it (``Matcher.direct``,
  the table ``direct_target`` looks at first), or the route and path parameters that
  ``Matcher.route_for`` gives for the path and method (what ``direct_target`` asks next), for
  the routes as they are now, and the route allows the method. A request matched so and then
  not taken leaves the match as the matcher's ``handoff``, which ``direct_target`` takes for
  the same path and method instead of matching again;
* the route's app is its ``serve_trivial`` runner, or its ``serve_plain`` runner (or the
  ``route_app`` closure around it) of a plan that ``planned.ready`` or ``planned.body_ready``
  accepts, and its answer can be written without a response object (``plan.direct``);
* the request declares no body (no ``content-length``, no ``transfer-encoding``): the body
  limit would watch the answer of one that does. Only a route that reads a JSON body
  (``body_ready``) takes one, declared by one ``content-length`` within the app's limit (one
  over it gets the limit's 413 from the stack, read or not), no ``transfer-encoding``.

Such a body is read by the route's reader through the counter the core would make (the
limit's ``receive``, its two scope keys while the route runs), so a body longer than it said
fails the same way; the limit's watch on the answer would only pass it on (the length is
within the limit). A replay neither reads nor solves again (``planned.settled_plan``); its
``receive`` gives the body read here once more, for a handler that reads it.

The scope gets what the stack's way leaves in it for the route (the exception handlers, the
router, the route, the endpoint, the path parameters), so a layer around the app reads the
same after the request. Whatever else the outcome leads to runs the stack's way, *replayed*
with that outcome, as the RSGI direct answer does (``hasten._rsgi.direct``): a trivial
route's runner gets it as ``runner.Settled``, a planned route's from its call step
(``planned.settled_plan``). That covers an exception (from the endpoint, a dependency, a
parameter's validation or the answer's encoding), an answer that needs its response object,
and a ``send`` that raises (the runner had noted the start, as here). The exception handlers,
the 500 response and the server see what they would have seen, and no endpoint or dependency
is called twice.
"""

from __future__ import annotations

from collections.abc import Coroutine
from functools import partial
from types import MethodType
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send

from ._body_limit import MAX_BODY_SIZE_SCOPE_KEY, new_counter
from ._core import _HANDLERS_KEY, CoreStack
from ._plan.dependencies import Context
from ._plan.handler import OBSERVED_KEY
from ._plan.planned import SETTLED_KEY, body_plan, route_plan, settled_plan
from ._plan.runner import (
    _CYCLE_SEND,
    _RESPONSE_CALL,
    RunnerPlans,
    Settled,
    note_started,
    route_overrides,
    serve_plain,
    serve_trivial,
    trivial_plan,
)
from ._plan.validate import Missing
from ._starlette import LIMIT_RESPONDER_KEY, RouteRequest

__all__ = ["DirectCalls"]

_RUNNER_KEY = "hasten.direct.runner"  # a replay's runner, for the replaying core's finder
_BODY_HEADERS = frozenset((b"content-length", b"transfer-encoding"))  # a request with a body
_DECLINED: Any = object()  # ``_body_counter``: the stack answers


class DirectCalls:
    """The direct answers of one Hasten ``app`` over ASGI (see the module's documentation).

    ``Hasten.__call__`` asks :meth:`answer` with the app's stack for an HTTP request.
    """

    __slots__ = ("app", "core", "plans", "replaying", "router")

    def __init__(self, app: Any) -> None:
        self.app = app
        self.core: Any = None  # the stack decided for
        self.router: Any = None  # its router when its requests may be answered directly
        self.replaying: Any = None  # its copy that replays a request (``_replay``)
        #: route app → its plan when it is ``serve_trivial``'s, or a planned ``serve_plain``'s,
        #: with a ``direct`` answer; else None (``_direct_plan``, asked once per app object).
        self.plans = RunnerPlans(_direct_plan)

    def answer(
        self, core: Any, scope: Scope, receive: Receive, send: Send
    ) -> Coroutine[Any, Any, None] | None:
        """The coroutine that answers the request directly, or None (the stack answers)."""
        if core is not self.core:  # built (anew) since: decided again
            self._decide(core)
        router = self.router
        if (
            router is None
            or scope.get("root_path")
            or "router" in scope
            or LIMIT_RESPONDER_KEY in scope
            or OBSERVED_KEY in scope  # (not a top-level request: no match made here)
            or not router._flattened  # or the routes changed: the stack makes a new matcher
            or (matcher := router._matcher).version != router.routes.version
        ):  # (``matcher``: RouterDispatch.direct_target's lookup)
            return None
        route, params = matcher.direct.get(scope["path"]), None
        if route is None:  # a path with parameters (or none found yet): matched as the router
            route, params = matcher.hand_on(scope["path"], scope["method"])  # would
            if route is None:
                return None
        runner = route.app
        try:
            plan = self.plans[runner]
        except TypeError:  # an unhashable route app: not a runner of Hasten's
            return None
        # ``overrides``: the ``dependency_overrides`` a plain route with dependencies runs with
        # (``route_app`` looks them up); while any are set, their variant runs the stack's way.
        if (
            plan is None
            or (
                overrides := None
                if plan.trivial or not plan.root.subs
                else route_overrides(route, self.app)
            )
            or scope["method"] not in route.methods
            or core.app is not core._chain
        ):
            return None
        if plan.read is None:
            counter = None
            for name, _ in scope["headers"]:
                if name in _BODY_HEADERS:
                    return None
        elif (counter := _body_counter(core, scope, receive, send)) is _DECLINED:
            return None  # a JSON body the direct answer does not read
        if params is not None:  # taken: the parameters are this request's alone
            matcher.handoff = None
        return _answer(self, route, plan, overrides, params, counter, scope, receive, send)

    def _decide(self, core: Any) -> None:
        """Note for the stack ``core`` whether requests may be answered directly."""
        self.core = core
        self.plans = RunnerPlans(_direct_plan)
        plain = type(core) is CoreStack and not self.app._through_starlette
        self.router = core.dispatch if plain else None
        self.replaying = None if self.router is None else core.finding(_replayed)


def _direct_plan(runner: Any) -> Any:
    """The plan of a route app that is ``serve_trivial``'s, or ``serve_plain``'s reading
    parameters only (``planned.route_plan``) or those and a JSON body (``planned.body_plan``),
    with a ``direct`` answer; else None."""
    plan = trivial_plan(runner)
    if plan is None:
        plan = route_plan(runner)
    if plan is None:
        plan = body_plan(runner)
    return None if plan is None or plan.direct is None else plan


def _body_counter(core: Any, scope: Scope, receive: Receive, send: Send) -> Any:
    """For a request to a route reading a JSON body: the counter of ``core``'s body limit
    that the direct answer reads it through (``new_counter``'s, made for the length it
    declares), None when the app has no limit, or ``_DECLINED`` when the stack must answer
    (``_declared``)."""
    limited = core._limited
    declared = _declared(scope["headers"], core._limit, limited is not None)
    if declared is None:
        return _DECLINED
    if limited is None:
        return None
    return new_counter(limited.counter, scope, receive, send, declared)


def _declared(headers: Any, limit: int | None, limited: bool) -> int | None:
    """The ``Content-Length`` a request declares, when its body may be read by the direct
    answer: one length that the body limit reads as a number (``new_counter``), not negative,
    not over ``limit`` when the app is ``limited`` (a 413 is the stack's to answer, read or
    not), and no ``Transfer-Encoding``; else None."""
    declared = None
    for name, value in headers:
        if name == b"content-length":
            if declared is not None:
                return None  # a second one: the stack's way reads the first
            try:
                declared = int(value)
            except ValueError:
                return None
        elif name == b"transfer-encoding":
            return None
    if declared is None or declared < 0 or (limited and (limit is None or declared > limit)):
        return None
    return declared


def _replayed(scope: Scope) -> Any:
    """The replaying core's finder: the runner the replay put in the scope (taken out); the
    route's keys are in the scope already."""
    return scope.pop(_RUNNER_KEY)


async def _answer(
    direct: DirectCalls,
    route: Any,
    plan: Any,
    overrides: Any,
    params: dict[str, Any] | None,
    counter: Any,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """The route's runner's call and answer, straight to ``send``; the rest replayed.

    A trivial plan's endpoint is called as ``serve_trivial`` calls it; a planned one's call
    step gets what ``serve_plain`` gives it (a ``RouteRequest``, ``overrides``, and the body
    its reader reads, else no payload). ``params``: the path's parameters (None for a static
    path). ``counter``: the app's body limit's counter for a body read here (None without a
    limit or a body), in the scope while the route runs, as the core puts it."""
    # What the core and ``direct_target`` set for the route, in their order.
    scope[_HANDLERS_KEY] = direct.core._handlers
    scope["router"] = direct.router
    scope["route"] = route
    scope["endpoint"] = route.endpoint
    outer = scope["path_params"] if "path_params" in scope else None
    path_params = scope["path_params"] = dict(outer) if outer else {}
    if params:
        path_params.update(params)
    request = None
    try:
        if plan.trivial:
            call = plan.root.call
            raw = await call() if plan.is_async else await run_in_threadpool(call)
            plain = True
        else:
            if counter is None:
                request = RouteRequest(scope, receive, send)
            else:  # the core's keys of the limit, and its counter's ``receive``
                scope[LIMIT_RESPONDER_KEY] = counter
                scope[MAX_BODY_SIZE_SCOPE_KEY] = counter.max_body_size
                request = RouteRequest(scope, counter.receive_limited, send)
            payload = Missing if plan.read is None else await plan.read(plan, request)
            ctx = Context(request, payload, overrides)
            raw = await plan.call(plan, request, ctx)
            plain = ctx.response is None and ctx.background is None  # as ``serve_plain``
        messages = plan.direct
        out = messages[0](raw) if plain and messages[1].__call__ is _RESPONSE_CALL else None
    except Exception as exc:
        scope[_RUNNER_KEY] = _replay_runner(plan, overrides, Settled(None, exc), scope)
    else:
        if out is None:  # its answer needs its response object
            scope[_RUNNER_KEY] = _replay_runner(plan, overrides, Settled(raw, None), scope)
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
                scope[_RUNNER_KEY] = partial(_send_failed, exc)
    finally:
        if counter is not None:  # as the core leaves the scope (its replay makes its own)
            del scope[LIMIT_RESPONDER_KEY]
            scope.pop(MAX_BODY_SIZE_SCOPE_KEY, None)
    if plan.read is not None:
        receive = _again(request, receive)
    await direct.replaying(scope, receive, send)


def _again(request: Any, receive: Receive) -> Receive:
    """The ``receive`` of a replay whose body the direct answer read: that body once more, as
    one message, for a handler that reads it (the stack's way would find it kept on its
    request), then the server's messages. A body not read whole (its read failed: the client
    left, or its bytes went past the limit) is not given again: a handler's read gets the
    server's next message, as on the stack's way."""
    body = None if request is None else request.__dict__.get("_body")
    if body is None:
        return receive
    message: Message | None = {"type": "http.request", "body": body, "more_body": False}

    async def again() -> Message:
        nonlocal message
        if message is None:
            return await receive()
        given, message = message, None
        return given

    return again


def _replay_runner(plan: Any, overrides: Any, settled: Settled, scope: Scope) -> Any:
    """The runner that the replay's core finds: the route's own, given ``settled``; for a
    planned route through its call step (``planned.settled_plan``, which takes ``settled``
    out of the scope), with the ``overrides`` it ran with."""
    if plan.trivial:
        return partial(serve_trivial, plan, prepared=settled)
    scope[SETTLED_KEY] = settled
    return partial(serve_plain, settled_plan(plan), overrides=overrides)


async def _send_failed(exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
    """A replay's runner for an answer whose sending raised ``exc``: as ``serve_trivial``
    would have left it, the start noted and the exception raised."""
    note_started(scope)
    raise exc
