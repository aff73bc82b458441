"""Request-path answers that once differed from FastAPI 0.165.0 (issue 12, section 2).

Each expected value below was observed on FastAPI 0.165.0 with the same app.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hasten import FastAPI, Form, Hasten, Query, Request, UploadFile
from hasten.encoders import jsonable_encoder
from hasten.exceptions import RequestValidationError
from hasten.responses import JSONResponse
from hasten.testclient import TestClient


class Item(BaseModel):
    name: str
    price: float


def _echo_body_handler(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        content = jsonable_encoder({"detail": exc.errors(), "body": exc.body})
        return JSONResponse(status_code=422, content=content)


def test_validation_error_body_is_the_parsed_json() -> None:
    # Case 1: a valid JSON body (validated from its bytes) and an invalid query parameter.
    app = FastAPI()
    _echo_body_handler(app)

    @app.post("/items")
    def create(item: Item, q: int) -> Item:
        return item

    client = TestClient(app)
    response = client.post("/items?q=x", json={"name": "a", "price": 1})
    assert response.status_code == 422
    assert response.json()["body"] == {"name": "a", "price": 1}
    response = client.post("/items", json={"name": "a", "price": 1})
    assert response.json() == {
        "detail": [
            {"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": None}
        ],
        "body": {"name": "a", "price": 1},
    }
    assert client.post("/items?q=2", json={"name": "a", "price": 1}).json() == {
        "name": "a",
        "price": 1.0,
    }


class DomainError(Exception):
    pass


class Checked(BaseModel):
    x: int

    @field_validator("x")
    @classmethod
    def check(cls, value: int) -> int:
        if value == 13:
            raise DomainError("unlucky")
        if value == 7:
            raise RuntimeError("a bug")
        return value


def test_body_validator_raising_other_exceptions_is_not_a_400() -> None:
    # Case 2: the app's handler answers a domain error; any other error is a 500.
    app = FastAPI()

    @app.exception_handler(DomainError)
    async def domain(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"domain": str(exc)}, status_code=409)

    @app.post("/checked")
    def checked(body: Checked) -> Checked:
        return body

    client = TestClient(app, raise_server_exceptions=False)
    response = client.post("/checked", json={"x": 13})
    assert (response.status_code, response.json()) == (409, {"domain": "unlucky"})
    assert client.post("/checked", json={"x": 7}).status_code == 500
    assert client.post("/checked", json={"x": 1}).json() == {"x": 1}
    with pytest.raises(RuntimeError, match="a bug"):
        TestClient(app).post("/checked", json={"x": 7})


class NumbersToStr(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)
    s: str


class WithFraction(BaseModel):
    f: Fraction


MODES: list[str] = []


class Traced(BaseModel):
    a: int
    b: int

    @field_validator("a")
    @classmethod
    def note(cls, value: int, info: ValidationInfo) -> int:
        MODES.append(info.mode)
        return value


def test_json_body_values_are_those_of_the_parsed_json() -> None:
    # Case 3: the from-bytes path is only taken where it gives FastAPI's values.
    app = FastAPI()

    @app.post("/s")
    def s(body: NumbersToStr) -> dict[str, str]:
        return {"s": body.s}

    @app.post("/f")
    def f(body: WithFraction) -> dict[str, str]:
        return {"f": str(body.f)}

    @app.post("/v")
    def v(body: Traced) -> dict[str, Any]:
        return {"modes": MODES}

    client = TestClient(app)
    assert client.post("/s", json={"s": 1.0}).json() == {"s": "1.0"}
    assert client.post("/f", json={"f": 0.1}).json() == {"f": "3602879701896397/36028797018963968"}
    MODES.clear()
    assert client.post("/v", json={"a": 1, "b": "x"}).status_code == 422
    assert MODES == ["python"]  # once, in Python mode
    assert client.post("/v", json={"a": 1, "b": 2}).json() == {"modes": ["python", "python"]}


def test_json_mode_safe_allows_only_hook_free_schemas() -> None:
    from pydantic import TypeAdapter

    from hasten._plan.body import json_mode_safe

    class Plain(BaseModel):
        name: str
        tags: list[str] = Field(default_factory=list)
        kind: Literal["a", "b"] = "a"

    class Hooked(BaseModel):
        name: str

        def model_post_init(self, context: Any) -> None:
            pass

    safe = [Plain, dict[str, list[int]], int | None]
    unsafe = [Traced, NumbersToStr, WithFraction, Hooked, int | str, bytes]
    assert [json_mode_safe(TypeAdapter(t).core_schema) for t in safe] == [True] * len(safe)
    assert [json_mode_safe(TypeAdapter(t).core_schema) for t in unsafe] == [False] * len(unsafe)


def test_json_mode_safe_schemas_validate_bytes_as_parsed_json() -> None:
    # The allow-list's promise, on values where the two modes could disagree.
    import datetime
    import json
    import uuid

    from pydantic import TypeAdapter

    from hasten._plan.body import json_mode_safe

    types: list[Any] = [
        datetime.datetime, datetime.date, datetime.time, datetime.timedelta, uuid.UUID,
        list[int], set[int], tuple[int, str], dict[int, str], dict[str, float], bool,
        int | None, float, str,
    ]  # fmt: skip
    values = [
        "0", "1", "1.5", "-1", "1e10", "1e400", "-0.0", '"1"', '"1.5"', '"abc"', "null",
        "true", '"true"', '"2020-01-01"', '"2020-01-01T00:00:00Z"', '"12:00"', '"P1D"',
        "1700000000.5", '"00000000-0000-0000-0000-000000000000"', "[1,2]", '["1",2]', "[1,1]",
        '{"1":"a"}', '{"a":"1.5"}', "[]", "{}",
    ]  # fmt: skip
    for annotation in types:
        adapter = TypeAdapter(annotation)
        assert json_mode_safe(adapter.core_schema)
        for raw in values:
            try:
                from_bytes = adapter.validate_json(raw)
            except ValueError:
                continue  # refused: the general path runs
            assert from_bytes == adapter.validate_python(json.loads(raw)), (annotation, raw)


def test_upload_is_still_open_in_exception_handlers() -> None:
    # Case 8: form files close after the route's answer, exception handlers included.
    app = FastAPI()
    seen: dict[str, Any] = {}

    class Boom(Exception):
        pass

    @app.exception_handler(Boom)
    async def boom(request: Request, exc: Boom) -> JSONResponse:
        upload = seen["file"]
        closed = upload.file.closed
        data = None if closed else (await upload.read()).decode()
        return JSONResponse({"closed": closed, "data": data}, status_code=418)

    @app.post("/async")
    async def upload_async(file: UploadFile) -> None:
        seen["file"] = file
        raise Boom()

    @app.post("/sync")
    def upload_sync(file: UploadFile) -> None:
        seen["file"] = file
        raise Boom()

    client = TestClient(app)
    for path in ("/async", "/sync"):
        response = client.post(path, files={"file": ("a.txt", b"hello")})
        assert (response.status_code, response.json()) == (418, {"closed": False, "data": "hello"})
        assert seen["file"].file.closed  # closed once the answer was sent


def test_patched_json_response_render_is_used() -> None:
    # Case 9: endpoints without a response model answer through JSONResponse, as in FastAPI.
    class Model(BaseModel):
        a: int

    app = FastAPI()

    @app.get("/plain")
    def plain():  # type: ignore[no-untyped-def]  # no annotation: no response model
        return {"a": 1}

    @app.get("/model", response_model=Model)
    def model() -> Any:
        return {"a": 1}

    original = JSONResponse.render

    def render(self: JSONResponse, content: Any) -> bytes:
        return original(self, {"wrapped": content})

    JSONResponse.render = render  # type: ignore[method-assign]
    try:
        client = TestClient(app)
        assert client.get("/plain").json() == {"wrapped": {"a": 1}}
        assert client.get("/model").json() == {"a": 1}  # FastAPI serializes models itself
    finally:
        JSONResponse.render = original  # type: ignore[method-assign]
    fresh = FastAPI()
    fresh.get("/plain")(plain)
    assert TestClient(fresh).get("/plain").json() == {"a": 1}


class Profile(BaseModel):
    name: str


class Filters(BaseModel):
    a: int
    b: int


def test_errors_come_in_declaration_order() -> None:
    # Case 11: parameter and form models declared before plain parameters.
    app = FastAPI()

    @app.get("/q")
    def query(
        f: Annotated[Filters, Query()], z: int, y: Annotated[int, Query()], w: int = 0
    ) -> int:
        return 1

    @app.post("/profiles")
    def profiles(profile: Annotated[Profile, Form()], token: Annotated[str, Form()]) -> int:
        return 1

    client = TestClient(app)
    locs = [tuple(e["loc"]) for e in client.get("/q?a=x").json()["detail"]]
    assert locs == [("query", "a"), ("query", "b"), ("query", "z"), ("query", "y")]
    locs = [tuple(e["loc"]) for e in client.post("/profiles", data={}).json()["detail"]]
    assert locs == [("body", "name"), ("body", "token")]


@pytest.mark.parametrize("strict", [True, False])
def test_empty_content_type(strict: bool) -> None:
    # Case 12: an empty Content-Type counts as none: JSON unless the content type is strict.
    app = FastAPI(strict_content_type=strict)

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    response = TestClient(app).post(
        "/items", content=b'{"name": "a", "price": 1}', headers={"content-type": ""}
    )
    if strict:
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "model_attributes_type"
    else:
        assert (response.status_code, response.json()) == (200, {"name": "a", "price": 1.0})


def _limited(cls: type[FastAPI]) -> TestClient:
    app = cls(max_body_size=5)

    @app.post("/reads")
    async def reads(request: Request) -> dict[str, int]:
        return {"n": len(await request.body())}

    @app.post("/ignores")
    async def ignores() -> dict[str, int]:
        return {"ok": 1}

    return TestClient(app)


def _chunks() -> Iterator[bytes]:
    yield b"1234567"


def test_declared_length_over_the_limit_answers_json_on_hasten() -> None:
    # Case 14: Hasten promises FastAPI's error shape for the 413, however the body arrives.
    client = _limited(Hasten)
    for path in ("/reads", "/ignores"):
        response = client.post(path, content=b"1234567")
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"detail": "Content Too Large"}
    response = client.post("/reads", content=_chunks())
    assert (response.status_code, response.json()) == (413, {"detail": "Content Too Large"})


def test_declared_length_over_the_limit_keeps_fastapis_text() -> None:
    client = _limited(FastAPI)
    for path in ("/reads", "/ignores"):
        response = client.post(path, content=b"1234567")
        assert (response.status_code, response.text) == (413, "Content Too Large")
        assert response.headers["content-type"].startswith("text/plain")
    response = client.post("/reads", content=_chunks())
    assert (response.status_code, response.json()) == (413, {"detail": "Content Too Large"})


def test_hasten_limit_uses_the_apps_http_exception_handler() -> None:
    from starlette.exceptions import HTTPException

    app = Hasten(max_body_size=5)

    @app.exception_handler(HTTPException)
    async def custom(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.post("/ignores")
    async def ignores() -> dict[str, int]:
        return {"ok": 1}

    app.add_middleware(_PassThrough)
    response = TestClient(app).post("/ignores", content=b"1234567")
    assert (response.status_code, response.json()) == (413, {"error": "Content Too Large"})


class _PassThrough:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
