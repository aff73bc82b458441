"""Answering an RSGI request without the ASGI stack, where nothing could tell the difference.

A route whose endpoint takes nothing (no parameters, no dependencies: ``serve_trivial``) and
whose answer goes out without a response object (``CompiledRoute.direct``) needs nothing of
the request but its method and path. ``DirectAnswers`` finds such a route from the RSGI
scope and calls its endpoint; the answer goes to Granian's ``response_bytes`` as the ASGI
adapter (``hasten._rsgi.http``) would send the two messages the runner makes. No ASGI scope,
no ``receive``/``send`` pair and no stack are made: about half of what such a request costs
the server's process (``bench/README.md``).

A ``serve_plain`` route whose dependencies and parameters read nothing but headers, the query
and the path (``hasten._rsgi.planned``) is answered the same way: its call step solves them
from the RSGI scope (``PlannedRequest``), with the ``dependency_overrides`` the route would
run with (only when none are set). Its outcome goes out, or is replayed, as a trivial
endpoint's does.

It is taken only when all of these hold; otherwise the request runs the app's own way:

* the app's stack is its own ``CoreStack`` (no user middleware, no instrumentation),
  unreplaced inside, and finds routes through its router's ``direct_target``; the app's
  class keeps Hasten's ``__call__``, it has no ``root_path``, and no telemetry provider is
  configured (the request would be traced). The one user middleware allowed is the app-wide
  rate limiter in its default configuration (keyed by the client's address, no headers on
  allowed answers), a step of the core that reads nothing else and does nothing after the
  answer: it counts the request here, once the rest is known to hold, and a refusal is
  answered as the core answers it. Or the Prometheus middleware (``hasten.metrics``), whose
  steps read the method, route and root path and note the status: they run around the
  direct answer (and its replay), with the scope's part they read;
* the path is a static route's that this router already found for it (``Matcher.direct``,
  the table ``direct_target`` looks at first), or the route and path parameters that
  ``Matcher.route_for`` gives for the path and method (what ``direct_target`` asks next), for
  the routes as they are now, and the route allows the method. A request matched so and
  then not taken leaves the match as the matcher's ``handoff``, which ``direct_target``
  takes for the same path and method instead of matching again;
* the route's app is its ``serve_trivial`` runner, or its ``serve_plain`` runner (or the
  ``route_app`` closure around it) of a plan that ``planned.ready`` accepts;
* the request declares no body (no ``content-length``, no ``transfer-encoding``).

Whatever else the endpoint's outcome leads to runs the app's own way, with that outcome: an
exception (from the endpoint, or from encoding its answer) or an answer that needs its
response object (a ``Response`` returned, a non-``str`` answer of a text route) is
*replayed*. The ASGI scope and the ``receive``/``send`` pair are made as for any request,
and the app's core stack runs (inside the layer that served the app, if any) with the route
already found (its copy made once by ``CoreStack.finding``, which takes the route and runner
from the scope): its runner gets the outcome (``runner.Settled``)
instead of calling the endpoint again (a planned route's runner gets it from its call step,
``planned.settled_plan``: no dependency runs twice). The exception handlers, the 500
response and the server see what they would have seen. A route whose answer always needs its
writer (no ``direct``) is replayed before its endpoint is called.
"""

from __future__ import annotations

import copy
from collections.abc import Coroutine
from functools import partial
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from .._core import CoreStack, SteppedCoreStack
from .._observed import ObservedSend
from .._plan.dependencies import Context
from .._plan.planned import SETTLED_KEY, route_plan, settled_plan
from .._plan.runner import (
    _RESPONSE_CALL,
    RunnerPlans,
    Settled,
    route_overrides,
    serve_plain,
    serve_trivial,
    trivial_plan,
)
from .._plan.validate import Missing
from .http import open_cycle
from .planned import PlannedRequest
from .scope import http_scope, parse_address

__all__ = ["DirectAnswers"]

_FOUND_KEY = "hasten.rsgi.found"  # a replay's (route, runner), for ``_finder``


class DirectAnswers:
    """The direct answers of one Hasten ``app`` (see the module's documentation), served by
    itself (``RSGIApp``) or inside ``outer``: a layer around it that only sets the scope
    (``hasten run``'s proxy headers), which a replayed request then goes through.

    Called per RSGI HTTP request with the lifespan's ``state``: the coroutine that answers
    it, or None when the app's own way must.
    """

    __slots__ = ("app", "core", "gate", "observer", "outer", "plans", "replaying", "router")

    def __init__(self, app: Any, outer: Any = None) -> None:
        self.app = app
        self.outer = outer
        self.core: Any = None  # the stack decided for
        self.router: Any = None  # its router when its requests may be answered directly
        self.gate: Any = None  # its one step, the rate limiter's, given the client's host
        self.observer: Any = None  # or its one step's (enter, leave) reading only the route
        self.replaying: Any = None  # its copy that replays a request (``_replay``)
        #: route app → its plan when it may be answered here (``_answerable``), else None;
        #: made anew when the stack changes.
        self.plans = RunnerPlans(_answerable)

    def __call__(
        self, rsgi: Any, protocol: Any, state: dict[str, Any]
    ) -> Coroutine[Any, Any, None] | None:
        app = self.app
        core = app.middleware_stack
        if core is not self.core:  # built (anew) since: decided again, the stack answers
            self._decide(core)
            return None
        router = self.router
        if router is None:
            return None
        # The route first: most requests that take the stack's way are told apart here.
        matcher = router._matcher  # RouterDispatch.direct_target's lookup
        if not router._flattened or matcher.version != router.routes.version:
            return None  # the routes changed: the stack's way makes a new matcher
        route, params = matcher.direct.get(rsgi.path), None
        if route is None:  # a path with parameters (or none found yet): matched as the router
            route, params = matcher.hand_on(rsgi.path, rsgi.method)  # would, handed on
            if route is None:
                return None
        runner = route.app
        try:
            plan = self.plans[runner]
        except TypeError:  # an unhashable route app: not a runner of Hasten's
            return None
        if plan is None:
            return None
        # The ``dependency_overrides`` a plain route with dependencies runs with (``route_app``
        # looks them up); while any are set, their variant runs the app's way.
        overrides = None if plan.trivial or not plan.root.subs else route_overrides(route, app)
        cls = type(app)
        if (
            overrides
            or rsgi.method not in route.methods
            or core.app is not core._chain
            or app.root_path
            or cls.__call__ is not cls._unpatched_call
            or (  # as ``Hasten.__call__`` asks: a traced request
                app._telemetry_possible
                and ((quiet := app._telemetry_quiet) is None or not quiet())
                and app._native_telemetry.enabled()
            )
        ):
            return None
        fields = rsgi.headers
        if "content-length" in fields or "transfer-encoding" in fields:
            return None
        if params is not None:  # taken: the parameters are this request's alone
            matcher.handoff = None
        gate = self.gate  # the limiter counts the request here, as the core's step would
        if gate is not None and (refused := _refused(self, gate, rsgi, protocol, state)):
            return refused
        return _answer(
            self, route, plan, rsgi, protocol, state, self.observer, overrides, fields, params
        )

    def _decide(self, core: Any) -> None:
        """Note for the stack ``core`` whether requests may be answered directly."""
        self.core = core
        self.plans = RunnerPlans(_answerable)
        # Not inside a proxy-headers layer, which would change the address the gate reads.
        self.gate = _client_gate(core) if self.outer is None else None
        self.observer = _route_observer(core)
        plain = type(core) is CoreStack or self.gate is not None or self.observer is not None
        self.router = core.dispatch if plain and not self.app._through_starlette else None
        # The core for replays: its steps entered already, the route found (``_finder``).
        self.replaying = (
            None if self.router is None else core.finding(_finder(core.dispatch), entered=True)
        )


def _answerable(runner: Any) -> Any:
    """The plan of a route app that is ``serve_trivial``'s, or ``serve_plain``'s reading
    parameters only (``planned.route_plan``), else None."""
    plan = trivial_plan(runner)
    return route_plan(runner) if plan is None else plan


def _client_gate(core: Any) -> Any:
    """A stepped core's one step given the client's host (its ``enter``'s ``by_host``) when
    it reads nothing of the request but the client's address, needs no ``ObservedSend`` and
    does nothing after the answer (the rate limiter's default step, ``ratelimit._peer_enter``);
    None for any other stack."""
    if type(core) is not SteppedCoreStack or len(core.steps) != 1:
        return None
    enter = core._enter
    if getattr(enter, "client_only", False) and not core._observe and core._leave is None:
        return enter.by_host
    return None


def _route_observer(core: Any) -> tuple[Any, Any] | None:
    """A stepped core's one step's ``(enter, leave)`` when they read nothing of the request but
    its method, route and root path, and note its status in the ``ObservedSend`` (the
    Prometheus middleware's, ``metrics.PrometheusMiddleware``); None for any other stack."""
    if type(core) is not SteppedCoreStack or len(core.steps) != 1 or not core._observe:
        return None
    enter, leave = core._enter, core._leave
    if getattr(enter, "route_only", False) and getattr(leave, "route_only", False):
        return enter, leave
    return None


async def _answer(
    direct: DirectAnswers,
    route: Any,
    plan: Any,
    rsgi: Any,
    protocol: Any,
    state: Any,
    observer: tuple[Any, Any] | None,
    overrides: Any,
    fields: Any,
    params: dict[str, Any] | None,
) -> None:
    """The route's runner's call and answer, straight to the protocol; the rest replayed.

    A trivial plan's endpoint is called as ``serve_trivial`` calls it; any other plan's call
    step solves the parameters from the RSGI scope (``hasten._rsgi.planned``), with the
    ``dependency_overrides`` (empty, or None) that ``serve_plain`` runs with. With an
    ``observer``, its ``enter`` runs first and its
    ``leave`` last, as the core stack runs its step: with the part of the scope they read
    (the same as the stack's scope holds for the route) and an ``ObservedSend`` that notes
    the status (the replay's ``send``). ``params``: the path's parameters (None for a static
    path).
    """
    observed = None
    if observer is not None:  # no root path here: the steps read ``""``, as in the stack
        seen = {"method": rsgi.method, "route": route}
        # ``new_observed`` written out: its call would be ~0.8k of the step's ~8.5k here
        observed = ObservedSend()  # its send: the replay's
        observed.headers = None
        observed.status = 500
        observer[0](seen, observed)
    try:
        messages = plan.direct
        if messages is None:  # the route's writer must answer (its ``JSONResponse`` patched)
            await _replay(
                direct, route, plan, params, rsgi, protocol, state, overrides, None, observed
            )
            return
        try:
            if plan.trivial:
                call = plan.root.call
                raw = await call() if plan.is_async else await run_in_threadpool(call)
            else:
                request = PlannedRequest(rsgi, fields, params)
                raw = await plan.call(plan, request, Context(request, Missing, overrides))
            out = messages[2](raw) if messages[1].__call__ is _RESPONSE_CALL else None
        except Exception as exc:
            settled = Settled(None, exc)
        else:
            if out is not None:  # the runner's messages, headers as RSGI's (the adapter's)
                status, headers, body = out
                if observed is not None:
                    observed.status = status
                protocol.response_bytes(status, headers, body)
                return
            settled = Settled(raw, None)
        await _replay(
            direct, route, plan, params, rsgi, protocol, state, overrides, settled, observed
        )
    finally:
        if observer is not None:
            observer[1](seen, observed)


async def _replay(
    direct: DirectAnswers,
    route: Any,
    plan: Any,
    params: dict[str, Any] | None,
    rsgi: Any,
    protocol: Any,
    state: Any,
    overrides: Any,
    settled: Settled | None,
    observed: ObservedSend | None,
) -> None:
    """The request, through ``outer``, the app's core stack (its step entered already, and
    left by the caller) and the route's runner, which gets ``settled`` (None: it calls the
    endpoint, solving its parameters from the ASGI scope); the answer through ``observed``
    if there is one; ``params``: the path's parameters, for the scope (None: a static path)."""
    runner: Any
    keys: dict[str, Any] = {}
    if plan.trivial:
        runner = partial(serve_trivial, plan, prepared=settled)
    elif settled is None:  # ``route_app``'s call of it, with the overrides it read
        runner = partial(serve_plain, plan, overrides=overrides)
    else:  # the same, its call step giving ``settled`` (taken out of the scope)
        runner = partial(serve_plain, settled_plan(plan), overrides=overrides)
        keys[SETTLED_KEY] = settled
    keys[_FOUND_KEY] = (route, runner, params)
    await _through(direct, rsgi, protocol, state, direct.replaying, observed, keys)


def _finder(dispatch: Any) -> Any:
    """The route finder of a core's replaying copy: the route, runner and path parameters the
    replay put in the scope (taken out), with the scope set as ``direct_target`` (of
    ``dispatch``) sets it."""

    def found(scope: Scope) -> Any:
        route, runner, params = scope.pop(_FOUND_KEY)
        scope["router"] = dispatch
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {} if params is None else params
        return runner

    return found


def _refused(
    direct: DirectAnswers, gate: Any, rsgi: Any, protocol: Any, state: Any
) -> Coroutine[Any, Any, None] | None:
    """The request counted by the rate limiter's ``gate``: its refusal, answered as the core
    stack answers it (first thing), or None when the request is allowed."""
    address = parse_address(rsgi.client)
    refusal = gate(address[0] if address else "unknown")
    if refusal is None:
        return None
    return _through(direct, rsgi, protocol, state, refusal, None)


async def _through(
    direct: DirectAnswers,
    rsgi: Any,
    protocol: Any,
    state: Any,
    app: Any,
    observed: ObservedSend | None,
    keys: dict[str, Any] | None = None,
) -> None:
    """Run the ASGI ``app`` for the request as ``Hasten.__call__`` would run its stack, inside
    ``outer`` if the app is served in one: with the scope and the ``receive``/``send`` pair
    the adapter makes for any request (``send`` inside ``observed`` if there is one, as the
    core stack passes it on to its steps' inside), and ``keys`` added to the scope for the
    replaying core's finder."""
    hasten = direct.app

    async def entry(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = hasten  # what ``Hasten.__call__`` does here (no root path, not traced)
        if keys is not None:
            scope.update(keys)
        if observed is not None:
            observed.send = send
            send = observed
        await app(scope, receive, send)

    fields = rsgi.headers
    cycle = open_cycle(protocol, fields, rsgi.http_version)
    scope = http_scope(rsgi, fields, state, "")
    if direct.outer is None:
        await entry(scope, cycle.receive, cycle.send)
        return
    outer = copy.copy(direct.outer)  # the same layer, around the replay
    outer.app = entry
    await outer(scope, cycle.receive, cycle.send)
