"""Generated probes: route tables built, then mutated at run time, then requested again.

Id ``gen_routes.tNN``. A ``random.Random`` seeded with the id picks 3 to 6 routes from
``ROUTES`` (overlapping paths on purpose: ``/items/{id}`` before or after ``/items/me``,
converters, a catch-all), some on an ``APIRouter`` included with a prefix, then a program of
2 or 3 mutations of ``app.router.routes`` (reverse, remove, re-append, insert at 0, swap,
slice assignment, ``add_api_route``, include a new router, replace an ``APIRoute``). Every
mutation is followed by the same request sweep; the OpenAPI paths are recorded after each
mutation (``app.openapi_schema`` reset first).
"""

import random
import zlib
from collections.abc import Callable
from typing import Any

from probelib import R, do, get, post, probe_source, put

# (path, methods, endpoint name)
ROUTES = [
    ("/items/{item_id}", ["GET"], "item_any"),
    ("/items/me", ["GET"], "item_me"),
    ("/items/{item_id:int}", ["GET", "PUT"], "item_int"),
    ("/files/{p:path}", ["GET"], "files"),
    ("/{catch}", ["GET"], "catch_all"),
    ("/items", ["POST"], "items_post"),
    ("/items/", ["GET"], "items_slash"),
    ("/users/{uid}/items/{iid}", ["GET"], "user_item"),
    ("/health", ["GET", "HEAD"], "health"),
]

SWEEP = [
    get("/items/me"),
    get("/items/5"),
    put("/items/5"),
    get("/items/x"),
    get("/files/a/b.txt"),
    get("/health"),
    get("/whatever"),
    post("/items", json={}),
    get("/items"),
    get("/items/"),
    get("/users/1/items/2"),
    post("/health"),
    get("/r/extra"),
    get("/late/1"),
]


def _source(routes: list[tuple[str, list[str], str]], router_idx: set[int]) -> str:
    lines = [
        "from fastapi import APIRouter, FastAPI",
        "from fastapi.routing import APIRoute",
        "",
        "app = FastAPI()",
        'router = APIRouter(prefix="/r")',
        "",
    ]
    for i, (path, methods, name) in enumerate(routes):
        target = "router" if i in router_idx else "app"
        lines += [
            f"@{target}.api_route({path!r}, methods={methods!r})",
            f"def {name}_{i}(request_path: str = '') -> dict:",
            f"    return {{'route': {name + '_' + str(i)!r}}}",
            "",
        ]
    lines += [
        "@router.get('/extra')",
        "def extra() -> dict:",
        "    return {'route': 'router_extra'}",
        "",
        "app.state.direct = [r for r in app.router.routes if isinstance(r, APIRoute)]",
        "app.include_router(router)",
    ]
    return "\n".join(lines) + "\n"


def _api(app: Any) -> list[Any]:
    """The routes declared on the app itself (or added by an operation), in table order.

    Routes of included routers are left alone: FastAPI 0.165 keeps one ``_IncludedRouter``
    entry per ``include_router`` in ``app.router.routes`` where Hasten keeps the routes
    themselves (``misc.app_routes_after_include`` compares that on its own).
    """
    direct = app.state.direct
    return [r for r in app.router.routes if any(r is d for d in direct)]


def _summary(app: Any) -> list[str]:
    return [f"{r.path} {sorted(r.methods or [])}" for r in _api(app)]


def _op_reverse(app: Any) -> list[str]:
    api = _api(app)
    others = [r for r in app.router.routes if r not in api]
    app.router.routes[:] = others + api[::-1]
    return _summary(app)


def _op_remove_first(app: Any) -> list[str]:
    api = _api(app)
    if api:
        app.state.removed = api[0]
        app.router.routes.remove(api[0])
    return _summary(app)


def _op_reappend(app: Any) -> list[str]:
    removed = getattr(app.state, "removed", None)
    if removed is not None:
        app.router.routes.append(removed)
    return _summary(app)


def _op_insert_last_at_0(app: Any) -> list[str]:
    api = _api(app)
    if api:
        route = api[-1]
        app.router.routes.remove(route)
        app.router.routes.insert(0, route)
    return _summary(app)


def _op_swap(app: Any) -> list[str]:
    api = _api(app)
    if len(api) >= 2:
        routes = app.router.routes
        i, j = routes.index(api[0]), routes.index(api[1])
        routes[i], routes[j] = routes[j], routes[i]
    return _summary(app)


def _op_add_api_route(app: Any) -> list[str]:
    def late(n: int) -> dict[str, Any]:
        return {"route": "late", "n": n}

    def me_again() -> dict[str, str]:
        return {"route": "me_again"}

    app.add_api_route("/late/{n}", late, methods=["GET"])
    app.add_api_route("/items/me", me_again, methods=["GET"])
    app.state.direct.extend(app.router.routes[-2:])
    return _summary(app)


def _op_include_new_router(app: Any) -> list[str]:
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/items/{x}")
    def new_item(x: str) -> dict[str, str]:
        return {"route": "new_router_item", "x": x}

    app.include_router(router)
    return _summary(app)


def _op_replace_first(app: Any) -> list[str]:
    from fastapi.routing import APIRoute

    api = _api(app)
    if api:
        old = api[0]

        def replaced() -> dict[str, str]:
            return {"route": "replaced"}

        idx = app.router.routes.index(old)
        new = APIRoute(old.path, replaced, methods=sorted(old.methods))
        app.router.routes[idx] = new
        app.state.direct.append(new)
    return _summary(app)


def _op_delete_two(app: Any) -> list[str]:
    for route in _api(app)[:2]:
        del app.router.routes[app.router.routes.index(route)]
    return _summary(app)


def _op_extend_twice(app: Any) -> list[str]:
    api = _api(app)
    app.router.routes.extend(api[:2])  # duplicates: the first match still wins
    return _summary(app)


OPS: list[tuple[str, Callable[[Any], Any]]] = [
    ("reverse API routes", _op_reverse),
    ("remove the first API route", _op_remove_first),
    ("re-append the removed route", _op_reappend),
    ("move the last API route to index 0", _op_insert_last_at_0),
    ("swap the first two API routes", _op_swap),
    ("add_api_route /late/{n} and a second /items/me", _op_add_api_route),
    ("include a new router with /items/{x}", _op_include_new_router),
    ("replace the first API route by index", _op_replace_first),
    ("del the first two API routes", _op_delete_two),
    ("extend with two existing routes", _op_extend_twice),
]


def _paths(app: Any) -> list[str]:
    app.openapi_schema = None
    return list(app.openapi()["paths"])


def _register() -> None:
    for i in range(16):
        pid = f"gen_routes.t{i:02d}"
        rng = random.Random(zlib.crc32(pid.encode()))
        routes = rng.sample(ROUTES, rng.randint(3, 6))
        router_idx = {j for j in range(len(routes)) if rng.random() < 0.25}
        ops = rng.sample(OPS, rng.randint(2, 3))
        if i < len(OPS):  # every operation leads at least one probe
            ops = [OPS[i], *[o for o in ops if o is not OPS[i]]][:3]
        steps: list[R | Any] = list(SWEEP)
        for label, fn in ops:
            steps.append(do(fn, label))
            steps += SWEEP
            steps.append(do(_paths, "openapi paths"))
        desc = f"routes {[r[0] for r in routes]}, then: {'; '.join(o[0] for o in ops)}"
        probe_source(pid, _source(routes, router_idx), *steps, description=desc)


_register()
