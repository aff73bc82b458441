"""``ObservedSend``: the ``send`` of a request that Hasten's own middleware watches.

The app-wide rate limiter adds its headers to every response start and the Prometheus
middleware needs the response's status. Both used to wrap ``send`` in a function of their
own, called for every message. Instead they share one ``ObservedSend`` per request: called as
``send``, it adds the headers to the start message and notes its status; and a route's runner
that writes a plain response's two messages itself (``hasten._plan.runner``) recognises it,
adds the headers and notes the status in its own frame, and sends through the server's
``send`` directly. The messages the server receives are the same either way.

The middleware steps (``enter``/``leave``) run inside the app's core stack when every user
middleware is one of them (``hasten._core.SteppedCoreStack``), or in their own ``__call__``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from starlette.types import Message, Receive, Scope, Send

__all__ = ["ObservedSend", "Responder", "Step", "new_observed", "unwrap_observed"]

Responder = Callable[[Scope, Receive, Send], Awaitable[None]]


class ObservedSend:
    """``send`` that adds ``headers`` to the response start and notes its ``status``.

    ``status`` is 500 until a response starts (an error that escapes is answered with a 500 by
    the server-error layer, or by the server). ``started`` and ``root_path`` are the
    Prometheus step's notes, ``entered`` the steps that have entered (several steps in one
    core stack).
    """

    __slots__ = ("entered", "headers", "root_path", "send", "started", "status")

    send: Send
    headers: tuple[tuple[bytes, bytes], ...] | None
    status: int
    started: float
    root_path: str
    entered: int

    def __call__(self, message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            extra = self.headers
            if extra is not None:
                message["headers"] = [*message.get("headers", ()), *extra]
        return self.send(message)

    def add_headers(self, extra: tuple[tuple[bytes, bytes], ...]) -> None:
        """Headers for the response start. Steps enter outermost first and an inner layer's
        headers come first in the message (each layer appends its own as the message passes
        it on the way out), so these go before those added already."""
        known = self.headers
        self.headers = extra if known is None else (*extra, *known)


def new_observed(send: Send) -> ObservedSend:
    """An ``ObservedSend`` around ``send``, without headers, status 500 (the core stack
    writes this out: a call less per request)."""
    observed = ObservedSend()
    observed.send = send
    observed.headers = None
    observed.status = 500
    return observed


def unwrap_observed(
    send: ObservedSend, status: int, headers: list[tuple[bytes, bytes]]
) -> tuple[Send, list[tuple[bytes, bytes]]]:
    """For a runner that sends a response start with ``status`` and ``headers`` itself: the
    server's ``send`` under ``send`` (``ObservedSend`` in ``ObservedSend``: layers), and the
    headers with every one's added, each noting the status, as the calls would."""
    inner: Send = send
    while type(inner) is ObservedSend:
        inner.status = status
        if inner.headers is not None:
            headers = [*headers, *inner.headers]
        inner = inner.send
    return inner, headers


class Step(Protocol):
    """What a middleware that can run as a step of the core stack provides.

    ``enter(scope, observed)`` runs before the app, in the order of the middleware (outermost
    first): ``None`` to go on, or an ASGI app that answers the request instead (a refusal;
    the steps inside it are not entered). ``leave(scope, observed)`` (or ``None``) runs after
    the answer, error or not, in the reverse order, for the steps that entered. A single step
    whose ``observes`` is false gets ``None`` for ``observed``, and the request no
    ``ObservedSend`` (a step without the attribute observes).
    """

    def enter(self, scope: Scope, observed: ObservedSend | None) -> Responder | None: ...

    leave: Callable[[Scope, ObservedSend | None], None] | None
