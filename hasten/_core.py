"""An application's default stack in one coroutine, for an app without user middleware.

Without user middleware, the layers an application puts around its router (server errors,
the app's body limit, the exception handlers) sit directly inside one another, and each would
cost a coroutine per request, the server-error layer also a ``send`` wrapper. ``CoreStack``
runs the same steps, nested in the same order, in one frame:

1. the exception handlers are registered in the scope and what escapes the router goes to the
   app's handler for it (``ExceptionLayer``);
2. with a limit, every request goes through the app's ``BodyLimit`` first (also one without
   ``Content-Length`` or ``Transfer-Encoding``: an ASGI caller may send body bytes anyway,
   FastAPI's own tests do);
3. an exception that gets out of both reaches the 500 handler (``ServerErrorMiddleware``'s
   responses, the app's handler for 500 or ``Exception``), and is raised again for the server.

Starlette's server-error layer wraps ``send`` to learn whether the response has started. Here
a route's runner notes it in the scope before it sends a plain response's start
(``RESPONSE_STARTED_KEY``, or on the counter of a Hasten body limit over it); otherwise the
500 is offered to the server, which refuses a second response start (uvicorn and Granian
raise ``RuntimeError``, Starlette's and httpx's test clients ``AssertionError``), as the
exception layer already relies on (``_starlette.answer_exception``).
Either way the original exception is raised again, as Starlette does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ._body_limit import MAX_BODY_SIZE_SCOPE_KEY, BodyLimit, LimitCounter, new_counter
from ._observed import ObservedSend, Responder, Step, new_observed
from ._plan.runner import RESPONSE_STARTED_KEY
from ._router_dispatch import RouterDispatch
from ._starlette import LIMIT_RESPONDER_KEY as _RESPONDER_KEY
from ._starlette import ExceptionLayer, answer_exception, is_async_callable, lookup_handler

__all__ = ["CoreStack", "SteppedCoreStack"]

_HANDLERS_KEY = "starlette.exception_handlers"


class CoreStack(ServerErrorMiddleware):
    """Server errors, the app's body limit and the exception handlers around the router, as
    one ASGI callable; see the module's documentation.

    It is the app's ``ServerErrorMiddleware`` for whoever takes the stack apart
    (instrumentations wrap what is inside it): ``app`` is the chain the separate layers would
    form (``BodyLimit`` → ``ExceptionLayer`` → router), ``handler`` and ``debug`` are the
    layer's. Once ``app`` is replaced, it runs as Starlette's layer around the new one.
    """

    def __init__(
        self,
        router: ASGIApp,
        errors: ServerErrorMiddleware,
        exceptions: ExceptionLayer,
        limited: BodyLimit | None,
    ) -> None:
        chain = exceptions if limited is None else limited
        super().__init__(chain, errors.handler, errors.debug)
        self._chain = chain
        self._router = router
        #: The server-error layer whose responses (``error_response``, ``debug_response``)
        #: answer an unhandled exception (telemetry's notes the exception first).
        self._errors = errors
        self._exceptions = exceptions
        self._limited = limited
        self._limit: Any = None if limited is None else limited.max_body_size
        self._handlers = (exceptions._exception_handlers, exceptions._status_handlers)
        #: ``SteppedCoreStack``'s middleware steps: one ``enter`` and one ``leave`` for all of
        #: them, and whether they need an ``ObservedSend`` (None is passed otherwise). In the
        #: instance's own dict: a request reads them there, not through the class.
        self._enter: Any = None
        self._leave: Any = None
        self._observe = False
        #: The router's synchronous finder of a plain route (``RouterDispatch.direct_target``)
        #: when ``router`` is its own unreplaced ``app``: the core awaits that route itself.
        owner = getattr(router, "__self__", None)
        self._find: Callable[[Scope], Any] = _no_target
        #: That router (None when it decides by itself): the RSGI direct answer looks its
        #: static routes up (``hasten._rsgi.direct``).
        self.dispatch: RouterDispatch | None = None
        if getattr(router, "__func__", None) is RouterDispatch.app:
            self._find = owner.direct_target  # type: ignore[union-attr]
            self.dispatch = owner

    def finding(self, find: Callable[[Scope], Any], entered: bool = False) -> CoreStack:
        """This stack, with ``find`` as its finder of the route to await: a copy, for the
        requests the caller runs through it (the RSGI direct answer's replay). ``entered``:
        the middleware steps' ``enter`` ran already and is not run again, and their ``leave``
        is the caller's to run."""
        stack = self._again()
        stack._find = find
        if entered:
            stack._enter = None
            stack._leave = None
        return stack

    def _again(self) -> CoreStack:
        """A new stack made as this one was. Not ``copy.copy``: reading an instance's
        ``__dict__`` makes CPython 3.11 give it a dict of its own, and its attributes are then
        read more slowly on every request."""
        return type(self)(self._router, self._errors, self._exceptions, self._limited)

    def error_response(self, request: Request, exc: Exception) -> Response:
        return self._errors.error_response(request, exc)

    def debug_response(self, request: Request, exc: Exception) -> Response:
        return self._errors.debug_response(request, exc)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.app is not self._chain:
            await self._aside(scope, receive, send)
            return
        enter = self._enter
        observed = counter = None
        try:
            if enter is not None:  # ``SteppedCoreStack``: its middleware enter first
                observed = new_observed(send) if self._observe else None
                send = send if observed is None else observed
                refusal = enter(scope, observed)
                if refusal is not None:  # a step answers instead (the steps inside did not)
                    await refusal(scope, receive, send)
                    return
            limited = self._limited
            if limited is not None and _RESPONDER_KEY in scope:  # under a parent's limiter
                await self._nested(scope, receive, send)
                return
            try:
                # ``BodyLimit.__call__``'s outermost case (``BodyLimit.start``), written out:
                # the layers inside the limit get the counter's ``receive``, and its ``send``
                # when the request declares a length.
                counter = (
                    None if limited is None else new_counter(limited.counter, scope, receive, send)
                )
                receive_in = receive if counter is None else counter.receive_limited
                send_in = (
                    send if counter is None or counter.declared is None else counter.send_watched
                )
                if counter is not None:
                    scope[_RESPONDER_KEY] = counter
                    scope[MAX_BODY_SIZE_SCOPE_KEY] = self._limit
                try:
                    scope[_HANDLERS_KEY] = self._handlers  # ``ExceptionLayer.__call__``
                    try:
                        target = self._find(scope) or self._router
                        await target(scope, receive_in, send_in)
                    except Exception as exc:
                        handler = lookup_handler(scope, exc)
                        if handler is None:
                            raise
                        await answer_exception(handler, scope, receive_in, send_in, exc)
                except BaseException as exc:
                    await self._settle(scope, receive, send, counter, exc)
                finally:
                    if counter is not None:
                        del scope[_RESPONDER_KEY]
                        scope.pop(MAX_BODY_SIZE_SCOPE_KEY, None)
            except Exception as exc:
                await self._server_error(scope, receive, send, exc, counter)
                raise
        finally:
            if self._leave is not None:
                self._leave(scope, observed)

    async def _aside(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What the core's own frame does not take: a scope other than HTTP (the server-error
        layer and the limit let it through), and any request once an instrumentation replaced
        ``app`` (Starlette's layer runs around the new one, inside the steps)."""
        if self.app is self._chain:
            await self._exceptions(scope, receive, send)
            return
        layer = super().__call__
        if self._enter is None or scope["type"] != "http":
            await layer(scope, receive, send)
            return
        observed = new_observed(send) if self._observe else None
        send = send if observed is None else observed
        try:
            refusal = self._enter(scope, observed)
            await (layer if refusal is None else refusal)(scope, receive, send)
        finally:
            if self._leave is not None:
                self._leave(scope, observed)

    async def _settle(
        self, scope: Scope, receive: Receive, send: Send, counter: Any, exc: BaseException
    ) -> None:
        """``exc`` from inside the limit: the limiter's to settle, raised again without one."""
        if counter is None:
            raise exc
        assert self._limited is not None
        await self._limited.settle(scope, receive, send, counter, exc)

    async def _nested(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The separate layers' way, for an app mounted under another limiter."""
        try:
            await self._chain(scope, receive, send)
        except Exception as exc:
            await self._server_error(scope, receive, send, exc)
            raise

    async def _server_error(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception, counter: Any = None
    ) -> None:
        """Answer ``exc`` with the 500 response, unless the response has started: a runner
        noted it in the scope, or on a Hasten limit's ``counter`` (this core's, taken out of
        the scope already; else a parent's, still in it)."""
        handler: Any = self.handler
        request = Request(scope)
        response: Any
        if self.debug:
            response = await run_in_threadpool(self.debug_response, request, exc)
        elif handler is None:
            response = self.error_response(request, exc)
        elif is_async_callable(handler):
            response = await handler(request, exc)
        else:
            response = await run_in_threadpool(handler, request, exc)
        if counter is None:
            counter = scope.get(_RESPONDER_KEY)
        if RESPONSE_STARTED_KEY in scope or (
            isinstance(counter, LimitCounter) and counter.plain_started
        ):
            return
        try:
            await response(scope, receive, send)
        except Exception:  # a second response start, refused: the response had started
            pass


class SteppedCoreStack(CoreStack):
    """The core stack with middleware that runs as its steps (``hasten._observed.Step``: the
    app-wide rate limiter, the Prometheus middleware), for an app whose every user middleware
    can: they enter before the stack's work, outermost first, and leave after it, innermost
    first, as the layers they are would around it, with one ``ObservedSend`` per request and
    no coroutine of their own.
    """

    def __init__(
        self,
        router: ASGIApp,
        errors: ServerErrorMiddleware,
        exceptions: ExceptionLayer,
        limited: BodyLimit | None,
        steps: Sequence[Step],
    ) -> None:
        super().__init__(router, errors, exceptions, limited)
        #: The middleware running as steps, outermost first.
        self.steps: tuple[Step, ...] = tuple(steps)
        if len(self.steps) == 1:
            self._enter, self._leave = self.steps[0].enter, self.steps[0].leave
            self._observe = getattr(self.steps[0], "observes", True)
        else:  # the steps note in the ``ObservedSend`` which of them entered
            self._enter, self._leave = _enter_all(self.steps), _leave_all(self.steps)
            self._observe = True

    def _again(self) -> SteppedCoreStack:
        return type(self)(self._router, self._errors, self._exceptions, self._limited, self.steps)


def _no_target(scope: Scope) -> None:
    """The finder of a core whose router is not ``RouterDispatch.app``: it decides."""
    return None


def _enter_all(steps: tuple[Step, ...]) -> Any:
    """One ``enter`` for several steps: each in turn, until one answers instead."""

    def enter(scope: Scope, observed: ObservedSend) -> Responder | None:
        for entered, step in enumerate(steps, 1):
            observed.entered = entered
            refusal: Responder | None = step.enter(scope, observed)
            if refusal is not None:
                return refusal
        return None

    return enter


def _leave_all(steps: tuple[Step, ...]) -> Any:
    """One ``leave`` for several steps: those that entered, innermost first."""
    leaving = [(index, step.leave) for index, step in enumerate(steps) if step.leave is not None]
    if not leaving:
        return None
    leaving.reverse()

    def leave(scope: Scope, observed: ObservedSend) -> None:
        for index, step_leave in leaving:
            if index < observed.entered:
                step_leave(scope, observed)

    return leave
