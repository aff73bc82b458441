"""What is measured: the frameworks, the endpoints, and the requests that check them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench._asgi import Req
from bench.apps._data import USERS


@dataclass(frozen=True)
class Framework:
    key: str
    label: str
    module: str
    endpoints: tuple[str, ...]
    scale: bool = False  # has make_app(n_routes) for the routing-scale section
    startup: bool = False  # has make_startup_app(n_routes) for the startup section


ENDPOINTS: dict[str, str] = {
    "plaintext": "GET /plaintext",
    "json": "GET /json",
    "path-query": "GET /items/{item_id}?q=&limit=",
    "body": "POST /items (nested model)",
    "deps": "GET /deps (3-level dependencies)",
    "users": "GET /users (response_model filters 100 rows)",
}
ALL_ENDPOINTS = tuple(ENDPOINTS)

FRAMEWORKS: dict[str, Framework] = {
    fw.key: fw
    for fw in (
        Framework("hasten", "Hasten", "bench.apps.hasten_app", ALL_ENDPOINTS, True, True),
        Framework("fastapi", "FastAPI", "bench.apps.fastapi_app", ALL_ENDPOINTS, True, True),
        Framework("starlette", "Starlette floor", "bench.apps.starlette_app", ALL_ENDPOINTS, True),
        Framework(
            "litestar-pydantic",
            "Litestar (Pydantic)",
            "bench.apps.litestar_pydantic_app",
            ALL_ENDPOINTS,
            True,
        ),
        Framework(
            "litestar-msgspec",
            "Litestar (msgspec)",
            "bench.apps.litestar_msgspec_app",
            ALL_ENDPOINTS,
        ),
        Framework("blacksheep", "BlackSheep", "bench.apps.blacksheep_app", ALL_ENDPOINTS, True),
        Framework("raw", "raw ASGI", "bench.apps.raw_app", ("plaintext", "json")),
    )
}

#: Apps served only over the wire (section B), not ASGI: no in-process section or check.
WIRE_APPS: dict[str, Framework] = {
    "raw-rsgi": Framework("raw-rsgi", "raw RSGI", "bench.apps.raw_rsgi_app", ("plaintext", "json")),
}

#: The packages whose versions the report names.
PACKAGES = (
    "hasten",
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic-core",
    "litestar",
    "msgspec",
    "blacksheep",
    "uvicorn",
    "uvloop",
    "httptools",
    "granian",
)

ITEM_BODY = {
    "name": "Widget",
    "price": 9.5,
    "tags": ["a", "b"],
    "dimensions": {"width": 1.5, "height": 2.0},
}
_JSON_HEADER = (("content-type", "application/json"),)
_ADMIN = (("x-token", "tok-alice"),)


def _post(body: object) -> Req:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Req("POST", "/items", _JSON_HEADER, raw)


def _bad_item(**changes: object) -> Req:
    body = {**ITEM_BODY, **changes}
    return _post({k: v for k, v in body.items() if v is not None})


#: The request each endpoint is timed with (a success case).
BENCH_REQUESTS: dict[str, Req] = {
    "plaintext": Req("GET", "/plaintext"),
    "json": Req("GET", "/json"),
    "path-query": Req("GET", "/items/42?q=hello&limit=5"),
    "body": _post(ITEM_BODY),
    "deps": Req("GET", "/deps", _ADMIN),
    "users": Req("GET", "/users"),
}


@dataclass(frozen=True)
class Case:
    """A request and what every app must answer: the status, and for successes the body."""

    req: Req
    status: int
    body: object = None  # parsed JSON (or text for text/plain) expected on success
    media_type: str | None = None


_USERS_OUT = [{k: v for k, v in u.items() if k != "secret"} for u in USERS]
_J = "application/json"

CASES: dict[str, tuple[Case, ...]] = {
    "plaintext": (Case(BENCH_REQUESTS["plaintext"], 200, "Hello, World!", "text/plain"),),
    "json": (Case(BENCH_REQUESTS["json"], 200, {"message": "Hello, World!"}, _J),),
    "path-query": (
        Case(BENCH_REQUESTS["path-query"], 200, {"item_id": 42, "q": "hello", "limit": 5}, _J),
        Case(Req("GET", "/items/7"), 200, {"item_id": 7, "q": None, "limit": 10}, _J),
        Case(Req("GET", "/items/abc"), 422),
        Case(Req("GET", "/items/7?limit=0"), 422),
        Case(Req("GET", "/items/7?limit=101"), 422),
        Case(Req("GET", "/items/7?limit=ten"), 422),
    ),
    "body": (
        Case(BENCH_REQUESTS["body"], 201, ITEM_BODY, _J),
        Case(_post({**ITEM_BODY, "tags": []}), 201, {**ITEM_BODY, "tags": []}, _J),
        Case(_bad_item(name=""), 422),
        Case(_bad_item(price=0), 422),
        Case(_bad_item(price="cheap"), 422),
        Case(_bad_item(tags="a"), 422),
        Case(_bad_item(dimensions={"width": -1, "height": 2}), 422),
        Case(_bad_item(dimensions="big"), 422),
        Case(_bad_item(name=5), 422),
        Case(_post({k: v for k, v in ITEM_BODY.items() if k != "dimensions"}), 422),
        Case(_post(b'{"name": "Widget", '), 422),
    ),
    "deps": (
        Case(BENCH_REQUESTS["deps"], 200, {"user": "alice", "role": "admin"}, _J),
        Case(Req("GET", "/deps"), 422),
        Case(Req("GET", "/deps", (("x-token", "tok-nobody"),)), 401),
        Case(Req("GET", "/deps", (("x-token", "tok-bob"),)), 403),
    ),
    "users": (Case(BENCH_REQUESTS["users"], 200, _USERS_OUT, _J),),
}
