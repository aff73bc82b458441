"""FastAPI's ``solve_dependencies``, answered by Hasten's solver.

Hasten's routes solve their compiled dependency graphs directly; this function is for code
that calls FastAPI's helper itself, and for routes whose request path goes through FastAPI's
patchable functions because an instrumentation replaced one (``hasten._plan.patched``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from starlette.background import BackgroundTasks as StarletteBackgroundTasks
from starlette.requests import HTTPConnection
from starlette.responses import Response

from .._plan.dependant import Dependant
from .._plan.dependencies import Context, Node, solve, solve_through
from .._plan.fields import Undefined
from .._plan.validate import Missing
from ..params import Form

#: The scope keys of a request's exit stacks (FastAPI's names: libraries read them).
REQUEST_STACK_KEY = "fastapi_inner_astack"
FUNCTION_STACK_KEY = "fastapi_function_astack"


@dataclass
class SolvedDependency:
    """What solving a dependant gave: FastAPI's result shape (a dataclass, as FastAPI's)."""

    values: dict[str, Any]
    errors: list[Any]
    background_tasks: StarletteBackgroundTasks | None
    response: Response
    dependency_cache: dict[Any, Any]


# The compiled graph of each dependant, with what it was compiled from: a dependant changed in
# place (a library appending a dependency) is compiled again.
_COMPILED: WeakKeyDictionary[Dependant, tuple[Any, Node]] = WeakKeyDictionary()


def _shape(dependant: Dependant, embed: bool, is_form: bool) -> Any:
    lists = (
        dependant.path_params, dependant.query_params, dependant.header_params,
        dependant.cookie_params, dependant.body_params, dependant.dependencies,
    )  # fmt: skip
    return (embed, is_form, dependant.call, *(tuple(map(id, items)) for items in lists))


def compiled_node(dependant: Dependant, embed: bool, is_form: bool) -> Node:
    """``dependant`` compiled by the engine (kept while the dependant is unchanged)."""
    shape = _shape(dependant, embed, is_form)
    found = _COMPILED.get(dependant)
    if found is None or found[0] != shape:
        found = _COMPILED[dependant] = (shape, Node(dependant, embed, is_form))
    return found[1]


def remember_node(node: Node, embed: bool, is_form: bool) -> None:
    """Register a route's compiled root, so solving its dependant reuses it."""
    _COMPILED[node.dependant] = (_shape(node.dependant, embed, is_form), node)


async def solve_dependencies(
    *,
    request: HTTPConnection,
    dependant: Dependant,
    body: Any = Undefined,
    background_tasks: StarletteBackgroundTasks | None = None,
    response: Response | None = None,
    dependency_overrides_provider: Any | None = None,
    dependency_cache: dict[Any, Any] | None = None,
    async_exit_stack: AsyncExitStack,
    embed_body_fields: bool,
    _uses_scopes_cache: Any = None,
) -> SolvedDependency:
    """Solve ``dependant``'s parameters and sub-dependencies for ``request``.

    As FastAPI's: the request's exit stacks come from its scope (``request_response`` puts
    them there), overrides from ``dependency_overrides_provider``, and the ``Response`` that
    parameters of that type share is made when none is given.
    """
    node = compiled_node(dependant, embed_body_fields, _is_form(dependant))
    overrides = getattr(dependency_overrides_provider, "dependency_overrides", None)
    prepared = node.variant_for(overrides) if overrides and node.subs else None
    if prepared is not None:
        node = prepared[0]
    ctx = Context(request, Missing if body is Undefined else body, overrides, prepared)
    scope = request.scope
    ctx.request_stack = scope.get(REQUEST_STACK_KEY, async_exit_stack)
    ctx.function_stack = scope.get(FUNCTION_STACK_KEY, async_exit_stack)
    ctx.background = background_tasks
    ctx.response = response
    if dependency_cache is not None:
        ctx.cache = dependency_cache
    utils = UTILS.get("module")
    if utils is None or utils.solve_dependencies is solve_dependencies:
        values = await solve(node, ctx)
    else:  # replaced: each sub-dependency's inputs through it, as FastAPI recurses
        values = await solve_through(
            node,
            ctx,
            _through(
                utils, ctx, dependency_overrides_provider, async_exit_stack, embed_body_fields
            ),
        )
    return SolvedDependency(
        values=values,
        errors=ctx.errors,
        background_tasks=ctx.background,
        response=ctx.sub_response(),
        dependency_cache=ctx.cache,
    )


#: ``hasten.dependencies.utils`` registers itself here (``"module"``): a replaced
#: ``solve_dependencies`` there is called for each sub-dependency, as in FastAPI.
UTILS: dict[str, Any] = {}


def _through(
    utils: Any, ctx: Context, provider: Any, stack: AsyncExitStack, embed: bool
) -> Callable[[Node], Awaitable[dict[str, Any] | None]]:
    async def inputs(sub: Node) -> dict[str, Any] | None:
        solved = await utils.solve_dependencies(
            request=ctx.request,
            dependant=sub.dependant,
            body=None if ctx.body is Missing else ctx.body,
            background_tasks=ctx.background,
            response=ctx.sub_response(),
            dependency_overrides_provider=provider,
            dependency_cache=ctx.cache,
            async_exit_stack=stack,
            embed_body_fields=embed,
        )
        ctx.background = solved.background_tasks
        if solved.errors:
            ctx.errors.extend(solved.errors)
            return None
        return solved.values  # type: ignore[no-any-return]

    return inputs


def _is_form(dependant: Dependant) -> bool:
    stack = [dependant]
    while stack:
        current = stack.pop()
        if any(isinstance(p.field_info, Form) for p in current.body_params):
            return True
        stack.extend(current.dependencies)
    return False
