"""Route matching equals a brute-force Starlette matcher over generated route tables.

Generated tables mix static paths, ``{param}``, converters (``int``, ``float``, ``uuid``,
``path``), overlapping prefixes (a small alphabet makes them collide), method sets, routes added
through ``include_router`` with a prefix, and mounts of a sub-application (with a parameter in
the mount path too). For generated requests (method, path with and without a trailing slash),
the reference walks the app's ``router.routes`` in declaration order and asks each route's own
Starlette ``matches``: the first FULL match serves (recursing into a mount's sub-application
with the child scope); otherwise the first PARTIAL one answers 405 with its methods in
``Allow``; otherwise a route matching the path with the slash toggled gets a 307 redirect; else
404 — Starlette's ``Router`` rules. Hasten's answer (which endpoint ran and with which path
parameters, or the status and its ``Allow``/``location``) must be the reference's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st
from property_support import bounded, call
from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.routing import Match, Mount

from hasten import APIRouter, Hasten, Request

_WORDS = ["a", "b", "items", "1"]
_CONVERTERS = ["", ":int", ":float", ":uuid", ":path"]
_METHODS = ["GET", "POST", "PUT", "DELETE"]
_UUID = "0b7c7f62-1b5c-4c5e-9a1e-3c2a1f0e9d8b"


@st.composite
def templates(draw: st.DrawFn, max_segments: int = 3) -> str:
    """A route path: static words and parameters (``{p:path}`` only last)."""
    count = draw(st.integers(0, max_segments))
    parts = []
    for index in range(count):
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(_WORDS)))
        else:
            converter = draw(st.sampled_from(_CONVERTERS))
            if converter == ":path" and index != count - 1:
                converter = ""
            parts.append(f"{{p{index}{converter}}}")
    trailing = "/" if parts and draw(st.integers(0, 4)) == 0 else ""
    return "/" + "/".join(parts) + trailing


@dataclass
class Spec:
    kind: str  # "route", "included", "mount"
    path: str
    methods: list[str]
    children: list[tuple[str, list[str]]]


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    kind = draw(st.sampled_from(["route", "route", "route", "included", "mount"]))
    methods = draw(st.lists(st.sampled_from(_METHODS), min_size=1, max_size=2, unique=True))
    if kind == "mount":
        prefix = draw(st.sampled_from(["/a", "/items", "/m/{q}", "/a/b"]))
        children = draw(
            st.lists(
                st.tuples(
                    templates(2),
                    st.lists(st.sampled_from(_METHODS), min_size=1, max_size=2, unique=True),
                ),
                min_size=1,
                max_size=3,
            )
        )
        return Spec(kind, prefix, methods, children)
    path = draw(templates())
    if kind == "included" and path == "/":
        path = "/a"
    return Spec(kind, path, methods, [])


def _endpoint(ident: str) -> Any:
    async def endpoint(request: Request) -> dict[str, str]:
        return {"id": ident, "params": repr(sorted(request.path_params.items()))}

    return endpoint


def build(table: list[Spec]) -> Hasten:
    app = Hasten(openapi_url=None)
    for number, spec in enumerate(table):
        if spec.kind == "route":
            app.add_api_route(spec.path, _endpoint(f"r{number}"), methods=spec.methods)
        elif spec.kind == "included":
            router = APIRouter()
            router.add_api_route(spec.path, _endpoint(f"r{number}"), methods=spec.methods)
            app.include_router(router, prefix="/inc")
        else:
            sub = Hasten(openapi_url=None)
            for child, (path, methods) in enumerate(spec.children):
                sub.add_api_route(path, _endpoint(f"r{number}.{child}"), methods=methods)
            app.mount(spec.path, sub)
    return app


# --- the brute-force reference -------------------------------------------------------------


def _scope(method: str, path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "scheme": "http",
        "server": ("testserver", 80),
    }


def _route_path(scope: dict[str, Any]) -> str:
    root, path = scope.get("root_path", ""), scope["path"]
    if root and path.startswith(root):
        return path[len(root) :] if path != root else ""
    return path


def reference(app: Hasten, scope: dict[str, Any]) -> tuple[Any, ...]:
    """What Starlette's Router rules answer, asking each route's ``matches`` in order."""
    routes = app.router.routes
    partial: set[str] | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            if isinstance(route, Mount):
                return reference(route.app, {**scope, **child})  # type: ignore[arg-type]
            params = sorted(child.get("path_params", {}).items())
            return ("route", _ident(route), repr(params))
        if match is Match.PARTIAL:
            partial = partial or set()
            partial |= set(route.methods)  # type: ignore[attr-defined]
    if partial is not None:
        # Hasten's 405 names the methods of every route whose path matched (FastAPI's and
        # Starlette's name the first one's: tests/test_allow_header.py).
        return ("405", frozenset(partial))
    route_path = _route_path(scope)
    if route_path != "/":
        other = dict(scope)
        other["path"] = (
            scope["path"].rstrip("/") if route_path.endswith("/") else scope["path"] + "/"
        )
        for route in routes:
            if route.matches(other)[0] is not Match.NONE:
                location = RedirectResponse(url=str(URL(scope=other))).headers["location"]
                return ("307", location)
    return ("404",)


_IDENTS: dict[int, str] = {}


def _ident(route: Any) -> str:
    return _IDENTS[id(route.endpoint)]


def observed(app: Hasten, method: str, path: str) -> tuple[Any, ...]:
    raw = quote(path).encode()
    status, headers, body = call(app, path, method=method, raw_path=raw)
    if status == 200:
        data = json.loads(body)
        return ("route", data["id"], data["params"])
    if status == 405:
        return ("405", frozenset(m.strip() for m in headers["allow"].split(",")))
    if status == 307:
        return ("307", headers["location"])
    return (str(status),)


_SEGMENTS = ["a", "b", "items", "1", "2.5", "-3", _UUID, "x y", "inc", "m", ""]


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str]:
    method = draw(st.sampled_from([*_METHODS, "PATCH"]))
    parts = draw(st.lists(st.sampled_from(_SEGMENTS), max_size=5))
    path = "/" + "/".join(parts)
    if draw(st.booleans()) and not path.endswith("/"):
        path += "/"
    return method, path


@bounded(250)
@given(
    table=st.lists(specs(), min_size=1, max_size=7),
    probes=st.lists(requests(), min_size=1, max_size=8),
)
def test_first_declared_full_match_wins(table: list[Spec], probes: list[tuple[str, str]]) -> None:
    app = build(table)
    _IDENTS.clear()
    for route in _all_routes(app):
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None:
            _IDENTS[id(endpoint)] = _name_of(endpoint)
    for method, path in probes:
        expected = reference(app, _scope(method, path))
        assert observed(app, method, path) == expected, (method, path, [s.path for s in table])


def _name_of(endpoint: Any) -> str:
    cell = endpoint.__closure__[0].cell_contents  # the ident the endpoint answers with
    return str(cell)


def _all_routes(app: Hasten) -> list[Any]:
    found = []
    for route in app.router.routes:
        found.append(route)
        if isinstance(route, Mount):
            found.extend(_all_routes(route.app))  # type: ignore[arg-type]
    return found
