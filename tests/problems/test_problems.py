"""Problem Details (RFC 9457): bodies, media type, headers, priority of user handlers,
OpenAPI, and FastAPI's format left as the default, on both application classes."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from hasten import Depends, FastAPI, Hasten, HTTPException, Request, WebSocket
from hasten.problems import PROBLEM_MEDIA_TYPE, Problem, install
from hasten.responses import JSONResponse
from hasten.security import HTTPBearer
from hasten.testclient import TestClient

APP_CLASSES = [Hasten, FastAPI]


class Item(BaseModel):
    name: str
    price: float


def _app(cls: type[Hasten], *, problems: bool = True, **options: object) -> Hasten:
    app = cls(**options)  # type: ignore[arg-type]
    bearer = HTTPBearer()

    @app.get("/items/{item_id}", responses={404: {"description": "No such item"}})
    async def read_item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(404, detail="Item 0 does not exist", headers={"X-Why": "zero"})
        return {"item_id": item_id}

    @app.post("/items")
    async def create_item(item: Item) -> Item:
        return item

    @app.get("/private")
    async def private(token: object = Depends(bearer)) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/credit")
    async def credit() -> None:
        raise Problem(
            403,
            type="out-of-credit",
            title="You do not have enough credit.",
            detail="Your current balance is 30, but that costs 50.",
            balance=30,
            accounts=["/account/12345", "/account/67890"],
            headers={"X-Balance": "30"},
        )

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret database password in here")

    @app.get("/empty")
    async def empty() -> None:
        raise HTTPException(304)

    if problems:
        install(app, type_base="https://example.com/problems/")
    return app


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_404_from_a_route_keeps_detail_and_headers(cls: type[Hasten]) -> None:
    client = TestClient(_app(cls))
    response = client.get("/items/0")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["x-why"] == "zero"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Item 0 does not exist",
        "instance": "/items/0",
    }
    assert client.get("/items/3").json() == {"item_id": 3}  # success untouched


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_unmatched_path_and_wrong_method(cls: type[Hasten]) -> None:
    client = TestClient(_app(cls))
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
        "instance": "/nowhere",
    }
    response = client.delete("/items/3")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"  # the headers of the exception are kept
    assert response.json()["title"] == "Method Not Allowed"


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_401_from_a_security_dependency(cls: type[Hasten]) -> None:
    response = TestClient(_app(cls)).get("/private")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Not authenticated",
        "instance": "/private",
    }


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_422_keeps_fastapis_error_list(cls: type[Hasten]) -> None:
    payload = {"name": "x", "price": "cheap"}
    plain = TestClient(_app(cls, problems=False)).post("/items", json=payload)
    response = TestClient(_app(cls)).post("/items", json=payload)
    assert response.status_code == plain.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body == {
        "type": "about:blank",
        "title": "Unprocessable Content",  # RFC 9110, whichever Python
        "status": 422,
        "detail": "The request is not valid.",
        "instance": "/items",
        "errors": plain.json()["detail"],  # FastAPI's items, unchanged
    }
    assert body["errors"][0]["loc"] == ["body", "price"]
    assert body["errors"][0]["type"] == "float_parsing"


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_422_with_input_strict_json_cannot_carry(cls: type[Hasten]) -> None:
    response = TestClient(_app(cls)).post(
        "/items", content=b'{"name": 1, "price": NaN}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["loc"] == ["body", "name"]


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_500_says_nothing_about_the_exception(cls: type[Hasten]) -> None:
    client = TestClient(_app(cls), raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "instance": "/boom",
    }
    assert "secret" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_500_with_debug_shows_the_traceback(cls: type[Hasten]) -> None:
    client = TestClient(_app(cls, debug=True), raise_server_exceptions=False)
    response = client.get("/boom", headers={"accept": "text/plain"})
    assert response.status_code == 500
    assert "RuntimeError" in response.text and "Traceback" in response.text


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_custom_problem_with_extension_members(cls: type[Hasten]) -> None:
    response = TestClient(_app(cls)).get("/credit")
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["x-balance"] == "30"
    assert response.json() == {
        "type": "https://example.com/problems/out-of-credit",
        "title": "You do not have enough credit.",
        "status": 403,
        "detail": "Your current balance is 30, but that costs 50.",
        "instance": "/credit",
        "balance": 30,
        "accounts": ["/account/12345", "/account/67890"],
    }


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_status_without_a_body(cls: type[Hasten]) -> None:
    response = TestClient(_app(cls)).get("/empty")
    assert response.status_code == 304
    assert response.content == b""


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_fastapis_format_stays_the_default(cls: type[Hasten]) -> None:
    client = TestClient(_app(cls, problems=False), raise_server_exceptions=False)
    response = client.get("/items/0")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Item 0 does not exist"}
    response = client.post("/items", json={})
    assert set(response.json()) == {"detail"}
    assert response.headers["content-type"] == "application/json"
    # A Problem is an HTTPException: without problem details it has FastAPI's body.
    response = client.get("/credit")
    assert response.status_code == 403
    assert response.json() == {"detail": "Your current balance is 30, but that costs 50."}
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    schema = client.get("/openapi.json").json()
    responses = schema["paths"]["/items"]["post"]["responses"]
    assert responses["422"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    }
    assert "Problem" not in schema["components"]["schemas"]


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_handlers_registered_by_the_user_keep_priority(cls: type[Hasten]) -> None:
    app = cls()

    @app.exception_handler(HTTPException)
    async def mine(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"mine": exc.status_code}, status_code=exc.status_code)

    @app.get("/v/{n}")
    async def v(n: int) -> int:
        return n

    install(app)

    @app.exception_handler(RuntimeError)
    async def runtime(request: Request, exc: RuntimeError) -> JSONResponse:
        return JSONResponse({"runtime": str(exc)}, status_code=503)

    @app.get("/fail")
    async def fail() -> None:
        raise RuntimeError("later")

    @app.get("/gone")
    async def gone() -> None:
        raise HTTPException(410)

    client = TestClient(app)
    assert client.get("/gone").json() == {"mine": 410}  # registered before: kept
    # Starlette's own 404 is not a hasten.HTTPException (as in FastAPI): a problem.
    assert client.get("/nowhere").headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert client.get("/v/x").headers["content-type"] == PROBLEM_MEDIA_TYPE  # not replaced
    response = client.get("/fail")  # registered after, for a subclass: wins
    assert (response.status_code, response.json()) == (503, {"runtime": "later"})


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_websocket_errors_keep_fastapis_behaviour(cls: type[Hasten]) -> None:
    app = _app(cls)

    @app.websocket("/ws/{n}")
    async def ws(websocket: WebSocket, n: int) -> None:
        await websocket.accept()
        await websocket.send_json({"n": n})
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/ws/4") as websocket:
        assert websocket.receive_json() == {"n": 4}
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as caught:
        with client.websocket_connect("/ws/x"):
            pass
    assert caught.value.code == 1008


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_openapi_documents_problem_responses(cls: type[Hasten]) -> None:
    schema = TestClient(_app(cls)).get("/openapi.json").json()
    item = schema["paths"]["/items/{item_id}"]["get"]["responses"]
    assert item["404"] == {
        "description": "No such item",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    assert item["422"]["content"] == {
        PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}
    }
    assert item["200"]["content"]["application/json"]  # successes untouched
    schemas = schema["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["Problem"]["properties"]["status"] == {"title": "Status", "type": "integer"}
    errors = schemas["ValidationProblem"]["properties"]["errors"]
    assert errors["items"] == {"$ref": "#/components/schemas/ValidationError"}
    assert "ValidationError" in schemas


def test_a_declared_error_model_is_kept_in_openapi() -> None:
    class Message(BaseModel):
        message: str

    app = Hasten()

    @app.get("/m", responses={409: {"model": Message}})
    async def m() -> None:
        return None

    install(app)
    responses = TestClient(app).get("/openapi.json").json()["paths"]["/m"]["get"]["responses"]
    assert responses["409"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Message"}}
    }


def test_a_handler_for_starlettes_exception_registered_before_is_kept() -> None:
    from starlette.exceptions import HTTPException as StarletteHTTPException

    async def mine(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"mine": exc.status_code}, status_code=exc.status_code)

    app = Hasten(exception_handlers={StarletteHTTPException: mine})
    install(app)
    assert TestClient(app).get("/nowhere").json() == {"mine": 404}


def test_body_too_large_is_a_problem() -> None:
    app = Hasten(max_body_size=10)

    @app.post("/echo")
    async def echo(item: Item) -> Item:
        return item

    install(app)
    response = TestClient(app).post("/echo", json={"name": "x" * 50, "price": 1})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert (body["status"], body["title"], body["instance"]) == (413, "Content Too Large", "/echo")


def test_a_bare_problem_has_the_reason_phrase_and_no_detail() -> None:
    app = Hasten()

    @app.get("/teapot")
    async def teapot() -> None:
        raise Problem(418, instance="/teapots/7")

    install(app)
    response = TestClient(app).get("/teapot")
    assert response.status_code == 418
    assert response.json() == {
        "type": "about:blank",
        "title": "I'm a Teapot",
        "status": 418,
        "instance": "/teapots/7",
    }
