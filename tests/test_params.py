"""Request parameters: locations, declaration styles, aliases, models, bodies, files, 422s."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import pytest
from pydantic import AliasChoices, BaseModel, Field

from hasten import (
    Body,
    Cookie,
    FastAPI,
    File,
    Form,
    Header,
    Path,
    Query,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
)
from hasten.testclient import TestClient


def missing(*loc: str | int, input: Any = None) -> dict[str, Any]:
    return {"type": "missing", "loc": list(loc), "msg": "Field required", "input": input}


def errors(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    return response.json()["detail"]  # type: ignore[no-any-return]


# --- path ---------------------------------------------------------------------------------------


def test_path_params_are_converted_and_validated() -> None:
    app = FastAPI()

    @app.get("/items/{item_id}/{ratio}")
    def read(
        item_id: Annotated[int, Path(gt=0)], ratio: float, flag: bool = False
    ) -> dict[str, Any]:
        return {"item_id": item_id, "ratio": ratio, "flag": flag}

    client = TestClient(app)
    assert client.get("/items/3/0.5").json() == {"item_id": 3, "ratio": 0.5, "flag": False}
    assert errors(client.get("/items/0/x")) == [
        {
            "type": "greater_than",
            "loc": ["path", "item_id"],
            "msg": "Input should be greater than 0",
            "input": "0",
            "ctx": {"gt": 0},
        },
        {
            "type": "float_parsing",
            "loc": ["path", "ratio"],
            "msg": "Input should be a valid number, unable to parse string as a number",
            "input": "x",
        },
    ]


def test_path_param_default_value_style() -> None:
    app = FastAPI()

    @app.get("/users/{name}")
    def read(name: str = Path(min_length=2)) -> str:
        return name

    client = TestClient(app)
    assert client.get("/users/ab").json() == "ab"
    assert errors(client.get("/users/a"))[0]["type"] == "string_too_short"


class ModelName(str, Enum):
    alexnet = "alexnet"
    lenet = "lenet"


def test_enum_path_param() -> None:
    app = FastAPI()

    @app.get("/models/{model}")
    def read(model: ModelName) -> dict[str, str]:
        return {"model": model.value, "is_alexnet": str(model is ModelName.alexnet)}

    client = TestClient(app)
    assert client.get("/models/alexnet").json() == {"model": "alexnet", "is_alexnet": "True"}
    assert errors(client.get("/models/x")) == [
        {
            "type": "enum",
            "loc": ["path", "model"],
            "msg": "Input should be 'alexnet' or 'lenet'",
            "input": "x",
            "ctx": {"expected": "'alexnet' or 'lenet'"},
        }
    ]


# --- query --------------------------------------------------------------------------------------


def test_query_params_defaults_and_required() -> None:
    app = FastAPI()

    @app.get("/q")
    def read(
        needed: str,
        skip: int = 0,
        limit: Annotated[int | None, Query(le=10)] = None,
        short: bool = False,
    ) -> dict[str, Any]:
        return {"needed": needed, "skip": skip, "limit": limit, "short": short}

    client = TestClient(app)
    assert client.get("/q?needed=x").json() == {
        "needed": "x",
        "skip": 0,
        "limit": None,
        "short": False,
    }
    assert client.get("/q?needed=x&skip=2&limit=5&short=yes").json() == {
        "needed": "x",
        "skip": 2,
        "limit": 5,
        "short": True,
    }
    assert errors(client.get("/q?limit=11")) == [
        missing("query", "needed"),
        {
            "type": "less_than_equal",
            "loc": ["query", "limit"],
            "msg": "Input should be less than or equal to 10",
            "input": "11",
            "ctx": {"le": 10},
        },
    ]


def test_query_alias_and_default_value_style() -> None:
    app = FastAPI()

    @app.get("/q")
    def read(item_query: str | None = Query(default=None, alias="item-query")) -> Any:
        return item_query

    client = TestClient(app)
    assert client.get("/q?item-query=x").json() == "x"
    assert client.get("/q?item_query=x").json() is None


def test_query_validation_alias() -> None:
    app = FastAPI()

    @app.get("/q")
    def read(p: Annotated[str, Query(validation_alias="p_val_alias")]) -> str:
        return p

    @app.get("/choices")
    def choices(p: Annotated[str, Query(validation_alias=AliasChoices("a", "b"))]) -> str:
        return p

    client = TestClient(app)
    assert client.get("/q?p_val_alias=hello").json() == "hello"
    assert errors(client.get("/q?p=hello")) == [missing("query", "p_val_alias")]
    assert client.get("/choices?b=2").json() == "2"


def test_list_query_params() -> None:
    app = FastAPI()

    @app.get("/q")
    def read(
        q: Annotated[list[str] | None, Query()] = None,
        n: Annotated[list[int], Query()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {"q": q, "n": n}

    client = TestClient(app)
    assert client.get("/q?q=a&q=b&n=1&n=2").json() == {"q": ["a", "b"], "n": [1, 2]}
    assert client.get("/q").json() == {"q": None, "n": []}
    assert errors(client.get("/q?n=1&n=x")) == [
        {
            "type": "int_parsing",
            "loc": ["query", "n", 1],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "x",
        }
    ]


def test_query_string_constraints() -> None:
    app = FastAPI()

    @app.get("/q")
    def read(q: Annotated[str, Query(min_length=3, pattern="^fixed")]) -> str:
        return q

    client = TestClient(app)
    assert client.get("/q?q=fixedquery").json() == "fixedquery"
    assert errors(client.get("/q?q=nonfixed")) == [
        {
            "type": "string_pattern_mismatch",
            "loc": ["query", "q"],
            "msg": "String should match pattern '^fixed'",
            "input": "nonfixed",
            "ctx": {"pattern": "^fixed"},
        }
    ]


class FilterParams(BaseModel):
    model_config = {"extra": "forbid"}

    limit: int = Field(100, gt=0, le=100)
    offset: int = Field(0, ge=0)
    order_by: str = "created_at"
    tags: list[str] = []


def test_query_params_model() -> None:
    app = FastAPI()

    @app.get("/items")
    def read(filters: Annotated[FilterParams, Query()]) -> FilterParams:
        return filters

    client = TestClient(app)
    assert client.get("/items?limit=5&tags=a&tags=b").json() == {
        "limit": 5,
        "offset": 0,
        "order_by": "created_at",
        "tags": ["a", "b"],
    }
    assert errors(client.get("/items?limit=0&tool=x")) == [
        {
            "type": "greater_than",
            "loc": ["query", "limit"],
            "msg": "Input should be greater than 0",
            "input": "0",
            "ctx": {"gt": 0},
        },
        {
            "type": "extra_forbidden",
            "loc": ["query", "tool"],
            "msg": "Extra inputs are not permitted",
            "input": "x",
        },
    ]


# --- header and cookie --------------------------------------------------------------------------


def test_header_convert_underscores() -> None:
    app = FastAPI()

    @app.get("/h")
    def read(
        user_agent: Annotated[str | None, Header()] = None,
        strange_header: Annotated[str | None, Header(convert_underscores=False)] = None,
    ) -> dict[str, Any]:
        return {"user_agent": user_agent, "strange_header": strange_header}

    client = TestClient(app)
    response = client.get("/h", headers={"User-Agent": "ua", "strange_header": "s"})
    assert response.json() == {"user_agent": "ua", "strange_header": "s"}
    response = client.get("/h", headers={"strange-header": "s"})
    assert response.json()["strange_header"] is None


def test_required_header_error_uses_the_http_name() -> None:
    app = FastAPI()

    @app.get("/h")
    def read(x_token: Annotated[str, Header()], alias_h: str = Header(alias="X-Alias")) -> str:
        return x_token + alias_h

    client = TestClient(app)
    assert client.get("/h", headers={"x-token": "a", "x-alias": "b"}).json() == "ab"
    assert errors(client.get("/h")) == [missing("header", "x-token"), missing("header", "X-Alias")]


def test_list_header_params() -> None:
    app = FastAPI()

    @app.get("/h")
    def read(x_token: Annotated[list[str] | None, Header()] = None) -> Any:
        return x_token

    client = TestClient(app)
    response = client.get("/h", headers=[("X-Token", "foo"), ("X-Token", "bar")])
    assert response.json() == ["foo", "bar"]
    assert client.get("/h").json() is None


class CommonHeaders(BaseModel):
    host: str
    save_data: bool
    x_tag: list[str] = []


def test_header_params_model() -> None:
    app = FastAPI()

    @app.get("/h")
    def read(headers: Annotated[CommonHeaders, Header()]) -> CommonHeaders:
        return headers

    client = TestClient(app)
    response = client.get("/h", headers=[("save-data", "true"), ("x-tag", "a"), ("x-tag", "b")])
    assert response.json() == {"host": "testserver", "save_data": True, "x_tag": ["a", "b"]}
    assert errors(client.get("/h")) == [
        {
            "type": "missing",
            "loc": ["header", "save-data"],
            "msg": "Field required",
            "input": {
                "host": "testserver",
                "accept": "*/*",
                "accept-encoding": "gzip, deflate",
                "connection": "keep-alive",
                "user-agent": "testclient",
            },
        }
    ]


def test_cookie_params() -> None:
    app = FastAPI()

    @app.get("/c")
    def read(
        session: Annotated[str | None, Cookie()] = None,
        tracker: str = Cookie(alias="trk"),
    ) -> dict[str, Any]:
        return {"session": session, "tracker": tracker}

    client = TestClient(app)
    client.cookies.set("session", "abc")
    client.cookies.set("trk", "t1")
    assert client.get("/c").json() == {"session": "abc", "tracker": "t1"}
    client.cookies.clear()
    assert errors(client.get("/c")) == [missing("cookie", "trk")]


class Cookies(BaseModel):
    session_id: str
    fatebook_tracker: str | None = None


def test_cookie_params_model() -> None:
    app = FastAPI()

    @app.get("/c")
    def read(cookies: Annotated[Cookies, Cookie()]) -> Cookies:
        return cookies

    client = TestClient(app)
    client.cookies.set("session_id", "s")
    assert client.get("/c").json() == {"session_id": "s", "fatebook_tracker": None}
    client.cookies.clear()
    assert errors(client.get("/c")) == [missing("cookie", "session_id", input={})]


# --- JSON bodies --------------------------------------------------------------------------------


class Item(BaseModel):
    name: str
    price: float
    description: str | None = None


class User(BaseModel):
    username: str


def test_single_model_body_is_not_embedded() -> None:
    app = FastAPI()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    client = TestClient(app)
    assert client.post("/items", json={"name": "a", "price": "1.5"}).json() == {
        "name": "a",
        "price": 1.5,
        "description": None,
    }
    assert errors(client.post("/items", json={"name": "a"})) == [
        missing("body", "price", input={"name": "a"})
    ]
    assert errors(client.post("/items")) == [missing("body")]


def test_embedded_single_body() -> None:
    app = FastAPI()

    @app.post("/items")
    def create(item: Annotated[Item, Body(embed=True)]) -> Item:
        return item

    client = TestClient(app)
    body = {"item": {"name": "a", "price": 1}}
    assert client.post("/items", json=body).json()["name"] == "a"
    assert errors(client.post("/items", json={"name": "a", "price": 1})) == [
        missing("body", "item")
    ]


def test_multiple_body_params_are_embedded() -> None:
    app = FastAPI()

    @app.put("/items/{item_id}")
    def update(
        item_id: int,
        item: Item,
        user: User,
        importance: Annotated[int, Body(gt=0)],
        q: str | None = None,
    ) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "item": item.model_dump(),
            "user": user.model_dump(),
            "importance": importance,
            "q": q,
        }

    client = TestClient(app)
    body = {"item": {"name": "a", "price": 2}, "user": {"username": "u"}, "importance": 5}
    assert client.put("/items/1?q=z", json=body).json() == {
        "item_id": 1,
        "item": {"name": "a", "price": 2.0, "description": None},
        "user": {"username": "u"},
        "importance": 5,
        "q": "z",
    }
    assert errors(client.put("/items/1", json={"item": {"name": "a"}, "importance": 0})) == [
        missing("body", "item", "price", input={"name": "a"}),
        missing("body", "user", input=None),
        {
            "type": "greater_than",
            "loc": ["body", "importance"],
            "msg": "Input should be greater than 0",
            "input": 0,
            "ctx": {"gt": 0},
        },
    ]


def test_body_with_alias_and_plain_types() -> None:
    app = FastAPI()

    @app.post("/b")
    def create(
        values: Annotated[list[int], Body()],
        note: Annotated[str, Body(alias="the-note")] = "none",
    ) -> dict[str, Any]:
        return {"values": values, "note": note}

    client = TestClient(app)
    assert client.post("/b", json={"values": [1, "2"], "the-note": "n"}).json() == {
        "values": [1, 2],
        "note": "n",
    }


def test_dict_body() -> None:
    app = FastAPI()

    @app.post("/weights")
    def create(weights: dict[int, float]) -> dict[int, float]:
        return weights

    client = TestClient(app)
    assert client.post("/weights", json={"1": 2.5}).json() == {"1": 2.5}


def test_malformed_json_is_json_invalid() -> None:
    app = FastAPI()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    response = TestClient(app).post(
        "/items", content="{some broken json}", headers={"content-type": "application/json"}
    )
    assert errors(response) == [
        {
            "type": "json_invalid",
            "loc": ["body", 1],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": "Expecting property name enclosed in double quotes"},
        }
    ]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/not-really-json", "application/geo+json-seq"]
)
def test_non_json_content_type_is_not_parsed(content_type: str) -> None:
    app = FastAPI()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    data = '{"name": "Foo", "price": 50.5}'
    response = TestClient(app).post("/items", content=data, headers={"content-type": content_type})
    assert errors(response) == [
        {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": data,
        }
    ]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/geo+json", "application/json; charset=utf-8"]
)
def test_json_content_types_are_parsed(content_type: str) -> None:
    app = FastAPI()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    data = '{"name": "Foo", "price": 50.5}'
    response = TestClient(app).post("/items", content=data, headers={"content-type": content_type})
    assert response.status_code == 200, response.text


def test_missing_content_type_strict_and_lax() -> None:
    strict = FastAPI()
    lax = FastAPI(strict_content_type=False)

    for app in (strict, lax):

        @app.post("/d")
        def create(data: dict[str, Any]) -> dict[str, Any]:
            return data

    assert TestClient(strict).post("/d", content='{"k": "v"}').status_code == 422
    assert TestClient(lax).post("/d", content='{"k": "v"}').json() == {"k": "v"}


# --- forms and files ----------------------------------------------------------------------------


def test_form_fields() -> None:
    app = FastAPI()

    @app.post("/login")
    def login(
        username: Annotated[str, Form()], password: str = Form(min_length=3)
    ) -> dict[str, str]:
        return {"username": username, "password": password}

    client = TestClient(app)
    response = client.post("/login", data={"username": "u", "password": "secret"})
    assert response.json() == {"username": "u", "password": "secret"}
    assert errors(client.post("/login", data={"password": "x"})) == [
        missing("body", "username"),
        {
            "type": "string_too_short",
            "loc": ["body", "password"],
            "msg": "String should have at least 3 characters",
            "input": "x",
            "ctx": {"min_length": 3},
        },
    ]


def test_form_errors_keep_declaration_order() -> None:
    app = FastAPI()

    @app.post("/f")
    def create(a: Annotated[int, Form()], b: Annotated[str, Form()]) -> int:
        return a

    response = TestClient(app).post("/f", data={"a": "x"})
    assert errors(response) == [
        {
            "type": "int_parsing",
            "loc": ["body", "a"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "x",
        },
        missing("body", "b"),
    ]


class LoginForm(BaseModel):
    username: str
    password: str
    tags: list[str] = []


def test_form_model() -> None:
    app = FastAPI()

    @app.post("/login")
    def login(data: Annotated[LoginForm, Form()]) -> LoginForm:
        return data

    client = TestClient(app)
    response = client.post("/login", data={"username": "u", "password": "p", "tags": ["a", "b"]})
    assert response.json() == {"username": "u", "password": "p", "tags": ["a", "b"]}
    assert errors(client.post("/login", data={"username": "u"})) == [
        missing("body", "password", input={"username": "u"})
    ]


def test_file_as_bytes_and_upload_file() -> None:
    app = FastAPI()

    @app.post("/files")
    def upload(
        raw: Annotated[bytes, File()], upload: UploadFile, note: Annotated[str, Form()] = ""
    ) -> dict[str, Any]:
        return {
            "raw": len(raw),
            "filename": upload.filename,
            "content_type": upload.content_type,
            "content": upload.file.read().decode(),
            "note": note,
        }

    client = TestClient(app)
    response = client.post(
        "/files",
        files={"raw": ("a.bin", b"12345"), "upload": ("b.txt", b"hello", "text/plain")},
        data={"note": "n"},
    )
    assert response.json() == {
        "raw": 5,
        "filename": "b.txt",
        "content_type": "text/plain",
        "content": "hello",
        "note": "n",
    }


def test_async_upload_file_read() -> None:
    app = FastAPI()

    @app.post("/file")
    async def upload(file: UploadFile) -> dict[str, Any]:
        content = await file.read()
        return {"filename": file.filename, "size": len(content), "attr_size": file.size}

    response = TestClient(app).post("/file", files={"file": ("a.txt", b"abc")})
    assert response.json() == {"filename": "a.txt", "size": 3, "attr_size": 3}


def test_multiple_upload_files() -> None:
    app = FastAPI()

    @app.post("/files")
    def upload(files: list[UploadFile]) -> list[str | None]:
        return [f.filename for f in files]

    @app.post("/blobs")
    def blobs(blobs: Annotated[list[bytes], File()]) -> list[int]:
        return [len(b) for b in blobs]

    client = TestClient(app)
    files = [("files", ("a.txt", b"a")), ("files", ("b.txt", b"bb"))]
    assert client.post("/files", files=files).json() == ["a.txt", "b.txt"]
    blob_files = [("blobs", ("a", b"a")), ("blobs", ("b", b"bb"))]
    assert client.post("/blobs", files=blob_files).json() == [1, 2]


def test_missing_file_is_422() -> None:
    app = FastAPI()

    @app.post("/file")
    def upload(file: UploadFile) -> str | None:
        return file.filename

    @app.post("/optional")
    def optional(file: UploadFile | None = None) -> str | None:
        return None if file is None else file.filename

    client = TestClient(app)
    assert errors(client.post("/file")) == [missing("body", "file")]
    assert client.post("/optional").json() is None
    assert client.post("/optional", files={"file": ("x.txt", b"x")}).json() == "x.txt"


def test_broken_multipart_is_400_with_the_parser_message() -> None:
    app = FastAPI()

    @app.post("/file")
    def upload(file: UploadFile) -> str | None:
        return file.filename

    client = TestClient(app)
    response = client.post(
        "/file",
        content=b"--boundary\r\nnot a real part",
        headers={"content-type": "multipart/form-data; boundary=boundary"},
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid multipart data."}
    response = client.post("/file", content=b"x", headers={"content-type": "multipart/form-data"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Missing boundary in multipart."}


# --- mixed --------------------------------------------------------------------------------------


def test_all_locations_in_one_request() -> None:
    app = FastAPI()

    @app.post("/all/{pid}")
    def everything(
        pid: int,
        item: Item,
        q: int = 0,
        x_h: Annotated[str, Header()] = "",
        c: Annotated[str, Cookie()] = "",
    ) -> dict[str, Any]:
        return {"pid": pid, "q": q, "h": x_h, "c": c, "item": item.name}

    client = TestClient(app)
    client.cookies.set("c", "cv")
    response = client.post("/all/1?q=2", json={"name": "n", "price": 1}, headers={"x-h": "hv"})
    assert response.json() == {"pid": 1, "q": 2, "h": "hv", "c": "cv", "item": "n"}
    client.cookies.clear()
    assert [e["loc"] for e in errors(client.post("/all/x?q=y", json={}))] == [
        ["path", "pid"],
        ["query", "q"],
        ["body", "name"],
        ["body", "price"],
    ]


def test_errors_are_ordered_by_location_then_declaration() -> None:
    app = FastAPI()

    @app.get("/q")
    def read(
        a: int,
        b: str,
        x_a: Annotated[int, Header()],
        x_b: Annotated[str, Header()],
        c1: Annotated[int, Cookie()],
        c2: Annotated[str, Cookie()],
    ) -> int:
        return a

    client = TestClient(app)
    client.cookies.set("c1", "z")
    response = client.get("/q?a=x", headers={"x-a": "y"})
    assert [e["loc"] for e in errors(response)] == [
        ["query", "a"],
        ["query", "b"],
        ["header", "x-a"],
        ["header", "x-b"],
        ["cookie", "c1"],
        ["cookie", "c2"],
    ]


def test_optional_body_may_be_absent() -> None:
    app = FastAPI()

    @app.post("/opt")
    def create(item: Item | None = None) -> dict[str, Any]:
        return {"item": item}

    client = TestClient(app)
    assert client.post("/opt").json() == {"item": None}
    empty_json = client.post("/opt", content=b"", headers={"content-type": "application/json"})
    assert empty_json.json() == {"item": None}
    assert client.post("/opt", json={"name": "x", "price": 1}).json() == {
        "item": {"name": "x", "price": 1.0, "description": None}
    }


def test_embedded_scalar_body_errors() -> None:
    app = FastAPI()

    @app.post("/n")
    def create(n: Annotated[int, Body(embed=True)]) -> int:
        return n

    client = TestClient(app)
    assert client.post("/n", json={"n": "3"}).json() == 3
    assert errors(client.post("/n", json={"n": "x"})) == [
        {
            "type": "int_parsing",
            "loc": ["body", "n"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "x",
        }
    ]
    assert errors(client.post("/n", json=[1])) == [missing("body", "n")]


def test_raw_bytes_body() -> None:
    app = FastAPI()

    @app.post("/raw")
    def create(data: Annotated[bytes, Body()]) -> int:
        return len(data)

    client = TestClient(app)
    assert client.post("/raw", content=b"abc").json() == 3
    assert client.post("/raw", json="abc").json() == 3


def test_list_of_models_body() -> None:
    app = FastAPI()

    @app.post("/items")
    def create(items: list[Item]) -> int:
        return len(items)

    client = TestClient(app)
    assert client.post("/items", json=[{"name": "a", "price": 1}]).json() == 1
    assert errors(client.post("/items", json=[{"name": "a", "price": 1}, {"price": 2}])) == [
        missing("body", 1, "name", input={"price": 2})
    ]
    assert errors(client.post("/items", json={"name": "a"})) == [
        {
            "type": "list_type",
            "loc": ["body"],
            "msg": "Input should be a valid list",
            "input": {"name": "a"},
        }
    ]


def test_websocket_params_are_validated() -> None:
    app = FastAPI()

    @app.websocket("/ws/{room}")
    async def ws(websocket: WebSocket, room: str, q: int) -> None:
        await websocket.accept()
        await websocket.send_json({"room": room, "q": q})
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/ws/a?q=3") as websocket:
        assert websocket.receive_json() == {"room": "a", "q": 3}
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws/a?q=x") as websocket:
            websocket.receive_json()
    assert info.value.code == 1008
