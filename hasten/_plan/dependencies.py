"""The dependency graph compiled into nodes, and the per-request solver.

A ``Node`` is built once per dependant (startup, or lazily for an override) and holds
everything decided ahead of time: how to call, which validators run, the cache key.
``solve`` only walks nodes.
"""

from __future__ import annotations

from contextlib import asynccontextmanager, contextmanager
from typing import Any

from anyio import CancelScope
from anyio.lowlevel import checkpoint_if_cancelled
from starlette.background import BackgroundTasks as StarletteBackgroundTasks
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..background import BackgroundTasks
from ..concurrency import contextmanager_in_threadpool
from ..dependencies.models import Dependant
from .body import EmbeddedBody, FormBody, SingleBody
from .calls import ASYNC, ASYNC_GEN, GEN, SYNC, call_kind
from .validate import location_validators

_SOURCES = (
    ("path", "path_params", "path_params"),
    ("query", "query_params", "query_params"),
    ("header", "header_params", "headers"),
    ("cookie", "cookie_params", "cookies"),
)


class Context:
    """Per-request state of the solver (one slotted object)."""

    __slots__ = (
        "request", "body", "errors", "cache", "response", "background", "overrides",
        "request_stack", "function_stack", "compiler", "_cleanup",
    )  # fmt: skip

    def __init__(self, request: Any, body: Any, overrides: Any, compiler: Any) -> None:
        self.request = request
        self.body = body
        self.errors: list[Any] = []
        self.cache: dict[Any, Any] = {}
        self.response: Response | None = None
        self.background: StarletteBackgroundTasks | None = None
        self.overrides = overrides
        self.request_stack: Any = None
        self.function_stack: Any = None
        self.compiler = compiler
        self._cleanup: CancelScope | None = None

    def cleanup_scope(self) -> CancelScope:
        """The cancel scope that shields dependency teardown (entered on first use)."""
        if self._cleanup is None:
            self._cleanup = self.request_stack.enter_context(CancelScope())
        return self._cleanup

    def sub_response(self) -> Response:
        """The ``Response`` object that parameters of type ``Response`` share."""
        if self.response is None:
            response = Response()
            del response.headers["content-length"]
            response.status_code = None  # type: ignore[assignment]
            self.response = response
        return self.response

    def background_tasks(self) -> StarletteBackgroundTasks:
        if self.background is None:
            self.background = BackgroundTasks()
        return self.background


class Node:
    """A compiled dependant."""

    __slots__ = (
        "dependant", "call", "name", "kind", "subs", "validators", "body", "specials",
        "cache_key", "use_cache", "scope", "concurrency", "needs_stack", "security_scopes",
        "plain_async", "batchable", "leaf", "trivial", "chain",
    )  # fmt: skip

    def __init__(self, dependant: Dependant, embed: bool, is_form: bool) -> None:
        self.dependant = dependant
        self.call = dependant.call
        self.name = dependant.name
        self.kind = call_kind(dependant.call)
        self.subs = tuple(Node(d, embed, is_form) for d in dependant.dependencies)
        self.validators = _validators(dependant)
        self.body = _body_validator(dependant, embed, is_form)
        self.specials = _specials(dependant)
        self.use_cache = dependant.use_cache
        self.scope = dependant.scope or ("request" if self.kind >= GEN else None)
        self.concurrency = dependant.concurrency
        self.cache_key = (dependant.call, _scopes_for_cache(dependant), self.scope or "")
        self.needs_stack: bool = self.kind >= GEN or any(s.needs_stack for s in self.subs)
        self.security_scopes = dependant.oauth_scopes
        self.plain_async = self.kind == ASYNC and self.concurrency is None
        self.leaf = not self.subs and self.body is None
        self.trivial = self.leaf and not self.validators and not self.specials
        # Only sub-dependencies (no parameters, body or special values of its own).
        self.chain = bool(self.subs) and not self.validators and self.body is None
        self.chain = self.chain and not self.specials
        # A plain `def` dependency whose whole subtree is plain `def` too (no body, no yield,
        # no concurrency limit) is solved and called in one threadpool hop.
        self.batchable: bool = (
            self.kind == SYNC
            and self.concurrency is None
            and self.body is None
            and all(sub.batchable for sub in self.subs)
        )

    def override(self, call: Any, embed: bool, is_form: bool) -> Node:
        """A node for ``call`` standing in for this one (``dependency_overrides``)."""
        from .analysis import get_dependant

        dep = get_dependant(
            path=self.dependant.path or "",
            call=call,
            name=self.name,
            parent_oauth_scopes=self.security_scopes,
            scope=self.dependant.scope,
            concurrency=self.concurrency,
        )
        node = Node(dep, embed, is_form)
        node.cache_key = self.cache_key
        node.use_cache = self.use_cache
        return node


def _validators(dependant: Dependant) -> tuple[tuple[str, Any], ...]:
    out: list[tuple[str, Any]] = []
    for location, attr, source in _SOURCES:
        out.extend(location_validators(location, source, getattr(dependant, attr)))
    return tuple(out)


def _body_validator(dependant: Dependant, embed: bool, is_form: bool) -> Any:
    fields = dependant.body_params
    if not fields:
        return None
    if is_form:
        return FormBody(fields)
    if len(fields) == 1 and not embed:
        return SingleBody(fields[0])
    return EmbeddedBody(fields)


_SKIP: Any = object()


def _connection(ctx: Context) -> Any:
    return ctx.request


def _http_request(ctx: Context) -> Any:
    return ctx.request if isinstance(ctx.request, Request) else _SKIP


def _websocket(ctx: Context) -> Any:
    return _SKIP if isinstance(ctx.request, Request) else ctx.request


def _background(ctx: Context) -> Any:
    return ctx.background_tasks()


def _response(ctx: Context) -> Any:
    return ctx.sub_response()


def _specials(dependant: Dependant) -> tuple[tuple[str, Any], ...]:
    """(parameter name, getter of its value) for the objects Hasten passes in itself."""
    from ..security.oauth2 import SecurityScopes

    scopes = list(dependant.oauth_scopes)

    def security_scopes(ctx: Context) -> Any:
        return SecurityScopes(scopes=list(scopes))

    pairs = (
        (dependant.http_connection_param_name, _connection),
        (dependant.request_param_name, _http_request),
        (dependant.websocket_param_name, _websocket),
        (dependant.background_tasks_param_name, _background),
        (dependant.response_param_name, _response),
        (dependant.security_scopes_param_name, security_scopes),
    )
    return tuple((name, getter) for name, getter in pairs if name)


def _uses_scopes(dependant: Dependant) -> bool:
    from ..security.base import SecurityBase

    if dependant.own_oauth_scopes or dependant.security_scopes_param_name:
        return True
    if isinstance(_unwrap(dependant.call), SecurityBase):
        return True
    return any(_uses_scopes(d) for d in dependant.dependencies)


def _unwrap(call: Any) -> Any:
    import functools
    import inspect

    while isinstance(call, functools.partial):
        call = call.func
    return inspect.unwrap(call) if call is not None else None


def _scopes_for_cache(dependant: Dependant) -> tuple[str, ...]:
    if not _uses_scopes(dependant):
        return ()
    return tuple(sorted(set(dependant.oauth_scopes)))


async def solve(node: Node, ctx: Context) -> dict[str, Any]:
    """Resolve the sub-dependencies and parameters of ``node``; errors go to ``ctx.errors``."""
    values: dict[str, Any] = {}
    for sub in node.subs:
        if ctx.overrides:
            sub = ctx.compiler.resolve_override(sub, ctx.overrides)
        if sub.use_cache and sub.cache_key in ctx.cache:
            value = ctx.cache[sub.cache_key]
        else:
            value = await _solve_and_call(sub, ctx)
            if value is _FAILED:
                continue
        if sub.name is not None:
            values[sub.name] = value
    request = ctx.request
    for source, validator in node.validators:
        validator.run(getattr(request, source), values, ctx.errors)
    if node.body is not None:
        await node.body.run(ctx.body, values, ctx.errors)
    if node.specials:
        _fill_specials(node, ctx, values)
    return values


async def _solve_and_call(node: Node, ctx: Context) -> Any:
    """The value of one dependency (cached for the request); ``_FAILED`` on input errors."""
    if node.batchable and not ctx.overrides:
        return await run_in_threadpool(solve_sync, node, ctx)
    errors = ctx.errors
    seen = len(errors) if errors else 0
    if node.leaf:  # no sub-dependencies, no body: it only validates, no coroutine needed
        kwargs = solve_sync_values(node, ctx)
    elif node.chain and not ctx.overrides:  # only sub-dependencies: solved right here
        kwargs = {}
        cache = ctx.cache
        for sub in node.subs:
            if sub.use_cache and sub.cache_key in cache:
                value = cache[sub.cache_key]
            else:
                value = await _solve_and_call(sub, ctx)
                if value is _FAILED:
                    continue
            if sub.name is not None:
                kwargs[sub.name] = value
    else:
        kwargs = await solve(node, ctx)
    if errors and len(errors) != seen:
        return _FAILED
    if node.plain_async:
        value = await node.call(**kwargs)  # type: ignore[misc]
    else:
        value = await run_dependency(node, kwargs, ctx)
    cache = ctx.cache
    if node.cache_key not in cache:  # the first value computed for a key is the one kept
        cache[node.cache_key] = value
    return value


_FAILED: Any = object()


def solve_sync_values(node: Node, ctx: Context) -> dict[str, Any]:
    """:func:`solve` for a batchable node, in the calling (worker) thread."""
    values: dict[str, Any] = {}
    cache = ctx.cache
    for sub in node.subs:
        if sub.use_cache and sub.cache_key in cache:
            value = cache[sub.cache_key]
        else:
            value = solve_sync(sub, ctx)
            if value is _FAILED:
                continue
        if sub.name is not None:
            values[sub.name] = value
    request = ctx.request
    for source, validator in node.validators:
        validator.run(getattr(request, source), values, ctx.errors)
    if node.specials:
        _fill_specials(node, ctx, values)
    return values


def solve_sync(node: Node, ctx: Context) -> Any:
    """Solve and call a batchable dependency; ``_FAILED`` when its inputs had errors."""
    seen = len(ctx.errors)
    kwargs = solve_sync_values(node, ctx)
    if len(ctx.errors) != seen:
        return _FAILED
    assert node.call is not None
    value = node.call(**kwargs)
    ctx.cache.setdefault(node.cache_key, value)
    return value


def _fill_specials(node: Node, ctx: Context, values: dict[str, Any]) -> None:
    for name, getter in node.specials:
        value = getter(ctx)
        if value is not _SKIP:
            values[name] = value


async def run_dependency(node: Node, kwargs: dict[str, Any], ctx: Context) -> Any:
    """Call one dependency the way its kind needs (generators enter an exit stack)."""
    kind, call = node.kind, node.call
    assert call is not None
    if node.concurrency is not None and kind < GEN:
        async with node.concurrency.get_semaphore():
            return await (call(**kwargs) if kind == ASYNC else run_in_threadpool(call, **kwargs))
    if kind == ASYNC:
        return await call(**kwargs)
    if kind == SYNC:
        return await run_in_threadpool(call, **kwargs)
    if kind == ASYNC_GEN:
        cm: Any = _ShieldedExit(asynccontextmanager(call)(**kwargs), ctx.cleanup_scope())
    else:
        cm = contextmanager_in_threadpool(contextmanager(call)(**kwargs))
    if node.concurrency is not None:
        cm = _limited(cm, node.concurrency.get_semaphore())
    stack = ctx.function_stack if node.scope == "function" else ctx.request_stack
    return await stack.enter_async_context(cm)


class _ShieldedExit:
    """Runs a dependency's exit code (after ``yield``) shielded from cancellation.

    The shield is the request's cleanup scope, entered once on the request stack before the
    first async generator dependency, so every cancel scope the dependencies open nests
    inside it.
    """

    __slots__ = ("cm", "scope")

    def __init__(self, cm: Any, scope: CancelScope) -> None:
        self.cm = cm
        self.scope = scope

    async def __aenter__(self) -> Any:
        return await self.cm.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> Any:
        was_shielded = self.scope.shield
        self.scope.shield = True
        try:
            suppress = await self.cm.__aexit__(*exc_info)
        finally:
            self.scope.shield = was_shielded
        if suppress or exc_info[0] is None:
            # A cancellation absorbed by the dependency's own cancel scopes is delivered here.
            await checkpoint_if_cancelled()
        return suppress


@asynccontextmanager
async def _limited(cm: Any, semaphore: Any) -> Any:
    async with semaphore:
        async with cm as value:
            yield value
