"""Solving an RSGI request's parameters from RSGI's own scope: direct answers with inputs.

A route run by ``serve_plain`` whose dependencies and parameters read nothing of the request
but its header, query and path parameters can be solved and called before any ASGI scope
exists: its validators read the RSGI scope through ``PlannedRequest``, a stand-in for the
``Request`` they would otherwise be given. ``hasten._rsgi.direct`` decides when such a route
is answered that way (what it checks for every direct answer, and ``route_plan`` here for
the route) and replays the outcome through the app's stack when the answer needs it.

Why the values are the same as through the ASGI adapter (``hasten._rsgi.scope``):

* **headers.** The adapter's ASGI headers are RSGI's pairs in order, encoded as UTF-8, and a
  header parameter is the first value of its name decoded as Latin-1. RSGI's ``get`` gives the
  first value of a name (case-insensitive); ``validate.RawHeadersValidator`` reads it through
  ``TextHeaders`` and decodes it the same way. The adapter adds a ``host`` header from the
  HTTP/2 authority: a route that reads ``host`` is left to the stack.
* **query.** ``query_params`` parses the query string the adapter would put in the scope
  (RSGI's text, encoded as UTF-8), with the same function as ``RouteRequest``.
* **path.** A static path has none (``{}``). A path with parameters is matched by the
  router's ``Matcher.route_for``, which ``direct_target`` calls for the stack's scope, with the
  same path and method (the adapter's ``path`` is RSGI's): the same route and the same
  converted values, in a new dict per request as the stack's ``path_params`` is.
* **the rest.** ``endpoint_context`` (a 422's ``endpoint_ctx``) reads the method and the
  root path, which is ``""`` (an app with a ``root_path`` is never answered directly).
  Nothing else of the request is read: a route whose dependency takes the ``Request``,
  ``Response``, ``BackgroundTasks``, ``SecurityScopes`` or a body, or reads cookies or headers
  as a list, an alias set or a ``Headers`` object, or that has yield or app-scoped
  dependencies, is not planned (``ready``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from functools import partial
from types import CodeType, FunctionType
from typing import Any

from .._plan.calls import GEN
from .._plan.dependencies import Node
from .._plan.handler import CompiledRoute, call_async, call_batched, call_sync
from .._plan.runner import route_app, serve_plain
from .._plan.validate import RawHeadersValidator, TextHeaders
from .._starlette import query_params

__all__ = ["SETTLED_KEY", "PlannedRequest", "ready", "route_plan", "settled_plan"]


def _closure_code() -> CodeType:
    for const in route_app.__code__.co_consts:
        if isinstance(const, CodeType) and const.co_name == "app":
            return const
    raise RuntimeError("runner.route_app has no closure named app")  # pragma: no cover


#: The code of ``route_app``'s closure (a route with dependencies), and where its plan is.
_ROUTE_APP_CODE = _closure_code()
_PLAN_CELL = _ROUTE_APP_CODE.co_freevars.index("plan")

_CALLS = (call_async, call_sync, call_batched)
#: Where a validator may read: the stand-in scope (raw headers), the query, the path.
_SOURCES = ("scope", "query_params", "path_params")
#: The scope key under which a replay hands its runner the outcome (``settled_plan``).
SETTLED_KEY = "hasten.rsgi.settled"
_SETTLED: dict[int, tuple[CompiledRoute, CompiledRoute]] = {}  # id(plan) → (plan, its copy)
_SETTLED_MAX = 1024


class PlannedRequest:
    """What a planned route's validators read of the request, from the RSGI scope ``rsgi``:
    ``scope`` (``"headers"`` as ``TextHeaders``, ``"root_path"``), ``method``,
    ``query_params`` (parsed on first use) and ``path_params`` (the router's match of the
    path, converted; ``{}`` for a static path)."""

    __slots__ = ("_path", "_query", "rsgi", "scope")

    def __init__(self, rsgi: Any, fields: Any, path_params: dict[str, Any] | None = None) -> None:
        self.rsgi = rsgi
        self.scope = {"headers": TextHeaders(fields), "root_path": ""}
        self._query: Any = None
        self._path = path_params

    @property
    def method(self) -> str:
        """Read only for a 422's ``endpoint_ctx``: asked of RSGI then, not per request."""
        return self.rsgi.method  # type: ignore[no-any-return]

    @property
    def query_params(self) -> Any:
        params = self._query
        if params is None:
            params = self._query = query_params(self.rsgi.query_string.encode())
        return params

    @property
    def path_params(self) -> dict[str, Any]:
        return {} if self._path is None else self._path


def route_plan(runner: Any) -> CompiledRoute | None:
    """The plan of a route's app ``runner`` when it is ``serve_plain``'s, unwrapped (the
    runner itself, or ``route_app``'s closure for a route with dependencies) and ``ready``.

    Its plan is fixed when it is made: ``DirectAnswers`` asks once per runner and keeps the
    answer."""
    if type(runner) is partial:
        if runner.func is not serve_plain or runner.keywords:
            return None
        plan: CompiledRoute = runner.args[0]
    elif type(runner) is FunctionType and runner.__code__ is _ROUTE_APP_CODE:
        plan = runner.__closure__[_PLAN_CELL].cell_contents  # type: ignore[index]
    else:
        return None
    return plan if ready(plan) else None


def ready(plan: CompiledRoute) -> bool:
    """Whether ``plan``'s requests can be solved from a ``PlannedRequest`` (module docstring)."""
    if plan.serve is not serve_plain or plan.read is not None or plan.stream is not None:
        return False
    return plan.call in _CALLS and all(_reads_params_only(node) for node in _nodes(plan.root))


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    for sub in node.subs:
        yield from _nodes(sub)


def _reads_params_only(node: Node) -> bool:
    if node.specials or node.body is not None or node.kind >= GEN or node.scope == "app":
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
    ``SETTLED_KEY`` (taken out as it is given) instead of solving and calling again: what the
    replay of a planned answer runs. Made once per plan and kept, at most ``_SETTLED_MAX``;
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
        known = _SETTLED[id(plan)] = (plan, dataclasses.replace(plan, call=_outcome))
    return known[1]


async def _outcome(plan: Any, request: Any, ctx: Any) -> Any:
    return request.scope.pop(SETTLED_KEY).outcome()
