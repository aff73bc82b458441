"""405 answers that name every method the path declares.

Starlette's router (and so FastAPI's) answers a request whose path matches but whose method does
not with the ``Allow`` of the *first* route whose path matched: with ``@app.get("/items/{i}")``
and ``@app.delete("/items/{i}")`` declared separately, ``PUT /items/1`` says ``Allow: GET,
HEAD``, which RFC 9110 (15.5.6) calls wrong. An app whose class sets ``full_allow_header``
(``Hasten``; ``FastAPI`` keeps FastAPI's header) answers with the methods of every route whose
path matched. Only a request already on its way to a 405 pays for this: the first partial
route's ``handle`` still answers (exception handlers, instrumentations see it as before); the
``Allow`` of the HTTPException it raises (or of the 405 it sends) is the complete one.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

__all__ = ["handle_naming_every_method"]


def _methods_matching(scope: Scope, routes: Any, candidates: Any) -> list[str]:
    methods: list[str] = []
    for index in candidates:
        route = routes[index]
        route_methods = getattr(route, "methods", None)
        if not route_methods or route.matches(scope)[0] is not Match.PARTIAL:
            continue
        methods.extend(m for m in sorted(route_methods) if m not in methods)
    return methods


async def handle_naming_every_method(
    route: Any, scope: Scope, receive: Receive, send: Send, routes: Any, candidates: Any
) -> None:
    """Run the first partial ``route``; a 405 it raises or sends names every matching route's
    methods when the app asks for it (``full_allow_header``)."""
    methods: list[str] = []
    if scope["type"] == "http" and getattr(scope.get("app"), "full_allow_header", False):
        methods = _methods_matching(scope, routes, candidates)
    if set(methods) <= set(getattr(route, "methods", None) or ()):
        await route.handle(scope, receive, send)  # the first partial route names them all
        return
    allow = ", ".join(methods)
    try:
        await route.handle(scope, receive, _sending_allow(send, allow.encode("latin-1")))
    except HTTPException as exc:
        if exc.status_code == 405 and exc.headers and "allow" in {k.lower() for k in exc.headers}:
            exc.headers = {k: v for k, v in exc.headers.items() if k.lower() != "allow"}
            exc.headers["Allow"] = allow
        raise


def _sending_allow(send: Send, allow: bytes) -> Send:
    """``send`` giving a 405 that carries ``Allow`` the header ``allow`` instead."""

    async def send_with_allow(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 405:
            headers = list(message.get("headers", ()))
            named = [i for i, (key, _) in enumerate(headers) if key.lower() == b"allow"]
            if named:  # an answer without Allow (an app's own 405 handler) is left as it is
                headers[named[0]] = (headers[named[0]][0], allow)
                message = {**message, "headers": headers}
        await send(message)

    return send_with_allow
