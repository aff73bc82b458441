"""The dependency graph compiled into nodes, and the per-request solver.

A ``Node`` is built once per dependant (startup, or lazily for an override) and holds
everything decided ahead of time: how to call, which validators run, the cache key.
``solve`` only walks nodes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager, contextmanager
from contextvars import copy_context
from typing import Any, cast

from anyio import CancelScope
from anyio.lowlevel import checkpoint_if_cancelled
from starlette.background import BackgroundTasks as StarletteBackgroundTasks
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .. import params
from ..background import BackgroundTasks
from ..concurrency import contextmanager_in_threadpool
from .body import EmbeddedBody, FormBody, Prevalidated, SingleBody
from .calls import ASYNC, ASYNC_GEN, GEN, SYNC, call_kind
from .dependant import Dependant
from .schema import schema_nodes
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
        "request_stack", "function_stack", "_cleanup", "variant", "seen", "pending",
    )  # fmt: skip

    def __init__(
        self, request: Any, body: Any, overrides: Any, prepared: tuple[Any, ...] | None = None
    ) -> None:
        self.request = request
        self.body = body
        self.errors: list[Any] = []
        self.cache: dict[Any, Any] = {}
        self.response: Response | None = None
        self.background: StarletteBackgroundTasks | None = None
        self.overrides = overrides
        self.request_stack: Any = None
        self.function_stack: Any = None
        self._cleanup: CancelScope | None = None
        # (root, the root compiled for ``overrides``): looked up once per request.
        self.variant: tuple[Node, Node] | None = None
        self.pending = bool(overrides)  # the root is still to be swapped for its variant
        # The overrides the running nodes were compiled for. When ``overrides`` stops being
        # equal to it mid-request (a dependency installed one), the remaining sub-dependencies
        # are looked up in the dict one by one, as FastAPI does (see ``_live``).
        self.seen: dict[Any, Any] | None = None if overrides is None else _NO_OVERRIDES
        if prepared is not None:  # the runner runs the variant: (variant root, its overrides)
            root = prepared[0]
            self.variant = (root, root)
            self.seen = prepared[1]
            self.pending = False

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


_NO_OVERRIDES: dict[Any, Any] = {}  # never mutated
_NEVER: Any = object()  # a cache key no value is stored under


class Node:
    """A compiled dependant.

    Flags decided here, once, pick the step that solves it per request:

    * ``leaf``: no sub-dependencies and no body, its parameters validated without a coroutine;
    * ``batchable``: plain ``def`` all the way down, solved and called in one thread hop;
    * ``volatile``: solving its inputs has effects (a ``use_cache=False`` dependency below it,
      a validator or default factory of user code): FastAPI solves the sub-dependencies of a
      dependency every time it is used, even when its own value then comes from the cache, so
      such a node's inputs are solved again on a cache hit. Other nodes skip that walk.
    """

    __slots__ = (
        "dependant", "call", "name", "kind", "subs", "validators", "body", "specials",
        "cache_key", "use_cache", "scope", "concurrency", "needs_stack", "security_scopes",
        "plain_async", "batchable", "leaf", "trivial", "volatile", "user_code",
        "body_below", "embed", "is_form", "variants", "last_variant", "origin", "step",
        "base_step", "lookup_key",
    )  # fmt: skip

    def __init__(self, dependant: Dependant, embed: bool, is_form: bool) -> None:
        self.dependant = dependant
        self.call = dependant.call
        self.name = dependant.name
        self.kind = call_kind(dependant.call)
        self.embed, self.is_form = embed, is_form
        # An app-scoped dependency's inputs are solved once, by its app (``APP_SCOPED``).
        subs = () if dependant.scope == "app" else dependant.dependencies
        self.subs = tuple(Node(d, embed, is_form) for d in subs)
        self.validators = _validators(dependant)
        self.body = _body_validator(dependant, embed, is_form)
        self.specials = _specials(dependant)
        self.use_cache = dependant.use_cache
        self.scope = dependant.scope or ("request" if self.kind >= GEN else None)
        self.concurrency = dependant.concurrency
        self.cache_key = cache_key(dependant)
        self.security_scopes = dependant.oauth_scopes
        self.plain_async = self.kind == ASYNC and self.concurrency is None
        self.user_code = _runs_user_code(self)
        self.variants: dict[tuple[int, ...], tuple[Node, dict[Any, Any]]] | None = None
        self.last_variant: tuple[Node, dict[Any, Any]] | None = None
        self.origin = self  # the node of the declared dependency this one stands for
        self._derive()

    def _derive(self) -> None:
        """The flags that depend on the sub-dependencies (again after overrides swap them)."""
        subs = self.subs
        self.needs_stack: bool = self.kind >= GEN or any(s.needs_stack for s in subs)
        self.leaf = not subs and self.body is None
        self.trivial = self.leaf and not self.validators and not self.specials
        # Only sub-dependencies (no parameters, body or special values of its own).
        # A plain `def` dependency whose whole subtree is plain `def` too (no body, no yield,
        # no concurrency limit) is solved and called in one threadpool hop.
        self.batchable: bool = (
            self.kind == SYNC
            and self.concurrency is None
            and self.body is None
            and all(sub.batchable for sub in subs)
        )
        self.volatile: bool = self.user_code or any(not s.use_cache or s.volatile for s in subs)
        self.body_below: bool = any(s.body is not None or s.body_below for s in subs)
        if self.batchable:
            self.base_step: Any = _batch_call
        elif len(subs) == 1 and self.body is None and not self.specials and not self.validators:
            self.base_step = _solve_one_and_call
        elif subs and self.body is None and not self.specials:
            self.base_step = _solve_subs_and_call
        elif self.leaf:
            self.base_step = _validate_and_call
        else:
            self.base_step = _solve_and_call
        # A cached volatile node is never found by the solver's cache lookup: its step looks
        # (and solves its inputs again on a hit), so the loops need no check of their own.
        hit_solves = self.volatile and self.use_cache
        self.lookup_key: Any = _NEVER if hit_solves or not self.use_cache else self.cache_key
        self.step: Any = _cached_volatile if hit_solves else self.base_step
        if self.scope == "app":  # a value made once per app: looked up, nothing to solve
            self.needs_stack = self.batchable = self.volatile = False
            self.lookup_key = self.cache_key
            self.step = self.base_step = _app_scoped

    def override(self, call: Any) -> Node:
        """A node for ``call`` standing in for this one (``dependency_overrides``).

        As in FastAPI, it keeps the original's cache key and ``use_cache``, its name, scope
        and concurrency limit, and gets the original's security scopes as its parents'.
        """
        from .analysis import get_dependant

        dep = get_dependant(
            path=self.dependant.path or "",
            call=call,
            name=self.name,
            parent_oauth_scopes=self.security_scopes,
            scope=self.dependant.scope,
            concurrency=self.concurrency,
        )
        node = Node(dep, self.embed, self.is_form)
        node.cache_key, node.use_cache = self.cache_key, self.use_cache
        node.origin = self.origin
        node._derive()
        return node

    def with_subs(self, subs: tuple[Node, ...]) -> Node:
        """A copy of this node whose sub-dependencies are ``subs``."""
        node = Node.__new__(Node)
        for name in Node.__slots__:
            setattr(node, name, getattr(self, name))
        node.subs = subs
        node.variants = node.last_variant = None
        node._derive()
        return node

    def variant(self, ctx: Context) -> Node:
        """This root compiled for ``ctx.overrides`` (looked up once per request)."""
        found = ctx.variant
        if found is not None and found[0] is self:
            return found[1]
        if not self.subs:  # nothing below to override
            return self
        node, ctx.seen = self.variant_for(ctx.overrides)
        ctx.variant = (self, node)
        return node

    def variant_for(self, overrides: dict[Any, Any]) -> tuple[Node, dict[Any, Any]]:
        """This root with ``overrides`` applied, compiled once per version of the dict.

        The last version used is recognised by comparing the dict with its snapshot (no
        calls); others by the identities of keys and values (the cache entry keeps them
        alive, so an identity is not reused while its entry exists). A few versions are kept
        per root: tests set, change and clear overrides between requests.
        """
        last = self.last_variant
        if last is not None and last[1] == overrides:  # the same as last time: no calls
            return last
        key = (*map(id, overrides), *map(id, overrides.values()))
        variants = self.variants
        if variants is None:
            variants = self.variants = {}
        entry = variants.get(key)
        if entry is None:
            if len(variants) >= _MAX_VARIANTS:
                variants.pop(next(iter(variants)), None)
            snapshot = dict(overrides)
            entry = variants[key] = (_overridden(self, snapshot), snapshot)
        self.last_variant = entry
        return entry


_MAX_VARIANTS = 8  # versions of the overrides dict kept per route


def _overridden(node: Node, overrides: dict[Any, Any]) -> Node:
    """``node`` with ``overrides`` applied below it (itself, a root, is never replaced).

    Like FastAPI: each sub-dependency is looked up once (an override's own replacement is not
    followed), and the sub-dependencies of an override are looked up in turn.
    """
    subs: list[Node] = []
    for sub in node.subs:
        call = overrides.get(sub.dependant.call, _SKIP)
        new = _overridden(sub if call is _SKIP else sub.override(call), overrides)
        subs.append(new)
    if all(new is old for new, old in zip(subs, node.subs, strict=True)):
        return node
    return node.with_subs(tuple(subs))


_USER_CODE_TYPES = frozenset(
    {"function-before", "function-after", "function-wrap", "function-plain", "call"}
)
_BUILTIN_FACTORIES = frozenset({list, dict, set, frozenset, tuple, str, int, float, bool, bytes})


def _runs_user_code(node: Node) -> bool:
    """Whether validating ``node``'s parameters or body may run user code (with effects)."""
    checks: list[Any] = [v for _, v in node.validators]
    if node.body is not None:
        checks.append(node.body)
    for check in checks:
        fields = list(getattr(check, "fields", ()))
        adapters = [getattr(check, "adapter", None)]
        if hasattr(check, "field"):
            fields.append(check.field)
        for model in getattr(check, "models", ()):
            fields.append(model.field)
            adapters.append(model.field.adapter)
        if any(f.default_factory not in _BUILTIN_FACTORIES for f in fields if f.default_factory):
            return True
        if any(a is not None and _schema_runs_user_code(a.core_schema) for a in adapters):
            return True
    return False


def _schema_runs_user_code(schema: Any) -> bool:
    return any(_node_runs_user_code(node) for node in schema_nodes(schema))


def _node_runs_user_code(node: dict[str, Any]) -> bool:
    if node["type"] in _USER_CODE_TYPES or node.get("custom_init") or node.get("post_init"):
        return True
    if node.get("missing") is not None:  # Enum._missing_
        return True
    factory = node.get("default_factory")
    return factory is not None and factory not in _BUILTIN_FACTORIES


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
        return FormBody(fields, whole=len(fields) == 1 and not embed and _not_embedded(fields[0]))
    if len(fields) == 1 and not embed:
        return SingleBody(fields[0])
    return EmbeddedBody(fields)


def _not_embedded(field: Any) -> bool:
    """Whether a lone body parameter is the whole body by FastAPI's rule (neither a form
    field nor ``embed=True``)."""
    info = field.field_info
    return not isinstance(info, params.Form) and not getattr(info, "embed", None)


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


def cache_key(dependant: Dependant) -> tuple[Any, tuple[str, ...], str]:
    """FastAPI's dependency cache key: the call, its scopes (if it uses any) and its scope.

    The engine caches values under it; the OpenAPI document visits each key once.
    """
    scope = dependant.scope or ("request" if call_kind(dependant.call) >= GEN else "")
    return (dependant.call, _scopes_for_cache(dependant), scope)


def security_scheme(dependant: Dependant) -> Any | None:
    """The ``SecurityBase`` instance ``dependant`` calls, if it calls a security scheme."""
    from ..security.base import SecurityBase

    call = _unwrap(dependant.call)
    return call if isinstance(call, SecurityBase) else None


def _uses_scopes(dependant: Dependant) -> bool:
    if dependant.own_oauth_scopes or dependant.security_scopes_param_name:
        return True
    if security_scheme(dependant) is not None:
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
    """Resolve the sub-dependencies and parameters of ``node``; errors go to ``ctx.errors``.

    Called with a route's root: with ``dependency_overrides`` set, the root compiled for them
    runs instead (the same steps as without, see :meth:`Node.variant`).
    """
    if ctx.pending and node.subs:  # the root (the first node passed in), overrides set
        node = await _root_variant(node, ctx)
    values: dict[str, Any] = {}
    cache = ctx.cache
    for sub in node.subs:
        if ctx.overrides != ctx.seen:
            sub = _live(sub, ctx)
        if sub.lookup_key in cache:
            value = cache[sub.cache_key]
        else:
            value = await sub.step(sub, ctx)
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


async def _root_variant(root: Node, ctx: Context) -> Node:
    ctx.pending = False
    root = root.variant(ctx)
    if root.body_below and type(ctx.body) is Prevalidated:
        # An override reads the body too: it gets the parsed JSON, as in FastAPI.
        ctx.body = await ctx.request.json()
    return root


async def _cached_volatile(node: Node, ctx: Context) -> Any:
    """The step of a cached ``volatile`` node: on a cache hit its inputs are solved again."""
    if node.cache_key not in ctx.cache:
        return await node.base_step(node, ctx)
    if await _solved_with_errors(node, ctx):
        return _FAILED
    return ctx.cache[node.cache_key]


async def _solved_with_errors(node: Node, ctx: Context) -> bool:
    """Solve the inputs of a cached ``volatile`` node again (their effects happen again).

    True when that added errors: the node's value is then left out, as in FastAPI.
    """
    seen = len(ctx.errors)
    if node.batchable:
        await run_in_threadpool(_solve_sync_values, node, ctx)
    else:
        await solve(node, ctx)
    return len(ctx.errors) != seen


async def _solve_and_call(node: Node, ctx: Context) -> Any:
    """The value of one dependency (cached for the request); ``_FAILED`` on input errors.

    The general step, also for leaves; ``Node.step`` is this or :func:`_batch_call`,
    chosen when the node is compiled.
    """
    errors = ctx.errors
    seen = len(errors) if errors else 0
    if node.leaf:  # no sub-dependencies, no body: it only validates, no coroutine needed
        kwargs = _solve_sync_values(node, ctx)
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


async def _solve_subs_and_call(node: Node, ctx: Context) -> Any:
    """:func:`_solve_and_call` for a node with sub-dependencies and neither a body nor special
    parameters (the common middle of a chain): :func:`solve`'s steps written out here, one
    coroutine less per level. Never a route's root (whose overrides variant ``solve`` picks)."""
    errors = ctx.errors
    seen = len(errors) if errors else 0
    kwargs: dict[str, Any] = {}
    cache = ctx.cache
    for sub in node.subs:
        if ctx.overrides != ctx.seen:
            sub = _live(sub, ctx)
        if sub.lookup_key in cache:
            value = cache[sub.cache_key]
        else:
            value = await sub.step(sub, ctx)
            if value is _FAILED:
                continue
        if sub.name is not None:
            kwargs[sub.name] = value
    request = ctx.request
    for source, validator in node.validators:
        validator.run(getattr(request, source), kwargs, errors)
    if errors and len(errors) != seen:
        return _FAILED
    if node.plain_async:
        value = await node.call(**kwargs)  # type: ignore[misc]
    else:
        value = await run_dependency(node, kwargs, ctx)
    if node.cache_key not in cache:  # the first value computed for a key is the one kept
        cache[node.cache_key] = value
    return value


async def _solve_one_and_call(node: Node, ctx: Context) -> Any:
    """:func:`_solve_subs_and_call` for a node whose only input is one sub-dependency (a link
    of a chain such as ``user`` → ``token``): no loop, no parameters of its own."""
    sub = node.subs[0]
    if ctx.overrides != ctx.seen:
        sub = _live(sub, ctx)
    cache = ctx.cache
    if sub.lookup_key in cache:
        value = cache[sub.cache_key]
    else:
        value = await sub.step(sub, ctx)
        if value is _FAILED:  # its inputs had errors (added to ``ctx.errors``)
            return _FAILED
    kwargs = {} if sub.name is None else {sub.name: value}
    if node.plain_async:
        value = await node.call(**kwargs)  # type: ignore[misc]
    else:
        value = await run_dependency(node, kwargs, ctx)
    if node.cache_key not in cache:  # the first value computed for a key is the one kept
        cache[node.cache_key] = value
    return value


async def _validate_and_call(node: Node, ctx: Context) -> Any:
    """:func:`_solve_and_call` for a leaf (no sub-dependencies, no body): its parameters are
    validated here, without :func:`_solve_sync_values`'s call and loop."""
    errors = ctx.errors
    seen = len(errors) if errors else 0
    kwargs: dict[str, Any] = {}
    request = ctx.request
    for source, validator in node.validators:
        validator.run(getattr(request, source), kwargs, errors)
    if node.specials:
        _fill_specials(node, ctx, kwargs)
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


async def solve_through(
    node: Node, ctx: Context, inputs: Callable[[Node], Awaitable[dict[str, Any] | None]]
) -> dict[str, Any]:
    """:func:`solve`, with each sub-dependency's inputs from ``inputs`` (None: they had errors).

    For a replaced ``fastapi.dependencies.utils.solve_dependencies``: FastAPI solves each
    sub-dependency's inputs through that function, so the replacement sees every level.
    Caching, calls and teardown stay the engine's.
    """
    values: dict[str, Any] = {}
    cache = ctx.cache
    for sub in node.subs:
        kwargs = await inputs(sub)
        if kwargs is None:
            continue
        if sub.use_cache and sub.cache_key in cache:
            value = cache[sub.cache_key]
        else:
            value = await run_dependency(sub, kwargs, ctx)
            cache.setdefault(sub.cache_key, value)
        if sub.name is not None:
            values[sub.name] = value
    values.update(await solve(node.with_subs(()), ctx))  # its own parameters, body, specials
    return values


async def _batch_call(node: Node, ctx: Context) -> Any:
    """The step of a batchable node: solved and called in one worker-thread call."""
    return await run_in_threadpool(solve_sync, node, ctx)


_FAILED: Any = object()

#: The values of ``Depends(scope="app")`` dependencies, installed by ``hasten._app_scope``
#: (the app keeps them; the engine does not know applications): ``get(node, ctx)`` → the
#: value or ``missing``; ``async make(node, ctx)`` → the value made on first use.
APP_SCOPED: Any = None


async def _app_scoped(node: Node, ctx: Context) -> Any:
    """The step of an app-scoped node: its app's value, cached for the request."""
    hook = APP_SCOPED
    value = hook.get(node, ctx)
    if value is hook.missing:
        value = await hook.make(node, ctx)
    cache = ctx.cache
    if node.cache_key not in cache:
        cache[node.cache_key] = value
    return value


def _live(sub: Node, ctx: Context) -> Node:
    """``sub`` as the overrides dict says now (it changed during this request).

    The rest of the request runs FastAPI's way: each sub-dependency looked up in the dict,
    and the inputs of a cached dependency solved again on every use.
    """
    origin = sub.origin
    overrides = ctx.overrides
    call = overrides.get(origin.call, _SKIP) if overrides else _SKIP
    node = origin if call is _SKIP else origin.override(call)
    node = node.with_subs(node.subs)
    node.user_code = True  # marks it volatile: its inputs solved on every use
    node._derive()
    return node


def solve_sync_values(root: Node, ctx: Context) -> dict[str, Any]:
    """:func:`solve` for a batchable root, in the calling (worker) thread.

    Each dependency below runs in its own copy of the thread's context, as each would in its
    own worker-thread call: a context variable one sets is not seen by the others, nor by the
    endpoint called after this in the same context.
    """
    if ctx.overrides:
        root = root.variant(ctx)
    return _solve_sync_values(root, ctx)


def _solve_sync_values(node: Node, ctx: Context) -> dict[str, Any]:
    values: dict[str, Any] = {}
    cache = ctx.cache
    for sub in node.subs:
        if ctx.overrides != ctx.seen:
            sub = _live(sub, ctx)
        if sub.lookup_key in cache:
            value = cache[sub.cache_key]
        else:
            value = _solve_and_call_sync(sub, ctx)
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
    """Solve and call a batchable dependency; ``_FAILED`` when its inputs had errors.

    Runs as one worker-thread call: the dependency itself, the last call in it, runs in that
    call's context; those below it each in a copy (see :func:`solve_sync_values`).
    """
    seen = len(ctx.errors)
    kwargs = _solve_sync_values(node, ctx)
    if len(ctx.errors) != seen:
        return _FAILED
    value = node.call(**kwargs)  # type: ignore[misc]
    ctx.cache.setdefault(node.cache_key, value)
    return value


def _solve_and_call_sync(node: Node, ctx: Context) -> Any:
    """:func:`solve_sync` for a dependency below another in the same thread hop.

    A cached ``volatile`` node found in the cache has its inputs solved again.
    """
    seen = len(ctx.errors)
    kwargs = _solve_sync_values(node, ctx)
    if len(ctx.errors) != seen:
        return _FAILED
    if node.step is _cached_volatile and node.cache_key in ctx.cache:
        return ctx.cache[node.cache_key]
    value = copy_context().run(node.call, **kwargs)  # type: ignore[arg-type]
    ctx.cache.setdefault(node.cache_key, value)
    return value


def _fill_specials(node: Node, ctx: Context, values: dict[str, Any]) -> None:
    for name, getter in node.specials:
        value = getter(ctx)
        if value is not _SKIP:
            values[name] = value


async def run_dependency(node: Node, kwargs: dict[str, Any], ctx: Context) -> Any:
    """Call one dependency the way its kind needs (generators enter an exit stack)."""
    kind, call = node.kind, cast(Callable[..., Any], node.call)
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
