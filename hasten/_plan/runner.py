"""The ASGI edge of an HTTP route: one runner per compiled route, chosen when it is built.

A ``CompiledRoute`` carries its ``serve`` function, picked once from what the route needs:

``serve_trivial``
    no parameters, no dependencies, a plain answer: call the endpoint, write, send.
``serve_plain``
    read the body, solve, call and write (``handler.call_and_write``); an exception goes to
    the app's handler for it, looked up only then.
``serve_stacked``
    the same inside the two dependency exit stacks (request and function scope) and
    Starlette's exception-handler wrapper, with form data closed once the answer is done:
    for yield dependencies, forms and server-sent events.

Route subclasses that wrap ``get_route_handler()`` (FastAPI's documented customization) run
the same steps through the same stacked edge (:func:`handler_app`, :func:`plan_handler`).

``dependency_overrides`` are looked up per request (users mutate the dict at any time). With
overrides set, the root compiled for that version of the dict (``Node.variant_for``) may need
another runner or call step: :func:`for_overrides` keeps one plan per variant, so a test
with overrides runs the same steps as production.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AsyncExitStack
from functools import partial
from types import MethodType
from typing import Any

from anyio import CancelScope
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .._body_limit import SEND_WATCHED, LimitCounter, unwatched
from .._observed import ObservedSend, unwrap_observed
from .._rsgi.http import HTTPCycle
from .._starlette import (
    LIMIT_RESPONDER_KEY,
    RouteRequest,
    is_async_callable,
    lookup_handler,
    wrap_app_handling_exceptions,
)
from ..exceptions import HastenError, ResponseValidationError
from .dependencies import Context, Node
from .handler import (
    FORMS_KEY,
    OBSERVED_KEY,
    CompiledRoute,
    call_and_write,
    call_async,
    call_batched,
    call_json_body,
    call_stream,
    call_sync,
    endpoint_context,
    read_form,
    respond,
)
from .validate import Missing

#: The RSGI adapter's ``send`` (``hasten._rsgi.http``): a runner given it unwrapped sends
#: a plain answer's two messages with one call of its cycle's ``answer``.
_CYCLE_SEND = HTTPCycle.send

#: Starlette's ``Response.__call__``: a response whose class still uses it is sent inline.
_RESPONSE_CALL = Response.__call__
#: Set in the scope just before a route's runner sends the response start of a plain response:
#: the app's server-error layer then knows that a later exception cannot get a 500 out. Under
#: a Hasten body limit it is noted on the limit's counter instead (``plain_started``):
#: the request's scope then gets one key less, which spares uvicorn's scope (13 keys, 21
#: places) a resize per request.
RESPONSE_STARTED_KEY = "hasten.response_started"

_NOT_AWAITED = (
    "Response not awaited. There's a high chance that the application code is raising an"
    " exception and a dependency with yield has a block with a bare except, or a block with"
    " except Exception, and is not raising the exception again. Read more about it in the"
    " docs: https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/#dependencies-with-yield-and-except"
)
_REQUEST_STACK = "fastapi_inner_astack"  # FastAPI's scope keys: libraries read them
_FUNCTION_STACK = "fastapi_function_astack"


# -- choosing, when a route is built -----------------------------------------------------------


def choose_steps(plan: CompiledRoute, root: Node) -> CompiledRoute:
    """``plan`` with the call step and the runner that ``root`` (maybe a variant) needs."""
    if plan.stream is not None:
        call: Any = call_stream
    elif root.batchable:
        call = call_batched
    else:
        call = call_async if plan.is_async else call_sync
    needs_stack = root.needs_stack or plan.stack_edge
    trivial = root.trivial and plan.read is None and plan.stream is None and not needs_stack
    serve = serve_trivial if trivial else serve_stacked if needs_stack else serve_plain
    # A dependency that reads the body too (an override can add one) gets the parsed JSON.
    json_body = None if root.body_below else plan.json_body
    if (  # the body its one input: ``solve`` would only place it (see ``call_json_body``)
        call is call_async
        and json_body is not None
        and json_body is root.body
        and not (root.subs or root.validators or root.specials)
    ):
        call = call_json_body
    return dataclasses.replace(
        plan,
        call=call,
        needs_stack=needs_stack,
        trivial=trivial,
        serve=serve,
        json_body=json_body,
        variants={},
    )


def for_overrides(plan: CompiledRoute, overrides: dict[Any, Any]) -> tuple[CompiledRoute, Any]:
    """The plan to run while ``overrides`` is the ``dependency_overrides`` dict.

    Also what the request's ``Context`` needs to start from that variant: ``(variant, the
    overrides it was compiled for)``. Called only for routes with dependencies.
    """
    root = plan.root
    variant, seen = root.variant_for(overrides)
    prepared = (variant, seen)
    if variant is root:
        plan.recent[:] = (seen, plan, prepared)
        return plan, prepared
    found = plan.variants.get(id(variant))
    if found is None or found[0] is not variant:
        if len(plan.variants) >= 16:
            plan.variants.clear()
        # The variant runs as the root (the solver follows the dict if it changes mid-request).
        chosen = choose_steps(dataclasses.replace(plan, root=variant), variant)
        found = plan.variants[id(variant)] = (variant, chosen)
    plan.recent[:] = (seen, found[1], prepared)
    return found[1], prepared


# -- the route's ASGI app ---------------------------------------------------------------------


def route_app(plan: CompiledRoute, route: Any) -> ASGIApp:
    """The ASGI app of one HTTP route (``route`` gives the ``dependency_overrides`` provider).

    A plan without dependencies has nothing ``dependency_overrides`` could replace: its runner
    is the app itself (one coroutine less per request).
    """
    if not plan.root.subs:
        return partial(plan.serve, plan)  # no keywords: a call adds one argument, no dict

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        provider = route.dependency_overrides_provider
        if provider is None:
            provider = scope["app"] if "app" in scope else None
        try:
            overrides = provider.dependency_overrides
        except AttributeError:
            overrides = None
        if overrides and plan.root.subs:
            seen, current, prepared = plan.recent  # the same version as last time: no calls
            if seen is None or seen != overrides:
                current, prepared = for_overrides(plan, overrides)
            await current.serve(current, scope, receive, send, overrides, prepared)
        else:
            await plan.serve(plan, scope, receive, send, overrides, None)

    return app


class Settled:
    """What a trivial endpoint gave, obtained before its route's runner ran: ``raw``, or the
    exception ``failed`` it raised (or its answer's encoding raised)."""

    __slots__ = ("failed", "raw")

    def __init__(self, raw: Any, failed: Exception | None) -> None:
        self.raw = raw
        self.failed = failed

    def outcome(self) -> Any:
        """The endpoint's value, or its exception raised again."""
        if self.failed is not None:
            raise self.failed
        return self.raw


def trivial_plan(runner: Any) -> CompiledRoute | None:
    """The plan of a route app ``runner`` when it is ``route_app``'s ``serve_trivial`` runner
    (no keywords: not a replay's), else None."""
    if type(runner) is partial and runner.func is serve_trivial and not runner.keywords:
        return runner.args[0]  # type: ignore[no-any-return]
    return None


def route_overrides(route: Any, app: Any) -> Any:
    """The ``dependency_overrides`` a plain route's runner (``route_app``) runs with: its
    route's provider's, else the app's (None when the provider has none)."""
    provider = route.dependency_overrides_provider
    if provider is None:
        provider = app
    try:
        return provider.dependency_overrides
    except AttributeError:
        return None


class RunnerPlans(dict[Any, Any]):
    """Route app → what ``decide`` says of it (a plan, or None), asked once per app object
    (a runner is a ``partial``, hashed by its identity; its plan is fixed when it is made).

    The direct answers (``hasten._direct``, ``hasten._rsgi.direct``) look a route's app up in
    it per request; at ``LIMIT`` apps (route apps replaced many times) it starts afresh. An
    unhashable app raises ``TypeError``: it is not one of Hasten's runners.
    """

    __slots__ = ("decide",)
    LIMIT = 4096

    def __init__(self, decide: Callable[[Any], Any]) -> None:
        super().__init__()
        self.decide = decide

    def __missing__(self, runner: Any) -> Any:
        found = self.decide(runner)
        if len(self) >= self.LIMIT:
            self.clear()
        self[runner] = found
        return found


def note_started(scope: Scope) -> None:
    """Note that a plain answer's start is being sent, where the core's 500 path looks: on the
    app's body limit counter, else in the scope (the runners write this out)."""
    counter = scope.get(LIMIT_RESPONDER_KEY)
    if isinstance(counter, LimitCounter):  # the app's limit (not another's responder)
        counter.plain_started = True
    else:
        scope[RESPONSE_STARTED_KEY] = True


async def serve_trivial(
    plan: CompiledRoute,
    scope: Scope,
    receive: Receive,
    send: Send,
    overrides: Any = None,
    prepared: Any = None,
) -> None:
    """An endpoint without parameters or dependencies: call it and write its answer.

    ``prepared`` is None, or the endpoint's ``Settled`` outcome when it was called already
    (the RSGI direct answer's replay, ``hasten._rsgi.direct``): a trivial plan has no
    dependencies that ``dependency_overrides`` could prepare.
    """
    out: Any  # a ``Response``, or ``(status, headers, body)`` (``respond.direct_body``)
    try:
        if OBSERVED_KEY in scope and scope[OBSERVED_KEY] is not None:
            request = RouteRequest(scope, receive, send)
            out = await call_and_write(plan, request, Context(request, Missing, None))
        else:
            call: Any = plan.root.call  # the outcome: a replay's, else the endpoint's call
            raw = (
                prepared.outcome()
                if prepared is not None
                else await call()
                if plan.is_async
                else await run_in_threadpool(call)
            )
            direct = plan.direct  # an answer sent without a response object, if it can be
            out = (
                direct[0](raw)
                if direct is not None and direct[1].__call__ is _RESPONSE_CALL
                else None
            )
            if out is None:
                out = _written(plan, raw, None)
    except Exception as exc:
        out = await handled_response(plan, RouteRequest(scope, receive, send), exc)
    background = None
    if type(out) is tuple:  # sent without a response object
        status, headers, body = out
    elif type(out).__call__ is not _RESPONSE_CALL:
        await send_response(out, scope, receive, send)
        return
    else:  # ``Response.__call__`` written out (a class that overrides it, or a replaced one,
        # is called instead): the two messages, then the background tasks
        status, headers, body, background = (
            out.status_code,
            out.raw_headers,
            out.body,
            out.background,
        )
    if type(send) is ObservedSend or (type(send) is MethodType and send.__func__ is SEND_WATCHED):
        send, headers = seen_through(send, status, headers)
    counter = scope.get(LIMIT_RESPONDER_KEY)
    if isinstance(counter, LimitCounter):  # the app's limit (not another's responder)
        counter.plain_started = True
    else:
        scope[RESPONSE_STARTED_KEY] = True
    if type(send) is MethodType and send.__func__ is _CYCLE_SEND:  # Granian's, unwrapped:
        # the two messages in one call (``HTTPCycle.answer``)
        await send.__self__.answer(status, headers, body)  # type: ignore[attr-defined]
    else:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    if background is not None:
        await background()


async def serve_plain(
    plan: CompiledRoute,
    scope: Scope,
    receive: Receive,
    send: Send,
    overrides: Any = None,
    prepared: Any = None,
) -> None:
    """Read, solve, call and write without exit stacks; exceptions to the app's handlers.

    ``call_and_write``'s steps, written out; the answer goes out as in ``serve_trivial``.
    """
    request = RouteRequest(scope, receive, send)
    out: Any
    try:
        payload = Missing if plan.read is None else await plan.read(plan, request)
        ctx = Context(request, payload, overrides, prepared)
        if OBSERVED_KEY in scope and plan.observer is not None and scope[OBSERVED_KEY] is not None:
            out = await plan.observer(plan, request, ctx, scope[OBSERVED_KEY])
        else:
            raw = await plan.call(plan, request, ctx)
            direct = plan.direct  # as in serve_trivial
            out = (
                direct[0](raw)
                if direct is not None
                and ctx.response is None
                and ctx.background is None
                and direct[1].__call__ is _RESPONSE_CALL
                else None
            )
            if out is None:
                out = _written(plan, raw, ctx)
    except Exception as exc:
        out = await handled_response(plan, request, exc)
    background = None
    if type(out) is tuple:  # as in serve_trivial
        status, headers, body = out
    elif type(out).__call__ is not _RESPONSE_CALL:
        await send_response(out, scope, receive, send)
        return
    else:
        status, headers, body, background = (
            out.status_code,
            out.raw_headers,
            out.body,
            out.background,
        )
    if type(send) is ObservedSend or (type(send) is MethodType and send.__func__ is SEND_WATCHED):
        send, headers = seen_through(send, status, headers)  # as in serve_trivial
    counter = scope.get(LIMIT_RESPONDER_KEY)
    if isinstance(counter, LimitCounter):  # the app's limit (not another's responder)
        counter.plain_started = True
    else:
        scope[RESPONSE_STARTED_KEY] = True
    if type(send) is MethodType and send.__func__ is _CYCLE_SEND:  # Granian's, unwrapped:
        # the two messages in one call (``HTTPCycle.answer``)
        await send.__self__.answer(status, headers, body)  # type: ignore[attr-defined]
    else:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    if background is not None:
        await background()


def seen_through(send: Send, status: int, headers: Any) -> tuple[Send, Any]:
    """The ``send`` a runner passes a plain answer's two messages to, and their headers,
    under the layers it may see through: the body limit's watch (``send_watched``) when it
    would only pass them on (``_body_limit.unwatched``), then Hasten's ``ObservedSend`` (rate
    limiter, metrics), whose headers are added and status noted here (``unwrap_observed``)."""
    if type(send) is MethodType and send.__func__ is SEND_WATCHED:
        send = unwatched(send.__self__) or send  # type: ignore[attr-defined,arg-type]
    if type(send) is ObservedSend:
        return unwrap_observed(send, status, headers)
    return send, headers


def _written(plan: CompiledRoute, raw: Any, ctx: Context | None) -> Response:
    """The response the endpoint's answer ``raw`` is sent as, when ``plan.direct`` did not
    give its messages (``call_and_write``'s end; ``ctx`` None for a trivial route)."""
    if isinstance(raw, Response):
        if ctx is not None and raw.background is None:
            raw.background = ctx.background
        return raw
    if ctx is not None and (ctx.response is not None or ctx.background is not None):
        return respond(plan.writer, plan.status_code, raw, ctx)
    return plan.writer(raw, plan.response_args)


async def serve_stacked(
    plan: CompiledRoute,
    scope: Scope,
    receive: Receive,
    send: Send,
    overrides: Any = None,
    prepared: Any = None,
) -> None:
    """The same steps inside the dependency exit stacks and Starlette's handler wrapper."""

    async def handler(request: Request) -> Response:
        return await _run_in_stacks(plan, request, overrides, prepared)

    request = RouteRequest(scope, receive, send)
    await _stacked(handler, request, plan.read is read_form)(scope, receive, send)


async def _run_in_stacks(
    plan: CompiledRoute, request: Request, overrides: Any, prepared: Any = None
) -> Response:
    scope = request.scope
    body = Missing if plan.read is None else await plan.read(plan, request)
    ctx = Context(request, body, overrides, prepared)
    ctx.request_stack = scope.get(_REQUEST_STACK)
    ctx.function_stack = scope.get(_FUNCTION_STACK)
    try:
        return await call_and_write(plan, request, ctx)
    except ResponseValidationError as exc:
        _locate(plan, request, exc)
        raise


def _stacked(handler: Any, request: Request, forms: bool) -> ASGIApp:
    """``handler`` run inside the exit stacks (in the scope) and the handler wrapper."""

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        done = False
        async with AsyncExitStack() as request_stack:
            scope[_REQUEST_STACK] = request_stack
            async with AsyncExitStack() as function_stack:
                scope[_FUNCTION_STACK] = function_stack
                response = await handler(request)
            await send_response(response, scope, receive, send)
            done = True
        if not done:
            raise HastenError(_NOT_AWAITED)

    app = wrap_app_handling_exceptions(inner, request)
    return closing_forms(app) if forms else app


def closing_forms(app: ASGIApp) -> ASGIApp:
    """``app``, closing the form data its route read once it is done, however it ends.

    As in FastAPI, uploaded files stay open while the exception handlers run.
    """

    async def closing(scope: Scope, receive: Receive, send: Send) -> None:
        forms: list[Any] = []
        scope[FORMS_KEY] = forms
        try:
            await app(scope, receive, send)
        finally:
            del scope[FORMS_KEY]
            for form in forms:
                await form.close()

    return closing


# -- route subclasses (``get_route_handler``) -------------------------------------------------


def plan_handler(plan: CompiledRoute, overrides_of: Any) -> Any:
    """``request → response`` for the plan, for route classes that wrap ``get_route_handler``.

    Dependency exit stacks come from the scope (see :func:`handler_app`), so request-scoped
    teardown still runs after the response is sent.
    """

    async def handler(request: Request) -> Response:
        return await _run_in_stacks(plan, request, overrides_of(request.scope))

    return handler


def handler_app(handler: Any) -> ASGIApp:
    """The ASGI app around a ``request → response`` handler: the stacked runner's edge."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await _stacked(handler, Request(scope, receive, send), True)(scope, receive, send)

    return app


# -- answering ----------------------------------------------------------------------------------


def _locate(plan: CompiledRoute, request: Request, exc: ResponseValidationError) -> None:
    """Say which request a response validation error answered."""
    where = endpoint_context(plan, request)
    exc.endpoint_ctx, exc.endpoint_path = where, where.get("path")


async def handled_response(plan: CompiledRoute, request: Request, exc: Exception) -> Response:
    """Turn ``exc`` into a response with the app's handler; re-raise when there is none."""
    if isinstance(exc, ResponseValidationError):
        _locate(plan, request, exc)
    handler = lookup_handler(request.scope, exc)
    if handler is None:
        raise exc
    if is_async_callable(handler):
        response = await handler(request, exc)
    else:
        response = await run_in_threadpool(handler, request, exc)
    exc.__traceback__ = None
    return response  # type: ignore[no-any-return]


async def send_response(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    """Send ``response``; a streamed body's iterator is closed however the sending ended.

    A client that goes away mid-stream (a failed ``send``, an ``http.disconnect`` that
    Starlette answers by cancelling the stream) would otherwise leave the endpoint's
    generator suspended until garbage collection: its ``finally`` blocks run now instead.
    """
    if not isinstance(response, StreamingResponse):
        await response(scope, receive, send)
        return
    try:
        await response(scope, receive, send)
    finally:
        aclose = getattr(response.body_iterator, "aclose", None)
        if aclose is not None:
            with CancelScope(shield=True):
                await aclose()
