"""What cadwyn (API versioning) relies on in FastAPI's routing, checked on Hasten.

cadwyn serves its versioned routers from a root router whose class overrides ``__call__``,
and rewrites the routes it copies per version after they were built. Each expected value
below was observed on FastAPI 0.165.0 with the same code.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

from annotated_types import Ge
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from starlette.types import Receive, Scope, Send

from hasten import APIRouter, Depends, FastAPI
from hasten.openapi.utils import get_openapi
from hasten.params import Query
from hasten.routing import APIRoute, request_response, router_entry
from hasten.testclient import TestClient


class _PickingRouter(APIRouter):
    """A root router that serves one of two routers, chosen per request (as cadwyn's)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_version: dict[str, APIRouter] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        chosen = self.by_version.get(headers.get(b"x-version", b"").decode())
        routes = chosen.routes if chosen is not None else self.routes
        for route in routes:
            match, child = route.matches(scope)
            if match.name == "FULL":
                scope.update(child)
                await route.handle(scope, receive, send)
                return
        await self.default(scope, receive, send)


def test_router_class_overriding_call_is_called_by_the_app() -> None:
    app = FastAPI()
    root = _PickingRouter()
    for version in ("1", "2"):
        versioned = APIRouter()

        def endpoint(version: str = version) -> dict[str, str]:
            return {"version": version}

        versioned.add_api_route("/which", endpoint)
        root.by_version[version] = versioned
        root.routes.extend(versioned.routes)  # every version's routes (first one first)
    app.router = root
    client = TestClient(app)
    # FastAPI 0.165.0: {'version': '1'}, {'version': '2'}, {'version': '1'}
    assert client.get("/which", headers={"x-version": "1"}).json() == {"version": "1"}
    assert client.get("/which", headers={"x-version": "2"}).json() == {"version": "2"}
    assert client.get("/which").json() == {"version": "1"}


def test_plain_router_is_served_through_its_stack() -> None:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    # No override: the app calls the router's own stack, as before.
    assert router_entry(app.router) == app.router.middleware_stack
    assert TestClient(app).get("/ping").json() == "pong"


class _Head(BaseModel):
    name: str
    extra: int = 1


class _Old(BaseModel):
    name: str


def test_included_route_takes_a_response_model_assigned_after_declaration() -> None:
    router = APIRouter()

    @router.get("/item", response_model=_Head)
    def item() -> dict[str, Any]:
        return {"name": "a", "extra": 2}

    @router.get("/inferred")
    def inferred() -> _Head:
        return _Head(name="b", extra=3)

    router.routes[0].response_model = _Old  # as cadwyn does for an older API version
    app = FastAPI()
    app.include_router(router, prefix="/v1")
    client = TestClient(app)
    # FastAPI 0.165.0: the inclusion serves and documents the assigned model; the other
    # route keeps the model inferred from its return annotation.
    assert client.get("/v1/item").json() == {"name": "a"}
    assert client.get("/v1/inferred").json() == {"name": "b", "extra": 3}
    schema = app.openapi()["paths"]["/v1/item"]["get"]["responses"]["200"]
    assert schema["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/_Old"}


class _Fee(BaseModel):
    name: str
    fee: float


def _new_body(body: _Fee) -> None: ...


def _old_body(body: _Old) -> None: ...


def test_dependant_assigned_to_a_built_route() -> None:
    # cadwyn re-derives a route's dependant per API version from a fresh APIRoute.
    route = APIRoute("/sub", _new_body, methods=["POST"])
    remade = APIRoute("/sub", _old_body, methods=["POST"])
    route.dependant = remade.dependant
    route.body_field = remade.body_field
    doc = get_openapi(title="t", version="1", routes=[route])
    body = doc["paths"]["/sub"]["post"]["requestBody"]["content"]["application/json"]
    # FastAPI 0.165.0 documents the new body; the app stays as built until the handler is
    # asked for again.
    assert body["schema"] == {"$ref": "#/components/schemas/_Old"}
    assert sorted(doc["components"]["schemas"]) == [
        "HTTPValidationError",
        "ValidationError",
        "_Old",
    ]
    app = FastAPI()
    app.router.routes.append(route)
    client = TestClient(app)
    assert client.post("/sub", json={"name": "a"}).status_code == 422
    route.app = request_response(route.get_route_handler())
    assert client.post("/sub", json={"name": "a"}).status_code == 200


class _HoldsModule:
    """A dependency holding what cannot be deep-copied (a module)."""

    def __init__(self) -> None:
        self.module = sys

    def __call__(self, q: int = 0) -> int:
        return q


def test_deep_copy_of_a_route_shares_its_dependant_when_told_to() -> None:
    holder = _HoldsModule()

    def endpoint(value: int = Depends(holder)) -> int:
        return value

    route = APIRoute("/x", endpoint, tags=["a"])
    # cadwyn deep-copies routes per API version, its memo keeping the dependant.
    copied = copy.deepcopy(route, {id(route.dependant): route.dependant})
    assert copied is not route and copied.dependant is route.dependant
    assert copied.tags == ["a"] and copied.tags is not route.tags
    app = FastAPI()
    app.router.routes.append(copied)
    # FastAPI 0.165.0: the copy serves as the route does.
    assert TestClient(app).get("/x", params={"q": 3}).json() == 3


class _QueryWithOwnCopy(Query):  # type: ignore[misc]
    def __copy__(self) -> _QueryWithOwnCopy:
        copied = type(self).__new__(type(self))
        copied.__dict__.update(self.__dict__)
        for name in FieldInfo.__slots__:
            setattr(copied, name, getattr(self, name))
        copied.metadata = [Ge(10)]
        return copied


def test_marker_given_as_default_is_not_copied_with_its_own_copy() -> None:
    app = FastAPI()

    @app.get("/test")
    def route(x: int = _QueryWithOwnCopy(ge=0)) -> int:
        return x

    # FastAPI 0.165.0 uses the marker itself: its ``__copy__`` does not apply.
    assert TestClient(app).get("/test", params={"x": 5}).json() == 5
    (param,) = app.openapi()["paths"]["/test"]["get"]["parameters"]
    assert param["schema"]["minimum"] == 0
