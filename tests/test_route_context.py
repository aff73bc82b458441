"""``RouteContext`` / ``iter_route_contexts``, and routes added after ``include_router``."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import Match

from hasten import APIRouter, Depends, FastAPI
from hasten.openapi.utils import get_openapi
from hasten.routing import APIRoute, RouteContext, iter_route_contexts
from hasten.testclient import TestClient


def dep_a() -> str:
    return "a"


def dep_b() -> str:
    return "b"


def test_a_route_that_was_not_included_is_its_own_original() -> None:
    router = APIRouter()

    @router.get("/items/{item_id}")
    def read_item(item_id: str) -> str:
        return item_id

    [context] = iter_route_contexts(router.routes)

    assert isinstance(context, RouteContext)
    assert context.original_route is context.route is router.routes[0]
    assert (context.path, context.path_format) == ("/items/{item_id}", "/items/{item_id}")
    assert context.methods == {"GET"}
    assert context.endpoint is read_item


def test_included_routes_point_back_to_the_declared_route_through_nesting() -> None:
    child = APIRouter(prefix="/child", dependencies=[Depends(dep_b)])

    @child.get("/items", tags=["items"])
    def items() -> list[str]:
        return []

    parent = APIRouter()
    parent.include_router(child, prefix="/parent")
    app = FastAPI(openapi_url=None)
    for version in ("/v1", "/v2"):
        app.include_router(parent, prefix=version, dependencies=[Depends(dep_a)])

    contexts = list(iter_route_contexts(app.routes))

    assert [c.path for c in contexts] == ["/v1/parent/child/items", "/v2/parent/child/items"]
    for context in contexts:
        assert context.original_route is child.routes[0]
        assert context.route is child.routes[0]
        assert isinstance(context.effective_route, APIRoute)
        assert [d.dependency for d in context.dependencies] == [dep_a, dep_b]
        assert context.tags == ["items"]  # other attributes come from the served route
    assert child.routes[0].path == "/child/items"


def test_contexts_see_routes_added_to_an_included_router_later() -> None:
    router = APIRouter()
    app = FastAPI(openapi_url=None)
    app.include_router(router, prefix="/api")
    assert list(iter_route_contexts(app.routes)) == []

    @router.get("/later")
    def later() -> str:
        return "later"

    [context] = iter_route_contexts(app.routes)
    assert (context.path, context.original_route) == ("/api/later", router.routes[0])
    assert TestClient(app).get("/api/later").json() == "later"


def test_get_openapi_takes_a_filtered_list_of_contexts() -> None:
    router = APIRouter()

    @router.get("/public", tags=["public"])
    def public() -> str:
        return "public"

    @router.get("/private", tags=["private"])
    def private() -> str:
        return "private"

    app = FastAPI()
    app.include_router(router, prefix="/api")
    public_only = [c for c in iter_route_contexts(app.routes) if "public" in getattr(c, "tags", [])]

    schema = get_openapi(title="Public", version="1", routes=public_only, webhooks=[])

    assert set(schema["paths"]) == {"/api/public"}


def test_the_openapi_document_follows_routes_added_later() -> None:
    router = APIRouter()
    app = FastAPI()
    app.include_router(router, prefix="/api")
    client = TestClient(app)
    assert "/api/later" not in client.get("/openapi.json").json()["paths"]

    @router.get("/later")
    def later() -> str:
        return "later"

    assert "/api/later" in client.get("/openapi.json").json()["paths"]
    assert app.openapi() is app.openapi()  # unchanged routes: the cached document


def test_include_cycles_are_rejected() -> None:
    top, middle, bottom = APIRouter(), APIRouter(), APIRouter()
    top.include_router(middle, prefix="/m")
    middle.include_router(bottom, prefix="/b")

    with pytest.raises(AssertionError, match="already includes this router"):
        bottom.include_router(top, prefix="/t")
    with pytest.raises(AssertionError, match="already includes this router"):
        middle.include_router(top, prefix="/t")


def test_context_matches_does_not_call_an_overridden_matches() -> None:
    # FastAPI 0.165 (observed with this app): the context of an included route computes its
    # match from the effective path pattern and methods, never calling the route class's
    # ``matches`` (0 calls); OpenTelemetry calls it before user middleware has run. During a
    # request the override does run: FastAPI calls it on the declared route ("/success")
    # twice, from its lazy two-pass dispatch through the included router; Hasten serves a
    # copy and calls it once, on the copy ("/custom/success") — a known difference.
    calls: list[str] = []

    class CustomRoute(APIRoute):
        def matches(self, scope: Any) -> Any:
            calls.append(self.path)
            assert scope.get("checked"), "the override ran before the middleware"
            return super().matches(scope)

    router = APIRouter(route_class=CustomRoute)

    @router.get("/success")
    def success() -> str:
        return "ok"

    @router.post("/items/{item_id}")
    def create(item_id: int) -> int:
        return item_id

    app = FastAPI()
    app.include_router(router, prefix="/custom")

    def scope(path: str, method: str = "GET") -> dict[str, Any]:
        return {"type": "http", "path": path, "root_path": "", "method": method, "app": app}

    def match(path: str, method: str = "GET") -> list[tuple[str, str | None, Any]]:
        found = []
        for context in iter_route_contexts(app.routes):
            result, child = context.matches(scope(path, method))
            if result is not Match.NONE:
                found.append((result.name, context.path, child.get("path_params")))
        return found

    assert match("/custom/success") == [("FULL", "/custom/success", {})]
    assert match("/custom/success", "POST") == [("PARTIAL", "/custom/success", {})]
    assert match("/custom/items/3", "POST") == [
        ("FULL", "/custom/items/{item_id}", {"item_id": "3"})
    ]
    assert match("/success") == []
    assert calls == []  # as FastAPI: the context never calls the override

    @app.middleware("http")
    async def check(request: Any, call_next: Any) -> Any:
        request.scope["checked"] = True
        return await call_next(request)

    client = TestClient(app)
    response = client.get("/custom/success")
    assert response.status_code == 200
    assert response.json() == "ok"
    assert calls == ["/custom/success"]  # FastAPI: ["/success", "/success"] (see above)
