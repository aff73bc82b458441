"""Routing: matching order, 404/405, slashes, converters, mounts, included routers, root_path."""

from __future__ import annotations

import uuid
from typing import Annotated

import pytest
from starlette.responses import HTMLResponse, PlainTextResponse

from hasten import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from hasten.exceptions import FastAPIDeprecationWarning
from hasten.responses import JSONResponse
from hasten.testclient import TestClient

# --- matching order ---------------------------------------------------------------------------


def test_first_declared_route_wins_over_a_later_static_one() -> None:
    app = FastAPI()

    @app.get("/users/{user_id}")
    def by_id(user_id: str) -> dict[str, str]:
        return {"route": "by_id", "user_id": user_id}

    @app.get("/users/me")
    def me() -> dict[str, str]:
        return {"route": "me"}

    client = TestClient(app)
    assert client.get("/users/me").json() == {"route": "by_id", "user_id": "me"}
    assert client.get("/users/7").json() == {"route": "by_id", "user_id": "7"}


def test_static_route_declared_first_wins() -> None:
    app = FastAPI()

    @app.get("/users/me")
    def me() -> dict[str, str]:
        return {"route": "me"}

    @app.get("/users/{user_id}")
    def by_id(user_id: str) -> dict[str, str]:
        return {"route": "by_id", "user_id": user_id}

    client = TestClient(app)
    assert client.get("/users/me").json() == {"route": "me"}
    assert client.get("/users/you").json() == {"route": "by_id", "user_id": "you"}


def test_same_path_different_methods_are_separate_routes() -> None:
    app = FastAPI()

    @app.get("/thing")
    def read() -> str:
        return "read"

    @app.post("/thing")
    def write() -> str:
        return "write"

    @app.api_route("/multi", methods=["PUT", "PATCH"])
    def multi(request: Request) -> str:
        return request.method

    client = TestClient(app)
    assert client.get("/thing").json() == "read"
    assert client.post("/thing").json() == "write"
    assert client.put("/multi").json() == "PUT"
    assert client.patch("/multi").json() == "PATCH"


def test_parameter_first_segment_and_static_routes_share_lookup() -> None:
    app = FastAPI()

    @app.get("/{lang}/about")
    def about(lang: str) -> str:
        return f"about:{lang}"

    @app.get("/en/contact")
    def contact() -> str:
        return "contact"

    client = TestClient(app)
    assert client.get("/fr/about").json() == "about:fr"
    assert client.get("/en/about").json() == "about:en"
    assert client.get("/en/contact").json() == "contact"


# --- 404 / 405 --------------------------------------------------------------------------------


def test_unknown_path_is_404_in_json() -> None:
    app = FastAPI()

    @app.get("/a")
    def a() -> int:
        return 1

    response = TestClient(app).get("/b")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_wrong_method_is_405_with_allow_header() -> None:
    app = FastAPI()

    @app.post("/items")
    def create() -> int:
        return 1

    response = TestClient(app).get("/items")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "POST"


def test_405_allow_header_lists_the_methods_of_a_multi_method_route() -> None:
    app = FastAPI()

    @app.api_route("/items", methods=["PUT", "PATCH"])
    def change() -> int:
        return 1

    response = TestClient(app).delete("/items")
    assert response.status_code == 405
    assert sorted(response.headers["allow"].split(", ")) == ["PATCH", "PUT"]


def test_get_route_does_not_answer_head() -> None:
    app = FastAPI()

    @app.get("/items")
    def read() -> int:
        return 1

    response = TestClient(app).head("/items")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


def test_a_later_route_with_the_right_method_wins_over_405() -> None:
    app = FastAPI()

    @app.get("/items/{item_id}")
    def read(item_id: int) -> int:
        return item_id

    @app.delete("/items/{item_id}")
    def delete(item_id: int) -> str:
        return f"deleted {item_id}"

    assert TestClient(app).delete("/items/3").json() == "deleted 3"


# --- trailing slashes -------------------------------------------------------------------------


def test_redirect_slashes_adds_and_removes_the_slash() -> None:
    app = FastAPI()

    @app.get("/with/")
    def with_slash() -> str:
        return "with"

    @app.get("/without")
    def without_slash() -> str:
        return "without"

    client = TestClient(app, follow_redirects=False)
    response = client.get("/with?x=1")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/with/?x=1"
    response = client.get("/without/")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/without"
    assert TestClient(app).get("/with").json() == "with"


def test_redirect_slashes_off_gives_404() -> None:
    app = FastAPI(redirect_slashes=False)

    @app.get("/with/")
    def with_slash() -> str:
        return "with"

    client = TestClient(app, follow_redirects=False)
    assert client.get("/with").status_code == 404
    assert client.get("/with/").status_code == 200


# --- converters ---------------------------------------------------------------------------------


def test_int_converter() -> None:
    app = FastAPI()

    @app.get("/items/{item_id:int}")
    def by_int(item_id: int) -> dict[str, object]:
        return {"int": item_id}

    @app.get("/items/{name}")
    def by_name(name: str) -> dict[str, object]:
        return {"name": name}

    client = TestClient(app)
    assert client.get("/items/12").json() == {"int": 12}
    assert client.get("/items/twelve").json() == {"name": "twelve"}


def test_path_converter_takes_the_rest_of_the_path() -> None:
    app = FastAPI()

    @app.get("/files/{file_path:path}")
    def read_file(file_path: str) -> dict[str, str]:
        return {"file_path": file_path}

    client = TestClient(app)
    assert client.get("/files/a/b/c.txt").json() == {"file_path": "a/b/c.txt"}
    assert client.get("/files//etc/passwd").json() == {"file_path": "/etc/passwd"}


def test_path_converter_with_a_static_suffix() -> None:
    app = FastAPI()

    @app.get("/repo/{name:path}/raw")
    def raw(name: str) -> str:
        return name

    assert TestClient(app).get("/repo/x/y/raw").json() == "x/y"


def test_float_and_uuid_converters() -> None:
    app = FastAPI()

    @app.get("/f/{value:float}")
    def f(value: float) -> float:
        return value

    @app.get("/u/{value:uuid}")
    def u(value: uuid.UUID) -> str:
        return value.hex

    client = TestClient(app)
    assert client.get("/f/1.5").json() == 1.5
    assert client.get("/u/12345678-1234-5678-1234-567812345678").json() == (
        "12345678123456781234567812345678"
    )
    assert client.get("/u/nope").status_code == 404


# --- mounts -----------------------------------------------------------------------------------


def test_mounted_sub_application() -> None:
    app = FastAPI()
    sub = FastAPI()

    @app.get("/app")
    def main_route() -> str:
        return "main"

    @sub.get("/sub")
    def sub_route(request: Request) -> dict[str, str]:
        return {"root_path": request.scope["root_path"], "url": str(request.url_for("sub_route"))}

    app.mount("/subapi", sub)
    client = TestClient(app)
    assert client.get("/app").json() == "main"
    assert client.get("/subapi/sub").json() == {
        "root_path": "/subapi",
        "url": "http://testserver/subapi/sub",
    }
    assert client.get("/subapi/nothing").status_code == 404


def test_mounted_plain_asgi_app() -> None:
    async def asgi(scope, receive, send):  # type: ignore[no-untyped-def]
        await PlainTextResponse(f"asgi:{scope['path']}")(scope, receive, send)

    app = FastAPI()
    app.mount("/raw", asgi)
    assert TestClient(app).get("/raw/x").text == "asgi:/raw/x"


# --- include_router ---------------------------------------------------------------------------


def test_include_router_with_prefix_and_tags() -> None:
    router = APIRouter(prefix="/users", tags=["users"])

    @router.get("/{user_id}", tags=["detail"])
    def read_user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    app = FastAPI()
    app.include_router(router, prefix="/v1", tags=["v1"])
    client = TestClient(app)
    assert client.get("/v1/users/3").json() == {"user_id": 3}
    assert client.get("/users/3").status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert list(paths) == ["/v1/users/{user_id}"]
    assert paths["/v1/users/{user_id}"]["get"]["tags"] == ["v1", "users", "detail"]


def test_nested_routers() -> None:
    inner = APIRouter()
    outer = APIRouter()

    @inner.get("/leaf")
    def leaf() -> str:
        return "leaf"

    outer.include_router(inner, prefix="/inner")
    app = FastAPI()
    app.include_router(outer, prefix="/outer")
    assert TestClient(app).get("/outer/inner/leaf").json() == "leaf"


def test_include_router_dependencies_run_in_order() -> None:
    calls: list[str] = []

    def dep(name: str):  # type: ignore[no-untyped-def]
        def record() -> None:
            calls.append(name)

        return record

    router = APIRouter(dependencies=[Depends(dep("router"))])

    @router.get("/x", dependencies=[Depends(dep("route"))])
    def x() -> str:
        calls.append("endpoint")
        return "x"

    app = FastAPI(dependencies=[Depends(dep("app"))])
    app.include_router(router, dependencies=[Depends(dep("include"))])
    assert TestClient(app).get("/x").json() == "x"
    assert calls == ["app", "include", "router", "route", "endpoint"]


def test_include_router_dependency_can_reject() -> None:
    def verify(x_key: Annotated[str, Header()]) -> None:
        if x_key != "secret":
            raise HTTPException(status_code=400, detail="X-Key header invalid")

    router = APIRouter()

    @router.get("/secret")
    def secret() -> str:
        return "ok"

    app = FastAPI()
    app.include_router(router, dependencies=[Depends(verify)])
    client = TestClient(app)
    assert client.get("/secret", headers={"X-Key": "secret"}).json() == "ok"
    assert client.get("/secret", headers={"X-Key": "no"}).json() == {
        "detail": "X-Key header invalid"
    }
    assert client.get("/secret").json() == {
        "detail": [
            {
                "type": "missing",
                "loc": ["header", "x-key"],
                "msg": "Field required",
                "input": None,
            }
        ]
    }


def test_include_router_responses_merge() -> None:
    router = APIRouter(responses={404: {"description": "router 404"}})

    @router.get("/r", responses={418: {"description": "teapot"}})
    def r() -> str:
        return "r"

    app = FastAPI()
    app.include_router(router, responses={500: {"description": "include 500"}})
    operation = TestClient(app).get("/openapi.json").json()["paths"]["/r"]["get"]
    assert {code: r["description"] for code, r in operation["responses"].items()} == {
        "200": "Successful Response",
        "500": "include 500",
        "404": "router 404",
        "418": "teapot",
    }


def test_default_response_class_precedence() -> None:
    app = FastAPI(default_response_class=PlainTextResponse)
    router = APIRouter(default_response_class=HTMLResponse)
    plain = APIRouter()

    @router.get("/html")
    def html() -> str:
        return "<p>hi</p>"

    @router.get("/json", response_class=JSONResponse)
    def json_route() -> str:
        return "hi"

    @plain.get("/text")
    def text() -> str:
        return "hi"

    @plain.get("/included")
    def included() -> str:
        return "hi"

    app.include_router(router)
    app.include_router(plain)
    client = TestClient(app)
    assert client.get("/html").headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/html").text == "<p>hi</p>"
    assert client.get("/json").headers["content-type"] == "application/json"
    assert client.get("/json").text == '"hi"'
    assert client.get("/text").headers["content-type"] == "text/plain; charset=utf-8"
    assert client.get("/text").text == "hi"


def test_include_router_default_response_class_argument() -> None:
    router = APIRouter()

    @router.get("/page")
    def page() -> str:
        return "<b>x</b>"

    app = FastAPI()
    app.include_router(router, default_response_class=HTMLResponse)
    response = TestClient(app).get("/page")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<b>x</b>"


def test_routes_added_to_a_router_after_it_is_included_are_served() -> None:
    # FastAPI 0.165 includes routers live: a route declared on the router after
    # include_router() is still served by the app.
    router = APIRouter(prefix="/r")

    @router.get("/before")
    def before() -> str:
        return "before"

    app = FastAPI()
    app.include_router(router, prefix="/api")

    @router.get("/after")
    def after() -> str:
        return "after"

    client = TestClient(app)
    assert client.get("/api/r/before").json() == "before"
    assert client.get("/api/r/after").json() == "after"


def test_routes_added_after_the_first_request_are_found() -> None:
    app = FastAPI()

    @app.get("/one")
    def one() -> int:
        return 1

    client = TestClient(app)
    assert client.get("/two").status_code == 404

    @app.get("/two")
    def two() -> int:
        return 2

    assert client.get("/two").json() == 2


def test_prefix_must_start_and_not_end_with_slash() -> None:
    app = FastAPI()
    with pytest.raises(AssertionError, match="must start with '/'"):
        app.include_router(APIRouter(), prefix="api")
    with pytest.raises(AssertionError, match="must not end with '/'"):
        app.include_router(APIRouter(), prefix="/api/")


# --- root_path --------------------------------------------------------------------------------


def test_root_path_from_the_app_is_deprecated_but_works() -> None:
    with pytest.warns(FastAPIDeprecationWarning, match="The `root_path` parameter is deprecated"):
        app = FastAPI(root_path="/api/v1")

    @app.get("/items")
    def items(request: Request) -> dict[str, str]:
        return {"root_path": request.scope["root_path"], "url": str(request.url_for("items"))}

    client = TestClient(app)
    expected = {"root_path": "/api/v1", "url": "http://testserver/api/v1/items"}
    assert client.get("/items").json() == expected
    assert client.get("/api/v1/items").json() == expected


def test_root_path_from_the_server() -> None:
    app = FastAPI()

    @app.get("/items")
    def items(request: Request) -> dict[str, str]:
        return {"root_path": request.scope["root_path"], "url": str(request.url_for("items"))}

    client = TestClient(app, root_path="/proxy")
    assert client.get("/items").json() == {
        "root_path": "/proxy",
        "url": "http://testserver/proxy/items",
    }


# --- many routes ------------------------------------------------------------------------------


def test_a_thousand_routes_match_the_right_one() -> None:
    app = FastAPI()
    for i in range(1000):

        def static_endpoint(i: int = i) -> dict[str, int]:
            return {"static": i}

        def dynamic_endpoint(item_id: int, i: int = i) -> dict[str, int]:
            return {"dynamic": i, "item_id": item_id}

        app.add_api_route(f"/r{i}", static_endpoint, name=f"static{i}")
        app.add_api_route(f"/r{i}/items/{{item_id}}", dynamic_endpoint, name=f"dynamic{i}")

    client = TestClient(app)
    for i in (0, 1, 499, 998, 999):
        assert client.get(f"/r{i}").json() == {"static": i}
        assert client.get(f"/r{i}/items/{i * 2}").json() == {"dynamic": i, "item_id": i * 2}
    assert client.get("/r1000").status_code == 404
    assert client.get("/r5/items").status_code == 404
    assert client.post("/r5").status_code == 405
