"""Which plain routes can be solved and answered before the app's stack, and their replay.

A route run by ``serve_plain`` whose dependencies and parameters read nothing of the request
but its header, query and path parameters (``ready``) can be solved and called by a direct
answer: over RSGI from Granian's scope (``hasten._rsgi.planned``), over ASGI from a
``RouteRequest`` of the server's scope (``hasten._direct``). Nothing such a route reads is
something the core stack or the body limit sets. When its outcome needs the stack (an
exception for the handlers, a response that needs its object), the request is replayed
through the stack with a copy of the plan whose call step gives that outcome
(``settled_plan``), so no dependency runs twice.

A route whose dependency takes the ``Request``, ``Response``, ``BackgroundTasks``,
``SecurityScopes`` or a body, or reads cookies or headers as a list, an alias set or a
``Headers`` object, or reads the ``host`` header (RSGI's HTTP/2 authority), or that has yield
or app-scoped dependencies, is not ``ready``.

Over ASGI a route whose endpoint also takes a JSON body (``read_json``; its dependencies
still ``ready``'s) may be answered directly too (``body_ready``, ``body_plan``): the direct
answer reads the body as ``serve_plain`` would, through the app's body limit. Its replay
neither reads nor calls again: the settled plan has no reader, and a failure to read is
given by its call step, in the same ``try`` of ``serve_plain`` as a read's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from functools import partial
from types import CodeType, FunctionType
from typing import Any

from .calls import GEN
from .dependencies import Node
from .handler import CompiledRoute, call_async, call_batched, call_json_body, call_sync, read_json
from .runner import route_app, serve_plain
from .validate import RawHeadersValidator

__all__ = ["SETTLED_KEY", "body_plan", "body_ready", "ready", "route_plan", "settled_plan"]


def _closure_code() -> CodeType:
    for const in route_app.__code__.co_consts:
        if isinstance(const, CodeType) and const.co_name == "app":
            return const
    raise RuntimeError("runner.route_app has no closure named app")  # pragma: no cover


#: The code of ``route_app``'s closure (a route with dependencies), and where its plan is.
_ROUTE_APP_CODE = _closure_code()
_PLAN_CELL = _ROUTE_APP_CODE.co_freevars.index("plan")

_CALLS = (call_async, call_sync, call_batched)
#: A JSON body's route may also have the call step of an endpoint taking only its body.
_BODY_CALLS = (*_CALLS, call_json_body)
#: Where a validator may read: the stand-in scope (raw headers), the query, the path.
_SOURCES = ("scope", "query_params", "path_params")
#: The scope key under which a replay hands its runner the outcome (``settled_plan``).
SETTLED_KEY = "hasten.planned.settled"
_SETTLED: dict[int, tuple[CompiledRoute, CompiledRoute]] = {}  # id(plan) → (plan, its copy)
_SETTLED_MAX = 1024


def route_plan(runner: Any) -> CompiledRoute | None:
    """The plan of a route's app ``runner`` when it is ``serve_plain``'s, unwrapped (the
    runner itself, or ``route_app``'s closure for a route with dependencies) and ``ready``.

    Its plan is fixed when it is made: the direct answers ask once per runner and keep the
    answer (``runner.RunnerPlans``)."""
    plan = _plain_plan(runner)
    return plan if plan is not None and ready(plan) else None


def body_plan(runner: Any) -> CompiledRoute | None:
    """``route_plan`` for a route whose endpoint takes a JSON body (``body_ready``)."""
    plan = _plain_plan(runner)
    return plan if plan is not None and body_ready(plan) else None


def _plain_plan(runner: Any) -> CompiledRoute | None:
    """The plan of ``serve_plain``'s runner ``runner`` (or of ``route_app``'s closure)."""
    if type(runner) is partial:
        if runner.func is not serve_plain or runner.keywords:
            return None
        return runner.args[0]  # type: ignore[no-any-return]
    if type(runner) is FunctionType and runner.__code__ is _ROUTE_APP_CODE:
        return runner.__closure__[_PLAN_CELL].cell_contents  # type: ignore[index,no-any-return]
    return None


def ready(plan: CompiledRoute) -> bool:
    """Whether ``plan``'s requests can be solved before the stack (module docstring)."""
    if plan.serve is not serve_plain or plan.read is not None or plan.stream is not None:
        return False
    return plan.call in _CALLS and all(_reads_params_only(node) for node in _nodes(plan.root))


def body_ready(plan: CompiledRoute) -> bool:
    """Whether ``plan`` reads a JSON body for its endpoint and is otherwise ``ready``: its
    endpoint's own parameters and its dependencies read only headers, the query and the path
    (a dependency taking the body is not)."""
    if plan.serve is not serve_plain or plan.read is not read_json or plan.stream is not None:
        return False
    root = plan.root
    if plan.call not in _BODY_CALLS or root.body is None:
        return False
    return _reads_params_only(root, body=True) and all(
        _reads_params_only(node) for sub in root.subs for node in _nodes(sub)
    )


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    for sub in node.subs:
        yield from _nodes(sub)


def _reads_params_only(node: Node, body: bool = False) -> bool:
    """Whether ``node`` reads only headers, the query and the path (and, with ``body``, the
    body it is given)."""
    if node.specials or node.kind >= GEN or node.scope == "app":
        return False
    if node.body is not None and not body:
        return False
    for source, validator in node.validators:
        if source not in _SOURCES:
            return False
        if source == "scope" and (
            type(validator) is not RawHeadersValidator
            or any(step[2] == "host" for step in validator.text_steps)
        ):
            return False
    return True


def settled_plan(plan: CompiledRoute) -> CompiledRoute:
    """``plan`` with a call step that gives the outcome put in the replay's scope under
    ``SETTLED_KEY`` (taken out as it is given) instead of solving and calling again, and no
    body reader (a body was read before that outcome): what the replay of a planned answer
    runs. Made once per plan and kept, at most ``_SETTLED_MAX``;
    made again when the plan's writers were remade since (``build.refresh_writers``)."""
    known = _SETTLED.get(id(plan))
    if (
        known is None
        or known[0] is not plan
        or known[1].writer is not plan.writer
        or known[1].direct is not plan.direct
    ):
        if len(_SETTLED) >= _SETTLED_MAX:
            _SETTLED.clear()
        # No reader either: the body was read (or failed to be) before the outcome.
        copy = dataclasses.replace(plan, read=None, call=_outcome)
        known = _SETTLED[id(plan)] = (plan, copy)
    return known[1]


async def _outcome(plan: Any, request: Any, ctx: Any) -> Any:
    return request.scope.pop(SETTLED_KEY).outcome()
