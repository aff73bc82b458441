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
(``RESPONSE_STARTED_KEY``); otherwise the 500 is offered to the server, which refuses a second
response start (uvicorn and Granian raise ``RuntimeError``, Starlette's and httpx's test
clients ``AssertionError``), as the exception layer already relies on
(``_starlette.answer_exception``).
Either way the original exception is raised again, as Starlette does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ._body_limit import MAX_BODY_SIZE_SCOPE_KEY, BodyLimit, new_counter
from ._observed import ObservedSend, Responder, Step
from ._plan.runner import RESPONSE_STARTED_KEY
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

    def error_response(self, request: Request, exc: Exception) -> Response:
        return self._errors.error_response(request, exc)

    def debug_response(self, request: Request, exc: Exception) -> Response:
        return self._errors.debug_response(request, exc)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is not self._chain:  # replaced by an instrumentation: Starlette's layer
            await super().__call__(scope, receive, send)
            return
        if scope["type"] != "http":  # the server-error layer and the limit let these through
            await self._exceptions(scope, receive, send)
            return
        limited = self._limited
        if limited is not None and _RESPONDER_KEY in scope:  # under a parent's limiter
            await self._nested(scope, receive, send)
            return
        try:
            counter = None
            receive_in, send_in = receive, send  # what the layers inside the limit get
            if limited is not None:  # ``BodyLimit.__call__``'s outermost case
                # ``BodyLimit.start``, written out
                counter = scope[_RESPONDER_KEY] = new_counter(limited.counter, scope, receive, send)
                scope[MAX_BODY_SIZE_SCOPE_KEY] = self._limit
                receive_in = counter.receive_limited
                if counter.declared is not None:
                    send_in = counter.send_watched
            try:
                scope[_HANDLERS_KEY] = self._handlers  # ``ExceptionLayer.__call__``
                try:
                    await self._router(scope, receive_in, send_in)
                except Exception as exc:
                    handler = lookup_handler(scope, exc)
                    if handler is None:
                        raise
                    await answer_exception(handler, scope, receive_in, send_in, exc)
            except BaseException as exc:
                if limited is None or counter is None:
                    raise
                await limited.settle(scope, receive, send, counter, exc)
            finally:
                if counter is not None:
                    del scope[_RESPONDER_KEY]
                    scope.pop(MAX_BODY_SIZE_SCOPE_KEY, None)
        except Exception as exc:
            await self._server_error(scope, receive, send, exc)
            raise

    async def _nested(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The separate layers' way, for an app mounted under another limiter."""
        try:
            await self._chain(scope, receive, send)
        except Exception as exc:
            await self._server_error(scope, receive, send, exc)
            raise

    async def _server_error(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception
    ) -> None:
        """Answer ``exc`` with the 500 response, unless the response has started."""
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
        if RESPONSE_STARTED_KEY in scope:
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
        else:
            self._enter, self._leave = _enter_all(self.steps), _leave_all(self.steps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await _core_call(self, scope, receive, send)
            return
        observed = ObservedSend()  # ``new_observed``, written out
        observed.send = send
        observed.headers = None
        observed.status = 500
        try:
            refusal = self._enter(scope, observed)
            if refusal is not None:  # a step answers instead (the steps inside did not enter)
                await refusal(scope, receive, observed)
                return
            await _core_call(self, scope, receive, observed)
        finally:
            if self._leave is not None:
                self._leave(scope, observed)


_core_call = CoreStack.__call__


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
