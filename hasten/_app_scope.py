"""App-scoped dependencies: ``Depends(factory, scope="app")`` (a Hasten extension).

The factory runs once per application, at lifespan startup (before the app's own lifespan
and startup handlers), and its value is injected into every route that declares it. Generator
factories are closed at shutdown, after the app's own lifespan, in reverse order of creation.
A factory used before startup (no lifespan ran: ``TestClient`` without ``with``, a mounted
app) is created on first use, once, if it has no teardown; a generator factory there is an
``AppScopeError`` (each such request may run in its own event loop, and nothing would close it).

Values are kept per *callable actually run*: with ``dependency_overrides[factory] = fake`` set
at startup, ``fake`` is created instead of ``factory``; an override set later is created on
its first use, once, and closed at shutdown with the rest.

The engine reaches this module through the hook ``hasten._plan.dependencies.APP_SCOPED``,
set when this module is imported; nothing here runs per request once a value exists.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._plan import dependencies as _engine
from ._plan.analysis import get_dependant
from ._plan.calls import ASYNC, ASYNC_GEN, GEN, call_kind
from ._plan.dependant import Dependant
from .concurrency import contextmanager_in_threadpool
from .exceptions import DependencyScopeError

__all__ = ["AppScopeError", "AppResources", "resources_of"]

logger = logging.getLogger("hasten.app_scope")

_ATTR = "_hasten_app_resources"


class AppScopeError(DependencyScopeError):
    """An app-scoped dependency cannot be made: a cycle between factories, or a generator
    factory used in an application whose lifespan has not started."""


def _name(call: Any) -> str:
    return getattr(call, "__qualname__", None) or getattr(call, "__name__", None) or repr(call)


class AppResources:
    """The values of one application's app-scoped dependencies, and their teardown."""

    def __init__(self) -> None:
        self.values: dict[Callable[..., Any], Any] = {}
        self._exits: list[tuple[Callable[..., Any], Any]] = []  # made in this order
        self._pending: dict[Callable[..., Any], anyio.Event] = {}
        self.started = False  # between the lifespan's startup and its shutdown

    async def value(self, dependant: Dependant, overrides: dict[Any, Any] | None) -> Any:
        """The value of ``dependant.call`` (created once; its app-scoped inputs first)."""
        return await self._value(dependant, overrides or {}, ())

    async def _value(
        self, dependant: Dependant, overrides: dict[Any, Any], path: tuple[Any, ...]
    ) -> Any:
        call: Any = dependant.call
        if call in self.values:
            return self.values[call]
        if call in path:
            chain = " -> ".join(_name(c) for c in (*path, call))
            raise AppScopeError(f"App-scoped dependencies depend on each other in a cycle: {chain}")
        pending = self._pending.get(call)
        if pending is not None:  # another request is creating it: wait for that one
            await pending.wait()
            return await self._value(dependant, overrides, path)
        event = self._pending[call] = anyio.Event()
        try:
            kwargs: dict[str, Any] = {}
            for sub in dependant.dependencies:
                kwargs[str(sub.name)] = await self._value(
                    _in_force(sub, overrides), overrides, (*path, call)
                )
            value = await self._create(call, kwargs)
        finally:
            del self._pending[call]
            event.set()
        self.values[call] = value
        return value

    async def _create(self, call: Any, kwargs: dict[str, Any]) -> Any:
        kind = call_kind(call)
        if kind == ASYNC:
            return await call(**kwargs)
        if kind < GEN:
            return await run_in_threadpool(call, **kwargs)
        if not self.started:
            raise AppScopeError(_NOT_STARTED.format(name=_name(call)))
        if kind == ASYNC_GEN:
            cm: Any = asynccontextmanager(call)(**kwargs)
        else:
            cm = contextmanager_in_threadpool(contextmanager(call)(**kwargs))
        value = await cm.__aenter__()
        self._exits.append((call, cm))
        return value

    async def startup(self, app: Any) -> None:
        """Create every app-scoped dependency the app's routes declare (declaration order)."""
        self.started = True
        overrides = getattr(app, "dependency_overrides", None) or {}
        for dependant in _declared(app):
            await self.value(_in_force(dependant, overrides), overrides)

    async def aclose(self) -> None:
        """Close the generator factories in reverse order of creation; forget every value.

        Every teardown runs even when one fails; failures are logged, then raised together
        as an ``ExceptionGroup``.
        """
        exits, self._exits = self._exits, []
        self.started = False
        self.values.clear()
        errors: list[Exception] = []
        for call, cm in reversed(exits):
            try:
                await cm.__aexit__(None, None, None)
            except Exception as exc:
                logger.exception("Closing the app-scoped dependency %s failed", _name(call))
                errors.append(exc)
        if errors:
            raise ExceptionGroup("app-scoped dependencies failed to close", errors)


_NOT_STARTED = (
    'The app-scoped dependency "{name}" has a teardown (it yields), and the application'
    " serving this request has not started: its lifespan runs it and closes it. Start the"
    " application (`with TestClient(app) as client:`, or a server); a mounted application"
    " gets no lifespan from Starlette: declare such a dependency without `yield` there."
)


def _in_force(dependant: Dependant, overrides: dict[Any, Any]) -> Dependant:
    """``dependant``, or its override analysed in its place (checked as app-scoped too)."""
    call = overrides.get(dependant.call)
    if call is None:
        return dependant
    return get_dependant(call=call, path=dependant.path or "", name=dependant.name, scope="app")


def _declared(app: Any) -> list[Dependant]:
    """The app-scoped dependants of the app's routes, each callable once, first seen first."""
    router = getattr(app, "router", None)
    if router is not None and getattr(router, "_flattened", True) is False:
        router.flatten()
    found: dict[Any, Dependant] = {}
    stack = [
        route.dependant
        for route in reversed(getattr(app, "routes", ()))
        if hasattr(route, "dependant")
    ]
    while stack:
        dependant = stack.pop()
        if dependant.scope == "app":
            found.setdefault(dependant.call, dependant)
            continue  # its own inputs are app-scoped too: created through it
        stack.extend(reversed(dependant.dependencies))
    return list(found.values())


_GLOBAL = AppResources()  # for routers served without an application


def resources_of(app: Any) -> AppResources:
    """The app-scoped resources of ``app`` (made on first use)."""
    if app is None:
        return _GLOBAL
    found = getattr(app, _ATTR, None)
    if found is None:
        found = AppResources()
        setattr(app, _ATTR, found)
    return found


class _Hook:
    """What the engine calls for an app-scoped node (``hasten._plan.dependencies.APP_SCOPED``)."""

    missing: Any = object()

    @staticmethod
    def get(node: Any, ctx: Any) -> Any:
        """The value for this request's app, or ``missing`` (no call to the factory here)."""
        try:  # attribute and item look-ups only: no call on the way to a made value
            return ctx.request.scope["app"]._hasten_app_resources.values[node.call]
        except (KeyError, AttributeError):
            return _Hook.missing

    @staticmethod
    async def make(node: Any, ctx: Any) -> Any:
        """Make the value on first use (no lifespan, or an override set after startup)."""
        resources = resources_of(ctx.request.scope.get("app"))
        return await resources.value(node.dependant, ctx.overrides)


_engine.APP_SCOPED = _Hook()


async def run_lifespan(
    app: Any, inner: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run ``inner``'s lifespan with the app's resources created first and closed last.

    Created when the server's ``lifespan.startup`` arrives (before ``inner`` starts the app's
    own lifespan); closed when ``inner`` reports its shutdown done (or failed). A failure is
    reported to the server as ``lifespan.startup.failed``/``lifespan.shutdown.failed``.
    """
    resources = resources_of(app)

    async def receiving() -> Message:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await resources.startup(app)
            except BaseException:
                text = traceback.format_exc()
                await _close_quietly(resources)
                await send({"type": "lifespan.startup.failed", "message": text})
                raise
        return message

    async def sending(message: Message) -> None:
        if message["type"] in _ENDS:
            try:
                await resources.aclose()
            except BaseException:
                if message["type"] != "lifespan.shutdown.complete":
                    await send(message)
                else:
                    text = traceback.format_exc()
                    await send({"type": "lifespan.shutdown.failed", "message": text})
                raise
        await send(message)

    await inner(scope, receiving, sending)


_ENDS = frozenset(
    {"lifespan.shutdown.complete", "lifespan.shutdown.failed", "lifespan.startup.failed"}
)


async def _close_quietly(resources: AppResources) -> None:
    try:
        await resources.aclose()
    except Exception:  # already logged; the startup error is the one reported
        pass
