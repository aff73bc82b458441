# The course spells Optional[...] / Union[...] and nests whole apps in one function; the
# examples stay as written, so these rules are off for this file.
# ruff: noqa: UP007, UP045, C901
"""The code examples of the FastAPI course in shared/tutorial/, run on Hasten unchanged.

Each test holds one example (or a few snippets that the course shows together) copied from
the course text with only ``fastapi`` -> ``hasten`` changed in the imports, then exercises it
with TestClient the way the course describes. Lines marked ``# harness:`` are not course code:
they stand in for things the course leaves to "imagine this exists" (a DB, a token decoder,
an SMTP client) or add a route so that a bare model can be exercised over HTTP.

Examples that need packages beyond Hasten's ``standard`` + ``dev`` extras (python-jose,
passlib, PyJWT, SQLAlchemy, redis, strawberry, sse-starlette, ...), sleep for seconds, or call
external services are not here.
"""

import datetime as dt
import re
import uuid
from contextlib import asynccontextmanager
from decimal import Decimal
from enum import Enum
from pathlib import Path as FsPath
from typing import Annotated, Any, Optional, Union

import httpx
import pytest
from httpx import ASGITransport
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from starlette.exceptions import HTTPException as StarletteHTTPException

from hasten import (
    APIRouter,
    BackgroundTasks,
    Body,
    Cookie,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    Security,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from hasten.concurrency import run_in_threadpool
from hasten.encoders import jsonable_encoder
from hasten.exceptions import RequestValidationError
from hasten.middleware.cors import CORSMiddleware
from hasten.middleware.gzip import GZipMiddleware
from hasten.middleware.httpsredirect import HTTPSRedirectMiddleware
from hasten.middleware.trustedhost import TrustedHostMiddleware
from hasten.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    StreamingResponse,
)
from hasten.security import (
    APIKeyHeader,
    OAuth2PasswordBearer,
    SecurityScopes,
)
from hasten.testclient import TestClient


def int_parsing_error(loc: list[Any], value: str) -> dict[str, Any]:
    return {
        "type": "int_parsing",
        "loc": loc,
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": value,
    }


# ----------------------------------------------------------------------------------------
# 001 "FastAPI, all 25 notes": 1 What is FastAPI, 4 First FastAPI App
# ----------------------------------------------------------------------------------------


def test_001_what_is_fastapi_quick_example() -> None:
    app = FastAPI()

    class Item(BaseModel):
        name: str
        price: float
        in_stock: bool = True

    @app.post("/items/")
    async def create_item(item: Item):
        return {"item": item, "tax": item.price * 0.18}

    client = TestClient(app)
    r = client.post("/items/", json={"name": "Pen", "price": 100})
    assert r.status_code == 200
    assert r.json() == {"item": {"name": "Pen", "price": 100.0, "in_stock": True}, "tax": 18.0}
    r = client.post("/items/", json={"name": "Pen"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "price"]
    assert r.json()["detail"][0]["type"] == "missing"
    # "shows up in /docs"
    assert client.get("/docs").status_code == 200
    assert "/items/" in client.get("/openapi.json").json()["paths"]


def test_001_first_app_and_free_docs() -> None:
    app = FastAPI()

    @app.get("/")
    async def root():
        return {"message": "Hello from FastAPI"}

    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        return {"item_id": item_id, "name": f"Item #{item_id}"}

    client = TestClient(app)
    assert client.get("/").json() == {"message": "Hello from FastAPI"}
    r = client.get("/items/42")
    assert r.status_code == 200
    assert r.json() == {"item_id": 42, "name": "Item #42"}
    r = client.get("/items/abc")
    assert r.status_code == 422
    assert r.json() == {"detail": [int_parsing_error(["path", "item_id"], "abc")]}
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    redoc = client.get("/redoc")
    assert redoc.status_code == 200
    assert "redoc" in redoc.text
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) == {"/", "/items/{item_id}"}


def test_001_first_app_options() -> None:
    app = FastAPI(
        title="Inventory Service",
        description="Manages items, stock levels, and reorders.",
        version="0.1.0",
        docs_url="/swagger",  # change default /docs path
        redoc_url=None,  # disable redoc
    )

    client = TestClient(app)
    assert client.get("/swagger").status_code == 200
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    info = client.get("/openapi.json").json()["info"]
    assert info == {
        "title": "Inventory Service",
        "description": "Manages items, stock levels, and reorders.",
        "version": "0.1.0",
    }


# ----------------------------------------------------------------------------------------
# 001: 5 Path Operations
# ----------------------------------------------------------------------------------------


def test_001_path_operations_decorators() -> None:
    app = FastAPI()

    @app.get("/items/")
    async def list_items():
        return [{"id": 1, "name": "Notebook"}]

    @app.post("/items/")
    async def create_item():
        return {"id": 2, "name": "Pen"}

    @app.put("/items/{item_id}")
    async def replace_item(item_id: int):
        return {"id": item_id, "replaced": True}

    @app.patch("/items/{item_id}")
    async def update_item(item_id: int):
        return {"id": item_id, "patched": True}

    @app.delete("/items/{item_id}")
    async def delete_item(item_id: int):
        return {"deleted": item_id}

    client = TestClient(app)
    assert client.get("/items/").json() == [{"id": 1, "name": "Notebook"}]
    assert client.post("/items/").json() == {"id": 2, "name": "Pen"}
    assert client.put("/items/5").json() == {"id": 5, "replaced": True}
    assert client.patch("/items/5").json() == {"id": 5, "patched": True}
    assert client.delete("/items/5").json() == {"deleted": 5}
    r = client.post("/items/5")
    assert r.status_code == 405
    # Like Starlette/FastAPI, the 405 names the methods of the first route matching the path.
    assert r.headers["allow"] == "PUT"


def test_001_path_operations_metadata() -> None:
    app = FastAPI()

    @app.post(
        "/orders/",
        status_code=201,
        summary="Create a new order",
        description="Creates an order for the authenticated user. Returns 201 with the new order ID.",
        tags=["orders"],
        response_description="The created order",
    )
    async def create_order():
        return {"id": "ord_123", "status": "pending"}

    client = TestClient(app)
    r = client.post("/orders/")
    assert r.status_code == 201
    assert r.json() == {"id": "ord_123", "status": "pending"}
    op = client.get("/openapi.json").json()["paths"]["/orders/"]["post"]
    assert op["summary"] == "Create a new order"
    assert op["description"] == (
        "Creates an order for the authenticated user. Returns 201 with the new order ID."
    )
    assert op["tags"] == ["orders"]
    assert op["responses"]["201"]["description"] == "The created order"


def test_001_path_operations_docstring_description() -> None:
    app = FastAPI()

    @app.post("/orders/", tags=["orders"])
    async def create_order():
        """
        Creates an order for the authenticated user.

        Returns 201 with the new order ID.
        """
        return {"id": "ord_123"}

    client = TestClient(app)
    r = client.post("/orders/")
    assert r.status_code == 200
    assert r.json() == {"id": "ord_123"}
    op = client.get("/openapi.json").json()["paths"]["/orders/"]["post"]
    assert op["description"] == (
        "Creates an order for the authenticated user.\n\nReturns 201 with the new order ID."
    )
    assert op["summary"] == "Create Order"


def test_001_path_operations_order_matters() -> None:
    app = FastAPI()

    @app.get("/users/me")
    async def current_user():
        return {"id": "self", "name": "current"}

    @app.get("/users/{user_id}")
    async def get_user(user_id: int):
        return {"id": user_id}

    client = TestClient(app)
    assert client.get("/users/me").json() == {"id": "self", "name": "current"}
    assert client.get("/users/7").json() == {"id": 7}

    # "If we swapped these, /users/me would hit get_user ... and FastAPI would 422"
    swapped = FastAPI()
    swapped.get("/users/{user_id}")(get_user)
    swapped.get("/users/me")(current_user)
    r = TestClient(swapped).get("/users/me")
    assert r.status_code == 422
    assert r.json() == {"detail": [int_parsing_error(["path", "user_id"], "me")]}


def test_001_path_operations_deprecated_api_route_and_router() -> None:
    app = FastAPI()

    @app.get("/legacy/items/", deprecated=True)
    async def old_list():
        return {"warning": "use /items/ instead"}

    @app.api_route("/health", methods=["GET", "HEAD"])
    async def health():
        return {"status": "ok"}

    router = APIRouter(prefix="/items", tags=["items"])

    @router.get("/")
    async def list_items():
        return []

    # In main.py
    app.include_router(router)

    client = TestClient(app)
    assert client.get("/legacy/items/").json() == {"warning": "use /items/ instead"}
    assert client.get("/health").json() == {"status": "ok"}
    head = client.head("/health")
    assert head.status_code == 200
    assert head.content == b""
    assert client.post("/health").status_code == 405
    assert client.get("/items/").json() == []
    # One function under GET and HEAD gets one operationId for both: FastAPI warns about it.
    with pytest.warns(UserWarning, match="Duplicate Operation ID health_health_"):
        paths = client.get("/openapi.json").json()["paths"]
    assert paths["/legacy/items/"]["get"]["deprecated"] is True
    assert set(paths["/health"]) == {"get", "head"}
    assert paths["/items/"]["get"]["tags"] == ["items"]


# ----------------------------------------------------------------------------------------
# 001: 6 Path Parameters
# ----------------------------------------------------------------------------------------


def test_001_path_parameters() -> None:
    app = FastAPI()

    @app.get("/users/{user_id}")
    async def get_user(user_id: int):
        return {"user_id": user_id, "type": type(user_id).__name__}

    @app.get("/items/{item_id}")
    async def get_item(
        item_id: int = Path(
            ...,
            title="Item ID",
            ge=1,  # greater than or equal to 1
            le=10000,  # less than or equal to 10000
            description="The numeric ID of the item",
        ),
    ):
        return {"item_id": item_id}

    @app.get("/products/{sku}")
    async def get_product(sku: str = Path(..., pattern=r"^SKU-\d{6}$")):
        return {"sku": sku}

    class OrderStatus(str, Enum):
        pending = "pending"
        shipped = "shipped"
        delivered = "delivered"

    @app.get("/orders/status/{status}")
    async def list_by_status(status: OrderStatus):
        if status is OrderStatus.shipped:
            return {"message": "Showing shipped orders"}
        return {"message": f"Showing {status.value} orders"}

    @app.get("/files/{file_path:path}")
    async def read_file(file_path: str):
        return {"file_path": file_path}

    @app.get("/users/{user_id}/orders/{order_id}")
    async def get_user_order(user_id: int, order_id: int):
        return {"user_id": user_id, "order_id": order_id}

    client = TestClient(app)
    assert client.get("/users/42").json() == {"user_id": 42, "type": "int"}
    r = client.get("/users/abc")
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "int_parsing"
    assert r.json()["detail"][0]["loc"] == ["path", "user_id"]

    assert client.get("/items/1").json() == {"item_id": 1}
    assert client.get("/items/10000").json() == {"item_id": 10000}
    for bad, kind in (("0", "greater_than_equal"), ("10001", "less_than_equal")):
        r = client.get(f"/items/{bad}")
        assert r.status_code == 422
        assert r.json()["detail"][0]["type"] == kind

    assert client.get("/products/SKU-123456").json() == {"sku": "SKU-123456"}
    r = client.get("/products/banana")
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "string_pattern_mismatch"

    assert client.get("/orders/status/shipped").json() == {"message": "Showing shipped orders"}
    assert client.get("/orders/status/pending").json() == {"message": "Showing pending orders"}
    r = client.get("/orders/status/lost")
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "enum"

    assert client.get("/files/foo/bar/baz.txt").json() == {"file_path": "foo/bar/baz.txt"}
    assert client.get("/users/3/orders/9").json() == {"user_id": 3, "order_id": 9}

    spec = client.get("/openapi.json").json()
    param = spec["paths"]["/items/{item_id}"]["get"]["parameters"][0]
    assert param["schema"]["minimum"] == 1
    assert param["schema"]["maximum"] == 10000
    assert param["description"] == "The numeric ID of the item"
    assert spec["components"]["schemas"]["OrderStatus"]["enum"] == [
        "pending",
        "shipped",
        "delivered",
    ]


# ----------------------------------------------------------------------------------------
# 001: 7 Query Parameters
# ----------------------------------------------------------------------------------------


def test_001_query_parameters_basic() -> None:
    app = FastAPI()

    @app.get("/items/")
    async def list_items(skip: int = 0, limit: int = 10):
        return {"skip": skip, "limit": limit, "items": [...]}

    @app.get("/search/")
    async def search(q: str):  # required
        return {"q": q}

    @app.get("/search/v2/")
    async def search_v2(q: str = ""):  # optional, defaults to empty
        return {"q": q}

    @app.get("/search/v3/")
    async def search_v3(q: str | None = None):  # optional, may be None
        return {"q": q}

    client = TestClient(app)
    # The course writes `"items": [...]` as a placeholder; a real list of Ellipsis is not
    # JSON, so only the parameters are checked through validation errors here.
    r = client.get("/items/?skip=abc")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "skip"]
    r = client.get("/search/")
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": None}
    ]
    assert client.get("/search/?q=pen").json() == {"q": "pen"}
    assert client.get("/search/v2/").json() == {"q": ""}
    assert client.get("/search/v3/").json() == {"q": None}
    assert client.get("/search/v3/?q=x").json() == {"q": "x"}


def test_001_query_parameters_bool_coercion() -> None:
    app = FastAPI()

    @app.get("/items/")
    async def list_items(in_stock: bool = False):
        return {"in_stock": in_stock}

    client = TestClient(app)
    for value in ("true", "1", "yes", "on"):
        assert client.get(f"/items/?in_stock={value}").json() == {"in_stock": True}
    for value in ("false", "0", "no", "off"):
        assert client.get(f"/items/?in_stock={value}").json() == {"in_stock": False}
    assert client.get("/items/").json() == {"in_stock": False}
    r = client.get("/items/?in_stock=maybe")
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "bool_parsing"


def test_001_query_parameters_validation_list_alias_deprecated() -> None:
    app = FastAPI()

    @app.get("/products/")
    async def search_products(
        q: str = Query(
            ...,  # ... means required
            min_length=3,
            max_length=50,
            title="Search query",
            description="Free-text search across product names",
        ),
        page: int = Query(1, ge=1, le=1000),
        sort: str = Query("created", pattern="^(created|price|name)$"),
    ):
        return {"q": q, "page": page, "sort": sort}

    @app.get("/articles/")
    async def list_articles(tag: list[str] = Query(default=[])):
        return {"tags": tag}

    @app.get("/items/")
    async def list_items(item_query: str | None = Query(default=None, alias="item-query")):
        return {"item_query": item_query}

    @app.get("/legacy/")
    async def list_legacy(q: str | None = Query(default=None, deprecated=True)):
        return {"q": q}

    @app.get("/users/{user_id}/orders/")
    async def user_orders(
        user_id: int,
        status: str | None = None,
        limit: int = 20,
    ):
        return {"user_id": user_id, "status": status, "limit": limit}

    client = TestClient(app)
    assert client.get("/products/?q=lamp").json() == {"q": "lamp", "page": 1, "sort": "created"}
    assert client.get("/products/?q=lamp&page=3&sort=price").json() == {
        "q": "lamp",
        "page": 3,
        "sort": "price",
    }
    for query, kind in (
        ("q=ab", "string_too_short"),
        ("q=" + "x" * 51, "string_too_long"),
        ("q=lamp&page=0", "greater_than_equal"),
        ("q=lamp&page=1001", "less_than_equal"),
        ("q=lamp&sort=rating", "string_pattern_mismatch"),
        ("", "missing"),
    ):
        r = client.get(f"/products/?{query}")
        assert r.status_code == 422, query
        assert r.json()["detail"][0]["type"] == kind

    r = client.get("/articles/?tag=python&tag=fastapi&tag=backend")
    assert r.json() == {"tags": ["python", "fastapi", "backend"]}
    assert client.get("/articles/").json() == {"tags": []}

    assert client.get("/items/?item-query=hello").json() == {"item_query": "hello"}
    assert client.get("/items/?item_query=hello").json() == {"item_query": None}
    assert client.get("/legacy/?q=x").json() == {"q": "x"}
    assert client.get("/users/5/orders/?status=open").json() == {
        "user_id": 5,
        "status": "open",
        "limit": 20,
    }

    paths = client.get("/openapi.json").json()["paths"]
    (tag_param,) = paths["/articles/"]["get"]["parameters"]
    assert tag_param["in"] == "query"
    assert tag_param["schema"]["type"] == "array"
    (alias_param,) = paths["/items/"]["get"]["parameters"]
    assert alias_param["name"] == "item-query"
    (legacy_param,) = paths["/legacy/"]["get"]["parameters"]
    assert legacy_param["deprecated"] is True
    kinds = {p["name"]: p["in"] for p in paths["/users/{user_id}/orders/"]["get"]["parameters"]}
    assert kinds == {"user_id": "path", "status": "query", "limit": "query"}


# ----------------------------------------------------------------------------------------
# 001: 8 Request Body & Pydantic
# ----------------------------------------------------------------------------------------


def test_001_request_body_basic_model() -> None:
    app = FastAPI()

    class Item(BaseModel):
        name: str
        description: str | None = None
        price: float
        in_stock: bool = True

    @app.post("/items/")
    async def create_item(item: Item):
        return {"created": item, "total_with_tax": item.price * 1.18}

    client = TestClient(app)
    r = client.post("/items/", json={"name": "Notebook", "price": 4.50})
    assert r.status_code == 200
    assert r.json() == {
        "created": {"name": "Notebook", "description": None, "price": 4.5, "in_stock": True},
        "total_with_tax": 5.31,
    }
    r = client.post("/items/", json={"name": "Notebook", "price": "cheap"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "price"]


def test_001_request_body_nested_multiple_and_body() -> None:
    app = FastAPI()

    class Address(BaseModel):
        street: str
        city: str
        zip_code: str

    class User(BaseModel):
        name: str
        email: str
        addresses: list[Address] = []

    @app.post("/users/")
    async def create_user(user: User):
        return user

    class Item(BaseModel):
        name: str
        price: float

    class User(BaseModel):  # the course redefines User for this snippet
        username: str

    @app.post("/orders/")
    async def place_order(item: Item, user: User):
        return {"item": item, "user": user}

    @app.post("/orders/{order_id}/notes/")
    async def add_note(order_id: int, note: str = Body(...)):
        return {"order_id": order_id, "note": note}

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item = Body(..., embed=True)):
        return {"item_id": item_id, "item": item}

    client = TestClient(app)
    user = {
        "name": "Manish",
        "email": "m@example.com",
        "addresses": [{"street": "MG Road", "city": "Bangalore", "zip_code": "560001"}],
    }
    assert client.post("/users/", json=user).json() == user
    r = client.post("/users/", json={**user, "addresses": [{"street": "x"}]})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {
        ("body", "addresses", 0, "city"),
        ("body", "addresses", 0, "zip_code"),
    }

    body = {"item": {"name": "Pen", "price": 2.5}, "user": {"username": "manish"}}
    assert client.post("/orders/", json=body).json() == body
    r = client.post("/orders/", json={"name": "Pen", "price": 2.5})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {("body", "item"), ("body", "user")}

    # The course says the body is {"note": "..."}; a lone non-embedded Body() scalar is the
    # whole body in FastAPI (and Hasten), so the JSON string itself is what gets accepted.
    r = client.post("/orders/7/notes/", json="Customer prefers afternoon delivery")
    assert r.json() == {"order_id": 7, "note": "Customer prefers afternoon delivery"}
    r = client.post("/orders/7/notes/", json={"note": "Customer prefers afternoon delivery"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "string_type"
    assert r.json()["detail"][0]["loc"] == ["body"]
    r = client.post("/orders/7/notes/?note=query-is-not-read")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body"]

    r = client.put("/items/3", json={"item": {"name": "Pen", "price": 2.5}})
    assert r.json() == {"item_id": 3, "item": {"name": "Pen", "price": 2.5}}
    r = client.put("/items/3", json={"name": "Pen", "price": 2.5})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "item"]


def test_001_request_body_field_level_validation() -> None:
    class Product(BaseModel):
        name: str = Field(min_length=1, max_length=100)
        price: float = Field(gt=0, description="Must be positive")
        sku: str = Field(pattern=r"^SKU-\d{6}$")

    app = FastAPI()  # harness

    @app.post("/products")  # harness
    def create(product: Product):  # harness
        return product  # harness

    client = TestClient(app)
    good = {"name": "Lamp", "price": 9.99, "sku": "SKU-000123"}
    assert client.post("/products", json=good).json() == good
    r = client.post("/products", json={"name": "", "price": 0, "sku": "123"})
    assert r.status_code == 422
    assert [(e["loc"][-1], e["type"]) for e in r.json()["detail"]] == [
        ("name", "string_too_short"),
        ("price", "greater_than"),
        ("sku", "string_pattern_mismatch"),
    ]


# ----------------------------------------------------------------------------------------
# 001: 9 Pydantic Models, 10 Field Validation, 11 Custom Validators, 12 Nested Models
# ----------------------------------------------------------------------------------------


def test_001_pydantic_models() -> None:
    class User(BaseModel):
        id: int
        email: str
        is_active: bool = True
        created_at: dt.datetime | None = None

    user = User(id="42", email="manish@example.com")
    assert user.id == 42

    app = FastAPI()

    @app.post("/users")
    def create_user(user: User):
        # user is already validated here
        return {"created": user.email}

    assert user.model_dump(exclude={"created_at"}) == {
        "id": 42,
        "email": "manish@example.com",
        "is_active": True,
    }
    assert user.model_dump(exclude_none=True) == {
        "id": 42,
        "email": "manish@example.com",
        "is_active": True,
    }

    class StrictUser(BaseModel):
        model_config = ConfigDict(
            from_attributes=True,  # read from SQLAlchemy objects
            str_strip_whitespace=True,
            extra="forbid",  # reject unknown fields
        )

        id: int
        email: str

    @app.post("/strict-users")  # harness
    def create_strict_user(user: StrictUser):  # harness
        return user  # harness

    client = TestClient(app)
    r = client.post("/users", json={"id": "42", "email": "manish@example.com"})
    assert r.json() == {"created": "manish@example.com"}
    assert client.post("/users", json={"email": "x"}).status_code == 422
    r = client.post("/strict-users", json={"id": 1, "email": "  a@b.co  "})
    assert r.json() == {"id": 1, "email": "a@b.co"}
    r = client.post("/strict-users", json={"id": 1, "email": "a@b.co", "role": "x"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "extra_forbidden"
    assert r.json()["detail"][0]["loc"] == ["body", "role"]


def test_001_field_validation() -> None:
    class CreateUser(BaseModel):
        username: str = Field(min_length=3, max_length=20, pattern=r"^[a-z0-9_]+$")
        age: int = Field(gt=0, lt=150)
        email: str = Field(..., examples=["manish@example.com"])
        bio: str | None = Field(default=None, max_length=500)
        id: str = Field(default_factory=lambda: str(uuid.uuid4()))

    class CreateProduct(BaseModel):
        sku: str = Field(min_length=8, max_length=12, pattern=r"^[A-Z0-9-]+$")
        name: str = Field(min_length=1, max_length=200)
        price: Decimal = Field(gt=0, le=1_000_000, decimal_places=2)
        stock: int = Field(ge=0, default=0)
        tags: list[str] = Field(default_factory=list, max_length=10)
        description: str | None = Field(default=None, max_length=2000)

    app = FastAPI()

    @app.post("/products")
    def create(product: CreateProduct):
        return {"sku": product.sku}

    @app.post("/users")  # harness
    def create_user(user: CreateUser):  # harness
        return user  # harness

    client = TestClient(app)
    product = {"sku": "ABC-1234", "name": "Lamp", "price": "19.99"}
    assert client.post("/products", json=product).json() == {"sku": "ABC-1234"}
    r = client.post("/products", json={**product, "price": -5})
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "price"]
    assert error["msg"] == "Input should be greater than 0"
    assert error["type"] == "greater_than"
    r = client.post("/products", json={**product, "tags": ["t"] * 11})
    assert r.json()["detail"][0]["type"] == "too_long"

    r = client.post("/users", json={"username": "manish_1", "age": 30, "email": "m@x.io"})
    body = r.json()
    assert r.status_code == 200
    assert uuid.UUID(body.pop("id"))
    assert body == {"username": "manish_1", "age": 30, "email": "m@x.io", "bio": None}
    r = client.post("/users", json={"username": "Bad Name", "age": 150, "email": "m@x.io"})
    assert [e["type"] for e in r.json()["detail"]] == ["string_pattern_mismatch", "less_than"]

    schema = client.get("/openapi.json").json()["components"]["schemas"]["CreateUser"]
    assert schema["properties"]["username"]["minLength"] == 3
    assert schema["properties"]["email"]["examples"] == ["manish@example.com"]


def test_001_custom_validators() -> None:
    class SignUp(BaseModel):
        username: str
        password: str

        @field_validator("password")
        @classmethod
        def password_must_be_strong(cls, v: str) -> str:
            if len(v) < 8:
                raise ValueError("password must be at least 8 chars")
            if not re.search(r"\d", v):
                raise ValueError("password must contain a digit")
            if not re.search(r"[!@#$%^&*]", v):
                raise ValueError("password must contain a special character")
            return v

    class Event(BaseModel):
        tags: list[str]

        @field_validator("tags", mode="before")
        @classmethod
        def split_string(cls, v):
            # Accept "python,fastapi,backend" as well as a list
            if isinstance(v, str):
                return [t.strip() for t in v.split(",")]
            return v

    class Booking(BaseModel):
        start_date: dt.date
        end_date: dt.date
        guests: int

        @model_validator(mode="after")
        def check_dates(self) -> "Booking":
            if self.end_date <= self.start_date:
                raise ValueError("end_date must be after start_date")
            if self.guests > 1 and (self.end_date - self.start_date).days < 1:
                raise ValueError("multi-guest bookings need at least 1 night")
            return self

    app = FastAPI()  # harness

    @app.post("/signup")  # harness
    def signup(body: SignUp):  # harness
        return body  # harness

    @app.post("/events")  # harness
    def event(body: Event):  # harness
        return body  # harness

    @app.post("/bookings")  # harness
    def booking(body: Booking):  # harness
        return body  # harness

    client = TestClient(app)
    ok = {"username": "m", "password": "s3cret!xy"}
    assert client.post("/signup", json=ok).json() == ok
    r = client.post("/signup", json={"username": "m", "password": "secretxyz"})
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["type"] == "value_error"
    assert error["loc"] == ["body", "password"]
    assert error["msg"] == "Value error, password must contain a digit"
    assert error["ctx"] == {"error": {}}

    r = client.post("/events", json={"tags": "python, fastapi,backend"})
    assert r.json() == {"tags": ["python", "fastapi", "backend"]}

    r = client.post(
        "/bookings", json={"start_date": "2024-05-02", "end_date": "2024-05-01", "guests": 1}
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "Value error, end_date must be after start_date"
    assert r.json()["detail"][0]["loc"] == ["body"]
    booking_ok = {"start_date": "2024-05-01", "end_date": "2024-05-03", "guests": 2}
    assert client.post("/bookings", json=booking_ok).json() == booking_ok


def test_001_nested_models() -> None:
    class Address(BaseModel):
        street: str
        city: str
        zip_code: str
        country: str = "IN"

    class User(BaseModel):
        id: int
        name: str
        address: Address  # nested model as a field type

    class LineItem(BaseModel):
        product_id: int
        quantity: int
        unit_price: float

    class Order(BaseModel):
        id: int
        customer_email: str
        items: list[LineItem]
        total: float

    app = FastAPI()

    @app.post("/orders")
    def create_order(order: Order):
        # order.items is a list of LineItem instances
        computed = sum(i.quantity * i.unit_price for i in order.items)
        return {"items": len(order.items), "computed_total": computed}

    class Comment(BaseModel):
        id: int
        text: str
        replies: list["Comment"] = []

    # Optional in v2 — Pydantic resolves it automatically in most cases.
    # If you hit a NameError, call:
    Comment.model_rebuild()

    @app.post("/users")  # harness
    def create_user(user: User):  # harness
        return {"city": user.address.city, "user": user}  # harness

    @app.post("/comments")  # harness
    def create_comment(comment: Comment):  # harness
        return comment  # harness

    client = TestClient(app)
    user = {
        "id": 1,
        "name": "Manish",
        "address": {"street": "MG Road", "city": "Bangalore", "zip_code": "560001"},
    }
    r = client.post("/users", json=user)
    assert r.json() == {
        "city": "Bangalore",
        "user": {**user, "address": {**user["address"], "country": "IN"}},
    }
    r = client.post("/users", json={**user, "address": {"street": "MG Road"}})
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {
        ("body", "address", "city"),
        ("body", "address", "zip_code"),
    }

    items = [{"product_id": i, "quantity": 2, "unit_price": 1.5} for i in range(4)]
    order = {"id": 1, "customer_email": "a@b.c", "items": items, "total": 12}
    assert client.post("/orders", json=order).json() == {"items": 4, "computed_total": 12.0}
    items[3] = {**items[3], "quantity": "two"}
    r = client.post("/orders", json=order)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "items", 3, "quantity"]

    tree = {
        "id": 1,
        "text": "Top level",
        "replies": [
            {
                "id": 2,
                "text": "A reply",
                "replies": [{"id": 3, "text": "Nested reply", "replies": []}],
            }
        ],
    }
    assert client.post("/comments", json=tree).json() == tree
    spec = client.get("/openapi.json").json()
    assert spec["components"]["schemas"]["Comment"]["properties"]["replies"]["items"] == {
        "$ref": "#/components/schemas/Comment"
    }
    assert spec["components"]["schemas"]["User"]["properties"]["address"] == {
        "$ref": "#/components/schemas/Address"
    }


# ----------------------------------------------------------------------------------------
# 001: 13 Depends(), 14 Class Dependencies, 15 Sub-dependencies, 16 Yield Dependencies
# ----------------------------------------------------------------------------------------


def test_001_depends_pagination_and_current_user() -> None:
    app = FastAPI()

    def pagination(skip: int = 0, limit: int = 10) -> dict:
        return {"skip": skip, "limit": min(limit, 100)}

    @app.get("/users")
    def list_users(page: dict = Depends(pagination)):
        return {"params": page}

    @app.get("/products")
    def list_products(page: dict = Depends(pagination)):
        return {"params": page}

    def decode_jwt(token: str) -> dict | None:  # harness: "imagine this exists"
        return {"id": 7, "name": "manish"} if token == "good" else None  # harness

    class PostIn(BaseModel):  # harness: not shown in the course
        title: str  # harness

    def get_current_user(authorization: str = Header(...)) -> dict:
        if not authorization.startswith("Bearer "):
            raise HTTPException(401, "missing bearer token")
        token = authorization.removeprefix("Bearer ")
        user = decode_jwt(token)  # imagine this exists
        if not user:
            raise HTTPException(401, "invalid token")
        return user

    @app.get("/me")
    def me(user: dict = Depends(get_current_user)):
        return user

    @app.post("/posts")
    def create_post(payload: PostIn, user: dict = Depends(get_current_user)):
        return {"author": user["id"], "title": payload.title}

    CurrentUser = Annotated[dict, Depends(get_current_user)]

    @app.get("/me2")  # harness: Style 2 of the same dependency
    def handler(user: CurrentUser):
        return user

    client = TestClient(app)
    assert client.get("/users?skip=5&limit=500").json() == {"params": {"skip": 5, "limit": 100}}
    assert client.get("/products").json() == {"params": {"skip": 0, "limit": 10}}

    r = client.get("/me")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "authorization"]
    r = client.get("/me", headers={"Authorization": "Token good"})
    assert (r.status_code, r.json()) == (401, {"detail": "missing bearer token"})
    r = client.get("/me", headers={"Authorization": "Bearer bad"})
    assert (r.status_code, r.json()) == (401, {"detail": "invalid token"})
    good = {"Authorization": "Bearer good"}
    assert client.get("/me", headers=good).json() == {"id": 7, "name": "manish"}
    assert client.get("/me2", headers=good).json() == {"id": 7, "name": "manish"}
    r = client.post("/posts", json={"title": "Hi"}, headers=good)
    assert r.json() == {"author": 7, "title": "Hi"}
    r = client.post("/posts", json={"title": "Hi"})
    assert r.status_code == 422

    params = client.get("/openapi.json").json()["paths"]["/users"]["get"]["parameters"]
    assert [p["name"] for p in params] == ["skip", "limit"]


def test_001_depends_path_and_router_level() -> None:
    app = FastAPI()

    def verify_api_key(x_api_key: str = Header(...)):
        if x_api_key != "secret":
            raise HTTPException(403)

    # Single route
    @app.get("/admin/stats", dependencies=[Depends(verify_api_key)])
    def stats():
        return {"users": 3}

    # Entire router
    router = APIRouter(dependencies=[Depends(verify_api_key)])

    @router.get("/admin/other")  # harness
    def other():  # harness
        return {"ok": True}  # harness

    app.include_router(router)  # harness

    client = TestClient(app)
    for path in ("/admin/stats", "/admin/other"):
        r = client.get(path, headers={"X-API-Key": "wrong"})
        assert (r.status_code, r.json()) == (403, {"detail": "Forbidden"})
        assert client.get(path).status_code == 422
        assert client.get(path, headers={"X-API-Key": "secret"}).status_code == 200
    assert client.get("/admin/stats", headers={"x-api-key": "secret"}).json() == {"users": 3}


def test_001_class_dependencies() -> None:
    app = FastAPI()

    class Pagination:
        def __init__(self, skip: int = 0, limit: int = 10):
            self.skip = skip
            self.limit = min(limit, 100)

    @app.get("/users")
    def list_users(page: Pagination = Depends(Pagination)):
        return {"skip": page.skip, "limit": page.limit}

    @app.get("/users2")  # harness: the `Depends()` shortcut of the same handler
    def list_users2(page: Pagination = Depends()):  # cleaner
        return {"skip": page.skip, "limit": page.limit}

    class Session:  # harness: stands in for sqlalchemy.orm.Session
        def __init__(self, engine):
            self.engine = engine

    class DBProvider:
        def __init__(self, engine):
            self.engine = engine

        def __call__(self) -> Session:
            return Session(self.engine)

    db_provider = DBProvider(engine="prod_engine")

    @app.get("/engine")  # harness
    def engine(db: Session = Depends(db_provider)):  # harness
        return {"engine": db.engine}  # harness

    client = TestClient(app)
    assert client.get("/users?skip=3&limit=1000").json() == {"skip": 3, "limit": 100}
    assert client.get("/users2").json() == {"skip": 0, "limit": 10}
    assert client.get("/engine").json() == {"engine": "prod_engine"}

    # In tests
    app.dependency_overrides[db_provider] = DBProvider(engine="test_engine")
    assert client.get("/engine").json() == {"engine": "test_engine"}
    app.dependency_overrides.clear()
    assert client.get("/engine").json() == {"engine": "prod_engine"}


def test_001_class_dependency_rate_limiter_with_fake_redis() -> None:
    """The RateLimiter callable instance, with the fake redis the course suggests for tests."""

    class FakeRedis:  # harness: "instantiate with a fake redis"
        def __init__(self):  # harness
            self.data: dict[str, int] = {}  # harness
            self.expiries: dict[str, int] = {}  # harness

        def incr(self, key):  # harness
            self.data[key] = self.data.get(key, 0) + 1  # harness
            return self.data[key]  # harness

        def expire(self, key, seconds):  # harness
            self.expiries[key] = seconds  # harness

    app = FastAPI()

    class RateLimiter:
        def __init__(self, redis_client, max_per_minute: int):
            self.r = redis_client
            self.max = max_per_minute

        def __call__(self, x_api_key: str = Header(...)) -> str:
            key = f"ratelimit:{x_api_key}"
            count = self.r.incr(key)
            if count == 1:
                self.r.expire(key, 60)
            if count > self.max:
                raise HTTPException(429, "too many requests")
            return x_api_key

    # Build once at startup
    fake = FakeRedis()  # harness (the course uses redis.Redis())
    rate_limit = RateLimiter(fake, max_per_minute=2)

    @app.get("/search")
    def search(api_key: str = Depends(rate_limit)):
        return {"caller": api_key}

    client = TestClient(app)
    headers = {"X-API-Key": "k1"}
    assert client.get("/search", headers=headers).json() == {"caller": "k1"}
    assert client.get("/search", headers=headers).json() == {"caller": "k1"}
    r = client.get("/search", headers=headers)
    assert (r.status_code, r.json()) == (429, {"detail": "too many requests"})
    assert client.get("/search", headers={"X-API-Key": "k2"}).status_code == 200
    assert fake.expiries == {"ratelimit:k1": 60, "ratelimit:k2": 60}


def test_001_sub_dependencies_chain_diamond_and_cache() -> None:
    app = FastAPI()
    lookups: list[str] = []  # harness

    class User(BaseModel):  # harness: not shown in the course
        email: str  # harness
        role: str  # harness

    def decode_and_lookup(token: str) -> User | None:  # harness
        lookups.append(token)  # harness
        roles = {"admin-token": "admin", "user-token": "user"}  # harness
        role = roles.get(token)  # harness
        return User(email=f"{role}@x.io", role=role) if role else None  # harness

    def get_token(authorization: str = Header(...)) -> str:
        if not authorization.startswith("Bearer "):
            raise HTTPException(401, "missing bearer token")
        return authorization.removeprefix("Bearer ")

    def get_current_user(token: str = Depends(get_token)) -> User:
        user = decode_and_lookup(token)
        if not user:
            raise HTTPException(401, "invalid token")
        return user

    def require_admin(user: User = Depends(get_current_user)) -> User:
        if user.role != "admin":
            raise HTTPException(403, "admin only")
        return user

    @app.delete("/users/{user_id}")
    def delete_user(user_id: int, admin: User = Depends(require_admin)):
        return {"deleted_by": admin.email}

    @app.get("/admin/dashboard")
    def dashboard(
        user: User = Depends(get_current_user),  # uses cached result
        admin: User = Depends(require_admin),  # require_admin also calls get_current_user, cached
    ):
        # user and admin are literally the same object
        assert user is admin
        return {"same": True}

    def fresh_uuid() -> str:
        return str(uuid.uuid4())

    @app.get("/trace")
    def trace(
        a: str = Depends(fresh_uuid, use_cache=False),
        b: str = Depends(fresh_uuid, use_cache=False),
    ):
        return {"a": a, "b": b}  # different UUIDs

    client = TestClient(app)
    admin = {"Authorization": "Bearer admin-token"}
    assert client.delete("/users/3", headers=admin).json() == {"deleted_by": "admin@x.io"}
    r = client.delete("/users/3", headers={"Authorization": "Bearer user-token"})
    assert (r.status_code, r.json()) == (403, {"detail": "admin only"})
    r = client.delete("/users/3", headers={"Authorization": "Bearer nope"})
    assert (r.status_code, r.json()) == (401, {"detail": "invalid token"})
    r = client.delete("/users/3", headers={"Authorization": "Basic x"})
    assert (r.status_code, r.json()) == (401, {"detail": "missing bearer token"})

    lookups.clear()
    assert client.get("/admin/dashboard", headers=admin).json() == {"same": True}
    assert lookups == ["admin-token"]  # get_current_user ran once for the diamond

    body = client.get("/trace").json()
    assert body["a"] != body["b"]
    assert uuid.UUID(body["a"]) and uuid.UUID(body["b"])


def test_001_yield_dependencies_lifo_and_rollback() -> None:
    events: list[str] = []  # harness

    class FakeSession:  # harness: stands in for SessionLocal()
        def __init__(self, name="db"):  # harness
            self.name = name  # harness
            events.append(f"{name} open")  # harness

        def commit(self):  # harness
            events.append(f"{self.name} commit")  # harness

        def rollback(self):  # harness
            events.append(f"{self.name} rollback")  # harness

        def close(self):  # harness
            events.append(f"{self.name} close")  # harness

    SessionLocal = FakeSession  # harness

    class Logger:  # harness: stands in for make_logger(...)
        def __init__(self, request_id):  # harness
            self.request_id = request_id  # harness

        def info(self, msg):  # harness
            events.append(f"log[{self.request_id}] {msg}")  # harness

    make_logger = Logger  # harness

    app = FastAPI()

    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

    @app.get("/users/{user_id}")
    def get_user(user_id: int, db: FakeSession = Depends(get_db)):
        user = {1: {"id": 1}}.get(user_id)  # harness for db.query(...).first()
        if not user:
            raise HTTPException(404)
        return user

    def db_session_with_rollback():
        db = SessionLocal()
        try:
            yield db
            db.commit()  # success path
        except Exception:
            db.rollback()  # something went wrong in the handler
            raise  # let FastAPI's error handlers see it
        finally:
            db.close()

    @app.post("/tx/{ok}")  # harness
    def tx(ok: bool, db: FakeSession = Depends(db_session_with_rollback)):  # harness
        if not ok:  # harness
            raise HTTPException(409, "conflict")  # harness
        return {"ok": True}  # harness

    def get_logger(request: Request):
        log = make_logger(request_id=request.headers.get("x-request-id"))
        log.info("request start")
        try:
            yield log
        finally:
            log.info("request end")

    class OrderIn(BaseModel):  # harness
        item: str  # harness

    @app.post("/orders")
    def create_order(
        order: OrderIn,
        db: FakeSession = Depends(get_db),
        log=Depends(get_logger),
    ):
        log.info("creating order")
        return {"saved": order.item}  # harness for repository.save(db, order)

    client = TestClient(app)
    assert client.get("/users/1").json() == {"id": 1}
    assert events == ["db open", "db close"]
    events.clear()
    r = client.get("/users/2")
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
    assert events == ["db open", "db close"]  # teardown runs even when the handler raised

    events.clear()
    assert client.post("/tx/true").json() == {"ok": True}
    assert events == ["db open", "db commit", "db close"]
    events.clear()
    r = client.post("/tx/false")
    assert (r.status_code, r.json()) == (409, {"detail": "conflict"})
    assert events == ["db open", "db rollback", "db close"]

    events.clear()
    r = client.post("/orders", json={"item": "pen"}, headers={"x-request-id": "r1"})
    assert r.json() == {"saved": "pen"}
    assert events == [
        "db open",
        "log[r1] request start",
        "log[r1] creating order",
        "log[r1] request end",
        "db close",
    ]


def test_001_yield_dependency_async_and_cached() -> None:
    events: list[str] = []  # harness

    class AsyncSessionLocal:  # harness: an async context manager like async_sessionmaker
        async def __aenter__(self):  # harness
            events.append("enter")  # harness
            return self  # harness

        async def __aexit__(self, *exc):  # harness
            events.append("exit")  # harness

    async def get_db():
        async with AsyncSessionLocal() as db:
            yield db

    app = FastAPI()

    def repo(db=Depends(get_db)):  # harness: a second consumer of the same dependency
        return db  # harness

    @app.get("/same")  # harness
    async def same(db=Depends(get_db), other=Depends(repo)):  # harness
        return {"same": db is other}  # harness

    client = TestClient(app)
    assert client.get("/same").json() == {"same": True}
    assert events == ["enter", "exit"]


# ----------------------------------------------------------------------------------------
# 001: 17 async vs sync Routes (the sleep(2) routes are not run here), 18 Response Models
# ----------------------------------------------------------------------------------------


def test_001_run_in_threadpool() -> None:
    def parse(data: bytes) -> str:  # harness: the course's parse()
        return data.decode().upper()  # harness

    app = FastAPI()

    def heavy_pdf_parse(data: bytes) -> str:
        # expensive, blocking, CPU-bound
        return parse(data)

    @app.post("/upload")
    async def upload(file: bytes):
        text = await run_in_threadpool(heavy_pdf_parse, file)
        return {"text": text}

    client = TestClient(app)
    # A bare `bytes` parameter is a query parameter, not an upload.
    assert client.post("/upload?file=hello").json() == {"text": "HELLO"}
    r = client.post("/upload", content=b"hello")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "file"]


def test_001_response_models_and_status_codes() -> None:
    saved: list[Any] = []  # harness

    def save_to_db(user):  # harness
        saved.append(user)  # harness

    class UserIn(BaseModel):
        email: EmailStr
        password: str  # incoming

    class UserOut(BaseModel):
        email: EmailStr
        # no password field — it cannot leak

    app = FastAPI()

    @app.post("/users", response_model=UserOut)
    def create_user(user: UserIn):
        save_to_db(user)
        return user  # password is silently stripped

    class ItemIn(BaseModel):  # harness
        name: str  # harness

    class Item(ItemIn):  # harness
        id: int  # harness

    store: dict[int, dict] = {}  # harness

    def save(item):  # harness
        store[len(store) + 1] = {"id": len(store) + 1, "name": item.name}  # harness
        return store[len(store)]  # harness

    def remove(id):  # harness
        store.pop(id)  # harness

    @app.post("/items", response_model=Item, status_code=status.HTTP_201_CREATED)
    def create_item(item: ItemIn):
        return save(item)

    @app.delete("/items/{id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete_item(id: int):
        remove(id)
        # don't return anything for 204

    class Profile(BaseModel):
        name: str | None = None
        bio: str | None = None
        age: int | None = None

    @app.get("/me", response_model=Profile, response_model_exclude_unset=True)
    def me():
        return {"name": "Manish"}  # response is just {"name": "Manish"}, no nulls

    class PublicUser(BaseModel):
        username: str

    class PrivateUser(PublicUser):
        email: EmailStr
        last_login: str

    class FakeDB:  # harness
        def get(self, id):  # harness
            return PrivateUser(username="manish", email="m@example.com", last_login="today")

    db = FakeDB()  # harness

    @app.get("/users/{id}", response_model=Union[PrivateUser, PublicUser])
    def get_user(id: int, is_owner: bool = False):
        user = db.get(id)
        return user if is_owner else {"username": user.username}

    class ErrorMessage(BaseModel):  # harness
        message: str  # harness

    @app.get(
        "/items/{id}",
        response_model=Item,
        responses={404: {"model": ErrorMessage}},
    )
    def get_item(id: int):
        return store[id]  # harness for the course's `...`

    client = TestClient(app)
    r = client.post("/users", json={"email": "a@example.com", "password": "hunter2"})
    assert (r.status_code, r.json()) == (200, {"email": "a@example.com"})
    assert saved[0].password == "hunter2"
    r = client.post("/users", json={"email": "not-an-email", "password": "x"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "email"]

    r = client.post("/items", json={"name": "Pen"})
    assert (r.status_code, r.json()) == (201, {"id": 1, "name": "Pen"})
    assert client.get("/items/1").json() == {"id": 1, "name": "Pen"}
    r = client.delete("/items/1")
    assert r.status_code == 204
    assert r.content == b""
    assert "content-length" not in r.headers or r.headers["content-length"] == "0"

    assert client.get("/me").json() == {"name": "Manish"}
    assert client.get("/users/1").json() == {"username": "manish"}
    assert client.get("/users/1?is_owner=true").json() == {
        "username": "manish",
        "email": "m@example.com",
        "last_login": "today",
    }

    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/items/{id}"]["get"]["responses"]
    assert responses["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorMessage"
    }
    assert "requestBody" not in spec["paths"]["/items/{id}"]["delete"]
    assert spec["paths"]["/items/{id}"]["delete"]["responses"]["204"] == {
        "description": "Successful Response"
    }
    user_schema = spec["paths"]["/users/{id}"]["get"]["responses"]["200"]["content"]
    assert user_schema["application/json"]["schema"]["anyOf"] == [
        {"$ref": "#/components/schemas/PrivateUser"},
        {"$ref": "#/components/schemas/PublicUser"},
    ]


# ----------------------------------------------------------------------------------------
# 001: 19 OAuth2 scopes (the jose/passlib parts need packages and are not here)
# ----------------------------------------------------------------------------------------


def test_001_oauth2_scopes() -> None:
    app = FastAPI()

    oauth2_scheme = OAuth2PasswordBearer(
        tokenUrl="token",
        scopes={"read:items": "Read items", "admin": "Full access"},
    )

    tokens = {"t-read": ["read:items"], "t-none": []}  # harness

    def get_current_user(  # harness: a scope-checking get_current_user
        security_scopes: SecurityScopes, token: str = Depends(oauth2_scheme)
    ):
        granted = tokens.get(token)  # harness
        if granted is None:  # harness
            raise HTTPException(401, "invalid token")  # harness
        for scope in security_scopes.scopes:  # harness
            if scope not in granted:  # harness
                raise HTTPException(403, "Not enough permissions")  # harness
        return {"token": token, "scopes": security_scopes.scope_str}  # harness

    @app.get("/items")
    def list_items(user=Security(get_current_user, scopes=["read:items"])):
        return user  # harness for the course's `...`

    client = TestClient(app)
    r = client.get("/items")
    assert (r.status_code, r.json()) == (401, {"detail": "Not authenticated"})
    assert r.headers["www-authenticate"] == "Bearer"
    ok = client.get("/items", headers={"Authorization": "Bearer t-read"})
    assert ok.json() == {"token": "t-read", "scopes": "read:items"}
    r = client.get("/items", headers={"Authorization": "Bearer t-none"})
    assert (r.status_code, r.json()) == (403, {"detail": "Not enough permissions"})

    spec = client.get("/openapi.json").json()
    assert spec["paths"]["/items"]["get"]["security"] == [{"OAuth2PasswordBearer": ["read:items"]}]
    flows = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows == {
        "password": {
            "scopes": {"read:items": "Read items", "admin": "Full access"},
            "tokenUrl": "token",
        }
    }


# ----------------------------------------------------------------------------------------
# 001: 21 Middleware & CORS, 22 Background Tasks, 23 WebSockets
# ----------------------------------------------------------------------------------------


def test_001_http_middleware_process_time() -> None:
    import time

    app = FastAPI()

    @app.middleware("http")
    async def add_process_time_header(request: Request, call_next):
        start = time.perf_counter()
        request_id = str(uuid.uuid4())
        response = await call_next(request)
        duration = time.perf_counter() - start
        response.headers["X-Process-Time"] = f"{duration:.4f}"
        response.headers["X-Request-ID"] = request_id
        return response

    @app.get("/ping")  # harness
    def ping():  # harness
        return {"pong": True}  # harness

    client = TestClient(app)
    r = client.get("/ping")
    assert r.json() == {"pong": True}
    assert re.fullmatch(r"\d+\.\d{4}", r.headers["x-process-time"])
    assert uuid.UUID(r.headers["x-request-id"])
    r404 = client.get("/missing")
    assert r404.status_code == 404
    assert "x-process-time" in r404.headers
    assert r404.headers["x-request-id"] != r.headers["x-request-id"]


def test_001_cors() -> None:
    app = FastAPI()

    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://app.pman47.cc", "http://localhost:3000"],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )

    @app.post("/items")  # harness
    def create():  # harness
        return {"ok": True}  # harness

    client = TestClient(app)
    r = client.options(
        "/items",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-Custom",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-allow-headers"] == "X-Custom"
    assert "POST" in r.headers["access-control-allow-methods"]

    r = client.options(
        "/items",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 400
    assert r.text == "Disallowed CORS origin"

    r = client.post("/items", headers={"Origin": "https://app.pman47.cc"})
    assert r.json() == {"ok": True}
    assert r.headers["access-control-allow-origin"] == "https://app.pman47.cc"
    assert r.headers["access-control-allow-credentials"] == "true"
    r = client.post("/items", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
    # "curl and server-to-server calls completely ignore CORS"
    assert client.post("/items").json() == {"ok": True}


def test_001_gzip_trustedhost_httpsredirect() -> None:
    app = FastAPI()  # harness

    @app.get("/big")  # harness
    def big():  # harness
        return {"data": "x" * 5000}  # harness

    @app.get("/small")  # harness
    def small():  # harness
        return {"data": "x"}  # harness

    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["pman47.cc", "*.pman47.cc"])
    app.add_middleware(HTTPSRedirectMiddleware)

    secure = TestClient(app, base_url="https://api.pman47.cc")
    r = secure.get("/big", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.json() == {"data": "x" * 5000}
    assert int(r.headers["content-length"]) < 1000
    r = secure.get("/small", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert r.json() == {"data": "x"}
    assert TestClient(app, base_url="https://pman47.cc").get("/small").status_code == 200

    plain = TestClient(app, base_url="http://api.pman47.cc", follow_redirects=False)
    r = plain.get("/small?a=1")
    assert r.status_code == 307
    assert r.headers["location"] == "https://api.pman47.cc/small?a=1"

    r = TestClient(app, base_url="https://evil.com").get("/small")
    assert (r.status_code, r.text) == (400, "Invalid host header")


def test_001_background_tasks() -> None:
    sent: list[tuple[str, ...]] = []  # harness

    class Smtp:  # harness
        def send(self, to, subject, body):  # harness
            sent.append((to, subject, body))  # harness

    smtp = Smtp()  # harness

    def create_user(email, name):  # harness
        return type("User", (), {"id": 1})()  # harness

    app = FastAPI()

    def send_welcome_email(email: str, name: str):
        # slow, blocking, that's fine — runs after response
        smtp.send(to=email, subject="Welcome!", body=f"Hi {name}")

    @app.post("/signup")
    def signup(email: str, name: str, tasks: BackgroundTasks):
        user = create_user(email, name)
        tasks.add_task(send_welcome_email, email, name)
        return {"user_id": user.id}  # response goes out NOW

    class Order(BaseModel):  # harness
        email: str  # harness

    def save(order):  # harness
        return {"id": 99, "email": order.email}  # harness

    def send_confirmation_email(email):  # harness
        sent.append(("confirm", email))  # harness

    async def notify_warehouse(order_id):  # harness (an async task)
        sent.append(("warehouse", str(order_id)))  # harness

    def update_analytics(event, order_id):  # harness
        sent.append((event, str(order_id)))  # harness

    @app.post("/order")
    def place_order(order: Order, tasks: BackgroundTasks):
        saved = save(order)
        tasks.add_task(send_confirmation_email, order.email)
        tasks.add_task(notify_warehouse, saved["id"])
        tasks.add_task(update_analytics, "order_placed", saved["id"])
        return saved

    client = TestClient(app)
    r = client.post("/signup?email=a@b.co&name=Ann")
    assert r.json() == {"user_id": 1}
    assert sent == [("a@b.co", "Welcome!", "Hi Ann")]
    sent.clear()
    r = client.post("/order", json={"email": "o@b.co"})
    assert r.json() == {"id": 99, "email": "o@b.co"}
    assert sent == [("confirm", "o@b.co"), ("warehouse", "99"), ("order_placed", "99")]
    params = client.get("/openapi.json").json()["paths"]["/signup"]["post"]["parameters"]
    assert [p["name"] for p in params] == ["email", "name"]


def test_001_websocket_echo() -> None:
    app = FastAPI()
    disconnects: list[str] = []  # harness

    @app.websocket("/ws/echo")
    async def echo(ws: WebSocket):
        await ws.accept()
        try:
            while True:
                msg = await ws.receive_text()
                await ws.send_text(f"echo: {msg}")
        except WebSocketDisconnect:
            disconnects.append("client disconnected")  # the course prints this

    client = TestClient(app)
    with client.websocket_connect("/ws/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "echo: hello"
        ws.send_text("again")
        assert ws.receive_text() == "echo: again"
    assert disconnects == ["client disconnected"]


def test_001_websocket_connection_manager_chat() -> None:
    class ConnectionManager:
        def __init__(self):
            self.active: list[WebSocket] = []

        async def connect(self, ws: WebSocket):
            await ws.accept()
            self.active.append(ws)

        def disconnect(self, ws: WebSocket):
            self.active.remove(ws)

        async def broadcast(self, message: str):
            # iterate over a copy — disconnects mutate the list
            for conn in list(self.active):
                try:
                    await conn.send_text(message)
                except Exception:
                    self.disconnect(conn)

    manager = ConnectionManager()
    app = FastAPI()

    @app.websocket("/ws/chat/{username}")
    async def chat(ws: WebSocket, username: str):
        await manager.connect(ws)
        await manager.broadcast(f"-> {username} joined")
        try:
            while True:
                msg = await ws.receive_text()
                await manager.broadcast(f"{username}: {msg}")
        except WebSocketDisconnect:
            manager.disconnect(ws)
            await manager.broadcast(f"<- {username} left")

    client = TestClient(app)
    with client.websocket_connect("/ws/chat/alice") as alice:
        assert alice.receive_text() == "-> alice joined"
        with client.websocket_connect("/ws/chat/bob") as bob:
            assert bob.receive_text() == "-> bob joined"
            assert alice.receive_text() == "-> bob joined"
            # Each TestClient WebSocket session has its own event loop: the newest client
            # (last in the broadcast list) sends, and reads its own copy first, so that the
            # cross-session copy is already queued when alice reads it.
            bob.send_text("hi")
            assert bob.receive_text() == "bob: hi"
            assert alice.receive_text() == "bob: hi"
        assert alice.receive_text() == "<- bob left"
    # From "Testing FastAPI": test_chat
    with client.websocket_connect("/ws/chat/manish") as ws:
        ws.send_text("hello")
        msg = ws.receive_text()
        assert "manish" in msg
        msg = ws.receive_text()
        assert "hello" in msg
    assert manager.active == []


def test_001_websocket_query_token_auth() -> None:
    def decode_jwt(token):  # harness
        return {"sub": "manish"} if token == "good" else None  # harness

    app = FastAPI()

    @app.websocket("/ws")
    async def secured(ws: WebSocket, token: str = Query(...)):
        user = decode_jwt(token)
        if not user:
            await ws.close(code=status.WS_1008_POLICY_VIOLATION)
            return
        await ws.accept()
        await ws.send_json({"hello": user["sub"]})  # harness for the course's `...`

    client = TestClient(app)
    with client.websocket_connect("/ws?token=good") as ws:
        assert ws.receive_json() == {"hello": "manish"}
    for url in ("/ws?token=bad", "/ws"):
        with pytest.raises(WebSocketDisconnect) as info:
            with client.websocket_connect(url):
                pass  # pragma: no cover
        assert info.value.code == status.WS_1008_POLICY_VIOLATION


# ----------------------------------------------------------------------------------------
# 001: 24 Testing FastAPI, 25 Settings & Config
# ----------------------------------------------------------------------------------------


def test_001_testing_testclient() -> None:
    # main.py
    app = FastAPI()

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.post("/items")
    def create_item(item: dict):
        return {"id": 1, **item}

    # test_main.py
    client = TestClient(app)

    def test_health():
        r = client.get("/health")
        assert r.status_code == 200
        assert r.json() == {"status": "ok"}

    def test_create_item():
        r = client.post("/items", json={"name": "Book", "price": 10})
        assert r.status_code == 200
        body = r.json()
        assert body["id"] == 1
        assert body["name"] == "Book"

    test_health()
    test_create_item()


@pytest.mark.anyio
async def test_001_testing_async_client_asgi_transport() -> None:
    app = FastAPI()  # harness: the main.py of the previous example

    @app.get("/health")  # harness
    def health():  # harness
        return {"status": "ok"}  # harness

    # The course marks this with @pytest.mark.asyncio; Hasten's dev extras ship anyio's plugin.
    transport = ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
        r = await ac.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_001_testing_dependency_overrides_and_lifespan() -> None:
    closed: list[str] = []  # harness

    class RealDB:  # harness
        def close(self):  # harness
            closed.append("real")  # harness

    # main.py
    def get_db():
        db = RealDB()
        try:
            yield db
        finally:
            db.close()

    def get_current_user():
        # reads JWT from header, hits DB
        raise HTTPException(401)  # harness for the course's `...`

    started: list[str] = []  # harness

    @asynccontextmanager  # harness: a lifespan to show `with TestClient(app)` runs it
    async def lifespan(app):  # harness
        started.append("up")  # harness
        yield  # harness
        started.append("down")  # harness

    app = FastAPI(lifespan=lifespan)

    @app.get("/me")
    def me(user=Depends(get_current_user), db=Depends(get_db)):
        return db.get_profile(user.id)

    # test_main.py
    class FakeDB:
        def get_profile(self, user_id):
            return {"id": user_id, "name": "Test User"}

    def fake_user():
        return type("User", (), {"id": 1})()

    client = TestClient(app)
    assert client.get("/me").status_code == 401

    app.dependency_overrides[get_db] = lambda: FakeDB()
    app.dependency_overrides[get_current_user] = fake_user

    def test_me():
        r = client.get("/me")
        assert r.json()["name"] == "Test User"

    test_me()
    assert closed == []
    # clean up afterwards
    app.dependency_overrides.clear()

    # Fixtures — cleaner setup (the conftest.py client fixture, inlined)
    app.dependency_overrides[get_db] = lambda: FakeDB()
    app.dependency_overrides[get_current_user] = fake_user
    with TestClient(app) as c:
        assert started == ["up"]
        assert c.get("/me").status_code == 200
    assert started == ["up", "down"]
    app.dependency_overrides.clear()
    assert client.get("/me").status_code == 401


def test_001_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: FsPath) -> None:
    from functools import lru_cache

    from pydantic_settings import BaseSettings, SettingsConfigDict

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "DATABASE_URL=postgresql://user:pass@localhost:5432/gyaan\n"
        "JWT_SECRET=this-is-at-least-thirty-two-chars-long\n"
        "DEBUG=true\n"
        'CORS_ORIGINS=["http://localhost:3000","https://app.pman47.cc"]\n'
    )
    for name in ("DATABASE_URL", "JWT_SECRET", "DEBUG", "CORS_ORIGINS", "APP_NAME"):
        monkeypatch.delenv(name, raising=False)

    # config.py
    class Settings(BaseSettings):
        model_config = SettingsConfigDict(
            env_file=".env",
            env_file_encoding="utf-8",
            extra="ignore",
        )

        app_name: str = "Gyaan API"
        debug: bool = False
        database_url: str
        redis_url: str = "redis://localhost:6379/0"
        jwt_secret: str = Field(min_length=32)
        jwt_expire_minutes: int = 30
        cors_origins: list[str] = ["http://localhost:3000"]

    @lru_cache
    def get_settings() -> Settings:
        return Settings()

    app = FastAPI()

    @app.get("/info")
    def info(settings: Settings = Depends(get_settings)):
        return {"app": settings.app_name, "debug": settings.debug}

    client = TestClient(app)
    assert client.get("/info").json() == {"app": "Gyaan API", "debug": True}
    settings = get_settings()
    assert settings is get_settings()
    assert settings.cors_origins == ["http://localhost:3000", "https://app.pman47.cc"]
    assert settings.database_url == "postgresql://user:pass@localhost:5432/gyaan"

    def fake_settings():
        return Settings(database_url="sqlite:///:memory:", jwt_secret="x" * 32, debug=False)

    app.dependency_overrides[get_settings] = fake_settings
    assert client.get("/info").json() == {"app": "Gyaan API", "debug": False}
    app.dependency_overrides.clear()

    (tmp_path / ".env").write_text("JWT_SECRET=short\n")
    with pytest.raises(ValidationError):
        Settings()

    # Nested settings
    monkeypatch.setenv("DB_URL", "postgresql://db/x")

    class DBSettings(BaseSettings):
        url: str
        pool_size: int = 5
        model_config = SettingsConfigDict(env_prefix="DB_")

    class NestedSettings(BaseSettings):  # the course calls this one Settings as well
        db: DBSettings = DBSettings()
        app_name: str = "Gyaan"

    assert NestedSettings().db.url == "postgresql://db/x"


# ----------------------------------------------------------------------------------------
# 002 "FastAPI: Deep Dive & Best Practices", phases 1-3
# ----------------------------------------------------------------------------------------


def test_002_hello_world_and_path_parameters() -> None:
    # main.py
    app = FastAPI()

    @app.get("/")
    async def root():
        return {"message": "Hello World"}

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None):
        return {"item_id": item_id, "q": q}

    # Path parameter with validation
    @app.get("/users/{user_id}")
    async def read_user(
        user_id: Annotated[
            int,
            Path(
                title="User ID",
                description="The ID of the user to retrieve",
                ge=1,  # Greater than or equal to 1
                le=1000,  # Less than or equal to 1000
            ),
        ],
    ):
        return {"user_id": user_id}

    # Multiple path parameters
    @app.get("/users/{user_id}/items/{item_id}")
    async def read_user_item(user_id: int, item_id: int):
        return {"user_id": user_id, "item_id": item_id}

    # String path parameter
    @app.get("/files/{file_path:path}")
    async def read_file(file_path: str):
        return {"file_path": file_path}

    # Example: /files/home/user/documents/file.txt

    client = TestClient(app)
    assert client.get("/").json() == {"message": "Hello World"}
    assert client.get("/items/5?q=x").json() == {"item_id": 5, "q": "x"}
    assert client.get("/items/5").json() == {"item_id": 5, "q": None}
    assert client.get("/users/1000").json() == {"user_id": 1000}
    assert client.get("/users/0").status_code == 422
    assert client.get("/users/1001").status_code == 422
    assert client.get("/users/2/items/3").json() == {"user_id": 2, "item_id": 3}
    r = client.get("/files/home/user/documents/file.txt")
    assert r.json() == {"file_path": "home/user/documents/file.txt"}
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code == 200


def test_002_query_parameters_variants() -> None:
    # The course declares GET /items/ four times; each variant gets its own app here,
    # since on one app only the first declaration would ever match.
    app1 = FastAPI()

    # Basic query parameters
    @app1.get("/items/")
    async def read_items(skip: int = 0, limit: int = 10):
        return {"skip": skip, "limit": limit}

    # URL: /items/?skip=0&limit=10

    app2 = FastAPI()

    # Optional query parameter
    @app2.get("/items/")
    async def read_items(q: str | None = None):  # noqa: F811
        if q:
            return {"q": q}
        return {"q": "Not provided"}

    app3 = FastAPI()

    # Query parameter with validation
    @app3.get("/items/")
    async def read_items(  # noqa: F811
        q: Annotated[
            str | None,
            Query(
                title="Query string",
                description="Query string for searching",
                min_length=3,
                max_length=50,
                pattern="^[a-zA-Z0-9_]+$",
            ),
        ] = None,
        skip: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ):
        return {"q": q, "skip": skip, "limit": limit}

    app4 = FastAPI()

    # Multiple query parameters of same name (list)
    @app4.get("/items/")
    async def read_items(tag: Annotated[list[str], Query()] = []):  # noqa: F811, B006
        return {"tags": tag}

    # URL: /items/?tag=python&tag=fastapi&tag=api

    assert TestClient(app1).get("/items/?skip=0&limit=10").json() == {"skip": 0, "limit": 10}
    c2 = TestClient(app2)
    assert c2.get("/items/").json() == {"q": "Not provided"}
    assert c2.get("/items/?q=pen").json() == {"q": "pen"}
    c3 = TestClient(app3)
    assert c3.get("/items/?q=abc_1&skip=2&limit=100").json() == {
        "q": "abc_1",
        "skip": 2,
        "limit": 100,
    }
    assert c3.get("/items/").json() == {"q": None, "skip": 0, "limit": 10}
    for query in ("q=ab", "q=no spaces", "skip=-1", "limit=0", "limit=101"):
        assert c3.get(f"/items/?{query}").status_code == 422, query
    c4 = TestClient(app4)
    r = c4.get("/items/?tag=python&tag=fastapi&tag=api")
    assert r.json() == {"tags": ["python", "fastapi", "api"]}
    assert c4.get("/items/").json() == {"tags": []}


def test_002_request_body_with_pydantic() -> None:
    app = FastAPI()  # harness

    # Define Pydantic model
    class User(BaseModel):
        username: str = Field(..., min_length=3, max_length=50)
        email: EmailStr
        full_name: str | None = None
        age: int = Field(..., ge=0, le=150)
        created_at: dt.datetime = Field(default_factory=dt.datetime.now)

    # POST endpoint with request body
    @app.post("/users/")
    async def create_user(user: User):
        return user

    # Multiple body parameters
    class Item(BaseModel):
        name: str
        price: float

    @app.post("/items/")
    async def create_item(item: Item, user: User, importance: Annotated[int, Body(ge=1, le=10)]):
        return {"item": item, "user": user, "importance": importance}

    # Nested models
    class Address(BaseModel):
        street: str
        city: str
        country: str
        postal_code: str

    class UserWithAddress(BaseModel):
        username: str
        email: EmailStr
        address: Address  # Nested model

    @app.post("/users/complete/")
    async def create_user_complete(user: UserWithAddress):
        return user

    client = TestClient(app)
    user = {"username": "ann", "email": "ann@example.com", "age": 30}
    r = client.post("/users/", json=user)
    body = r.json()
    assert dt.datetime.fromisoformat(body.pop("created_at"))
    assert body == {**user, "full_name": None}
    r = client.post("/users/", json={**user, "email": "nope", "age": 200})
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "email"], ["body", "age"]]

    payload = {"item": {"name": "Pen", "price": 2.5}, "user": user, "importance": 5}
    r = client.post("/items/", json=payload)
    assert r.status_code == 200
    assert r.json()["importance"] == 5
    assert r.json()["item"] == {"name": "Pen", "price": 2.5}
    r = client.post("/items/", json={**payload, "importance": 11})
    assert r.json()["detail"][0]["loc"] == ["body", "importance"]

    full = {
        "username": "ann",
        "email": "ann@example.com",
        "address": {"street": "s", "city": "c", "country": "IN", "postal_code": "1"},
    }
    assert client.post("/users/complete/", json=full).json() == full
    assert client.post("/users/complete/", json={**full, "address": {}}).status_code == 422


def test_002_form_data_and_file_uploads() -> None:
    app = FastAPI()  # harness

    # Form data (application/x-www-form-urlencoded)
    @app.post("/login/")
    async def login(username: Annotated[str, Form()], password: Annotated[str, Form()]):
        return {"username": username}

    # File upload
    @app.post("/files/")
    async def create_file(file: Annotated[bytes, File()]):
        return {"file_size": len(file)}

    # Upload with UploadFile (better for large files)
    @app.post("/uploadfile/")
    async def create_upload_file(file: UploadFile):
        content = await file.read()
        return {"filename": file.filename, "content_type": file.content_type, "size": len(content)}

    # Multiple file uploads
    @app.post("/uploadfiles/")
    async def create_upload_files(files: list[UploadFile]):
        return {"filenames": [file.filename for file in files]}

    # Form + File together
    @app.post("/files/annotated/")
    async def create_file_annotated(
        file: UploadFile, token: Annotated[str, Form()], description: Annotated[str, Form()] = ""
    ):
        return {"token": token, "filename": file.filename, "description": description}

    client = TestClient(app)
    assert client.post("/login/", data={"username": "u", "password": "p"}).json() == {
        "username": "u"
    }
    r = client.post("/login/", data={"username": "u"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "password"]

    r = client.post("/files/", files={"file": ("a.bin", b"12345")})
    assert r.json() == {"file_size": 5}
    r = client.post("/uploadfile/", files={"file": ("notes.txt", b"hello", "text/plain")})
    assert r.json() == {"filename": "notes.txt", "content_type": "text/plain", "size": 5}
    assert client.post("/uploadfile/").status_code == 422
    r = client.post(
        "/uploadfiles/",
        files=[("files", ("a.txt", b"a")), ("files", ("b.txt", b"b"))],
    )
    assert r.json() == {"filenames": ["a.txt", "b.txt"]}
    r = client.post(
        "/files/annotated/", data={"token": "t"}, files={"file": ("c.txt", b"c", "text/plain")}
    )
    assert r.json() == {"token": "t", "filename": "c.txt", "description": ""}

    body = client.get("/openapi.json").json()["paths"]["/files/annotated/"]["post"]
    assert "multipart/form-data" in body["requestBody"]["content"]


def test_002_response_models() -> None:
    app = FastAPI()  # harness

    class UserIn(BaseModel):
        username: str
        password: str
        email: EmailStr

    class UserOut(BaseModel):
        username: str
        email: EmailStr
        # Note: password is excluded

    # Response model (automatic validation and documentation)
    @app.post("/users/", response_model=UserOut)
    async def create_user(user: UserIn):
        # Save user (password would be hashed)
        return user  # Password automatically excluded

    # Response model with list
    class Item(BaseModel):
        name: str
        price: float

    @app.get("/items/", response_model=list[Item])
    async def read_items():
        return [{"name": "Item 1", "price": 10.5}, {"name": "Item 2", "price": 20.0}]

    # Response model with status code
    @app.post("/items/", response_model=Item, status_code=201)
    async def create_item(item: Item):
        return item

    class BaseUser(BaseModel):
        username: str

    class AdminUser(BaseUser):
        is_admin: bool = True

    class RegularUser(BaseUser):
        is_admin: bool = False

    @app.get("/users/{user_id}", response_model=Union[AdminUser, RegularUser])
    async def read_user(user_id: int):
        if user_id == 1:
            return AdminUser(username="admin")
        return RegularUser(username="regular_user")

    client = TestClient(app)
    r = client.post("/users/", json={"username": "u", "password": "p", "email": "u@example.com"})
    assert r.json() == {"username": "u", "email": "u@example.com"}
    assert client.get("/items/").json() == [
        {"name": "Item 1", "price": 10.5},
        {"name": "Item 2", "price": 20.0},
    ]
    r = client.post("/items/", json={"name": "Pen", "price": 1})
    assert (r.status_code, r.json()) == (201, {"name": "Pen", "price": 1.0})
    assert client.get("/users/1").json() == {"username": "admin", "is_admin": True}
    assert client.get("/users/2").json() == {"username": "regular_user", "is_admin": False}


def test_002_status_codes_and_http_exception() -> None:
    items = {1: {"name": "Pen"}}  # harness

    class Item(BaseModel):  # harness
        name: str  # harness

    app = FastAPI()  # harness

    # Using status code constants
    @app.post("/items/", status_code=status.HTTP_201_CREATED)
    async def create_item(item: Item):
        return item

    # Common status codes
    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        if item_id not in items:
            return Response(status_code=status.HTTP_404_NOT_FOUND)
        return items[item_id]

    app2 = FastAPI()  # harness: the second read_item has the same path

    @app2.get("/items/{item_id}")
    async def read_item(item_id: int):  # noqa: F811
        if item_id not in items:
            raise HTTPException(
                status_code=404,
                detail="Item not found",
                headers={"X-Error": "Item not found header"},
            )
        return items[item_id]

    client = TestClient(app)
    assert client.post("/items/", json={"name": "Cup"}).status_code == 201
    assert client.get("/items/1").json() == {"name": "Pen"}
    r = client.get("/items/2")
    assert (r.status_code, r.content) == (404, b"")
    r = TestClient(app2).get("/items/2")
    assert (r.status_code, r.json()) == (404, {"detail": "Item not found"})
    assert r.headers["x-error"] == "Item not found header"


def test_002_custom_responses(monkeypatch: pytest.MonkeyPatch, tmp_path: FsPath) -> None:
    monkeypatch.chdir(tmp_path)  # harness
    (tmp_path / "file.pdf").write_bytes(b"%PDF-1.4 tiny")  # harness

    app = FastAPI()  # harness

    # HTML response
    @app.get("/html", response_class=HTMLResponse)
    async def get_html():
        return """
    <html>
        <head><title>FastAPI</title></head>
        <body><h1>Hello from FastAPI</h1></body>
    </html>
    """

    # Plain text response
    @app.get("/text", response_class=PlainTextResponse)
    async def get_text():
        return "Hello World"

    # Redirect response
    @app.get("/redirect")
    async def redirect():
        return RedirectResponse(url="/docs")

    # File download
    @app.get("/download")
    async def download_file():
        return FileResponse(path="file.pdf", filename="download.pdf", media_type="application/pdf")

    client = TestClient(app)
    r = client.get("/html")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Hello from FastAPI</h1>" in r.text
    r = client.get("/text")
    assert (r.text, r.headers["content-type"]) == ("Hello World", "text/plain; charset=utf-8")
    r = client.get("/redirect", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (307, "/docs")
    r = client.get("/redirect")
    assert r.status_code == 200
    assert "swagger-ui" in r.text
    r = client.get("/download")
    assert r.content == b"%PDF-1.4 tiny"
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="download.pdf"'
    spec = client.get("/openapi.json").json()["paths"]
    assert "text/html" in spec["/html"]["get"]["responses"]["200"]["content"]


# ----------------------------------------------------------------------------------------
# 002: phase 4 Dependency Injection, phase 6 Error Handling, phase 7 security (no jose)
# ----------------------------------------------------------------------------------------


def test_002_basic_class_and_sub_dependencies() -> None:
    app = FastAPI()  # harness

    # Simple dependency function
    async def common_parameters(q: str | None = None, skip: int = 0, limit: int = 10):
        return {"q": q, "skip": skip, "limit": limit}

    # Using dependency
    @app.get("/items/")
    async def read_items(commons: Annotated[dict, Depends(common_parameters)]):
        return commons

    @app.get("/users/")
    async def read_users(commons: Annotated[dict, Depends(common_parameters)]):
        return commons

    # Class as dependency
    class CommonQueryParams:
        def __init__(self, q: str | None = None, skip: int = 0, limit: int = 10):
            self.q = q
            self.skip = skip
            self.limit = limit

    @app.get("/items2/")  # harness: the course reuses /items/ for this variant
    async def read_items(commons: Annotated[CommonQueryParams, Depends()]):  # noqa: F811
        return commons

    # Sub-dependencies (dependencies of dependencies)
    def query_extractor(q: str | None = None):
        return q

    def query_or_cookie_extractor(
        q: Annotated[str, Depends(query_extractor)],
        last_query: Annotated[str | None, Cookie()] = None,
    ):
        if not q:
            return last_query
        return q

    @app.get("/items3/")  # harness: the course reuses /items/ for this variant
    async def read_query(query_or_default: Annotated[str, Depends(query_or_cookie_extractor)]):
        return {"q_or_cookie": query_or_default}

    client = TestClient(app)
    assert client.get("/items/?q=a&skip=1").json() == {"q": "a", "skip": 1, "limit": 10}
    assert client.get("/users/").json() == {"q": None, "skip": 0, "limit": 10}
    # A plain object is encoded through its __dict__ (jsonable_encoder's vars() fallback).
    assert client.get("/items2/?limit=3").json() == {"q": None, "skip": 0, "limit": 3}
    assert client.get("/items3/?q=x").json() == {"q_or_cookie": "x"}
    assert client.get("/items3/").json() == {"q_or_cookie": None}
    with_cookie = TestClient(app, cookies={"last_query": "from-cookie"})
    assert with_cookie.get("/items3/").json() == {"q_or_cookie": "from-cookie"}
    assert with_cookie.get("/items3/?q=x").json() == {"q_or_cookie": "x"}


def test_002_dependencies_for_authentication_and_rbac() -> None:
    app = FastAPI()  # harness
    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

    class Role(str, Enum):
        ADMIN = "admin"
        USER = "user"
        GUEST = "guest"

    class User(BaseModel):
        username: str
        role: Role
        is_active: bool = True  # harness: read by get_current_active_user

    users = {  # harness
        "t-admin": User(username="root", role=Role.ADMIN),
        "t-user": User(username="ann", role=Role.USER),
        "t-guest": User(username="g", role=Role.GUEST),
        "t-off": User(username="off", role=Role.USER, is_active=False),
    }

    async def decode_token(token):  # harness: "Your token decoding logic"
        return users.get(token)  # harness

    # Dependency that checks authentication
    async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]):
        user = await decode_token(token)  # Your token decoding logic
        if not user:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="Invalid authentication credentials",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return user

    # Protected endpoint
    @app.get("/users/me")
    async def read_users_me(current_user: Annotated[User, Depends(get_current_user)]):
        return current_user

    # Dependency with additional checks
    async def get_current_active_user(current_user: Annotated[User, Depends(get_current_user)]):
        if not current_user.is_active:
            raise HTTPException(status_code=400, detail="Inactive user")
        return current_user

    @app.get("/users/me/items/")
    async def read_own_items(current_user: Annotated[User, Depends(get_current_active_user)]):
        return [{"item_id": "Foo", "owner": current_user.username}]

    # Role checker dependency
    class RoleChecker:
        def __init__(self, allowed_roles: list[Role]):
            self.allowed_roles = allowed_roles

        def __call__(self, user: Annotated[User, Depends(get_current_user)]):
            if user.role not in self.allowed_roles:
                raise HTTPException(
                    status_code=status.HTTP_403_FORBIDDEN, detail="Operation not permitted"
                )
            return user

    # Admin-only endpoint
    @app.delete("/users/{user_id}")
    async def delete_user(
        user_id: int, current_user: Annotated[User, Depends(RoleChecker([Role.ADMIN]))]
    ):
        return {"message": f"User {user_id} deleted"}

    # Admin or User endpoint
    @app.get("/dashboard")
    async def dashboard(
        current_user: Annotated[User, Depends(RoleChecker([Role.ADMIN, Role.USER]))],
    ):
        return {"message": "Welcome to dashboard"}

    def auth(token):  # harness
        return {"Authorization": f"Bearer {token}"}  # harness

    client = TestClient(app)
    r = client.get("/users/me")
    assert (r.status_code, r.json()) == (401, {"detail": "Not authenticated"})
    r = client.get("/users/me", headers=auth("nope"))
    assert (r.status_code, r.json()) == (401, {"detail": "Invalid authentication credentials"})
    assert r.headers["www-authenticate"] == "Bearer"
    r = client.get("/users/me", headers=auth("t-user"))
    assert r.json() == {"username": "ann", "role": "user", "is_active": True}
    r = client.get("/users/me/items/", headers=auth("t-user"))
    assert r.json() == [{"item_id": "Foo", "owner": "ann"}]
    r = client.get("/users/me/items/", headers=auth("t-off"))
    assert (r.status_code, r.json()) == (400, {"detail": "Inactive user"})

    assert client.delete("/users/4", headers=auth("t-admin")).json() == {
        "message": "User 4 deleted"
    }
    r = client.delete("/users/4", headers=auth("t-user"))
    assert (r.status_code, r.json()) == (403, {"detail": "Operation not permitted"})
    assert client.get("/dashboard", headers=auth("t-user")).status_code == 200
    assert client.get("/dashboard", headers=auth("t-guest")).status_code == 403


def test_002_api_key_authentication() -> None:
    app = FastAPI()  # harness

    API_KEY = "your-api-key-here"
    api_key_header = APIKeyHeader(name="X-API-Key")

    async def verify_api_key(api_key: Annotated[str, Depends(api_key_header)]):
        if api_key != API_KEY:
            raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Invalid API Key")
        return api_key

    # Protected endpoint
    @app.get("/protected")
    async def protected_route(api_key: Annotated[str, Depends(verify_api_key)]):
        return {"message": "Access granted"}

    client = TestClient(app)
    r = client.get("/protected")
    assert (r.status_code, r.json()) == (401, {"detail": "Not authenticated"})
    assert r.headers["www-authenticate"] == "APIKey"
    r = client.get("/protected", headers={"X-API-Key": "wrong"})
    assert (r.status_code, r.json()) == (401, {"detail": "Invalid API Key"})
    r = client.get("/protected", headers={"X-API-Key": "your-api-key-here"})
    assert r.json() == {"message": "Access granted"}
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes == {"APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}


def test_002_http_exception_details() -> None:
    items_db = {1: {"name": "Pen"}}  # harness
    users_db: dict[int, dict] = {}  # harness
    app = FastAPI()  # harness

    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        if item_id not in items_db:
            raise HTTPException(
                status_code=status.HTTP_404_NOT_FOUND,
                detail=f"Item {item_id} not found",
                headers={"X-Error": "Custom error header"},
            )
        return items_db[item_id]

    # Custom exception with details
    @app.get("/users/{user_id}")
    async def read_user(user_id: int):
        if user_id not in users_db:
            raise HTTPException(
                status_code=404,
                detail={
                    "error": "Not Found",
                    "message": f"User with id {user_id} does not exist",
                    "user_id": user_id,
                    "suggestions": ["Check the user ID", "Try another ID"],
                },
            )
        return users_db[user_id]

    client = TestClient(app)
    assert client.get("/items/1").json() == {"name": "Pen"}
    r = client.get("/items/9")
    assert (r.status_code, r.json()) == (404, {"detail": "Item 9 not found"})
    assert r.headers["x-error"] == "Custom error header"
    r = client.get("/users/3")
    assert r.json() == {
        "detail": {
            "error": "Not Found",
            "message": "User with id 3 does not exist",
            "user_id": 3,
            "suggestions": ["Check the user ID", "Try another ID"],
        }
    }


def test_002_custom_exception_handlers() -> None:
    app = FastAPI()  # harness

    # Custom exception class
    class ItemNotFoundException(Exception):
        def __init__(self, item_id: int):
            self.item_id = item_id

    # Custom exception handler
    @app.exception_handler(ItemNotFoundException)
    async def item_not_found_handler(request: Request, exc: ItemNotFoundException):
        return JSONResponse(
            status_code=404,
            content={
                "error": "Item Not Found",
                "item_id": exc.item_id,
                "message": f"Item with ID {exc.item_id} was not found",
            },
        )

    # Override default validation error handler
    @app.exception_handler(RequestValidationError)
    async def validation_exception_handler(request: Request, exc: RequestValidationError):
        return JSONResponse(
            status_code=422,
            content={"error": "Validation Error", "detail": exc.errors(), "body": exc.body},
        )

    # Override default HTTP exception handler
    @app.exception_handler(StarletteHTTPException)
    async def http_exception_handler(request: Request, exc: StarletteHTTPException):
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": "HTTP Exception", "message": exc.detail, "path": str(request.url)},
        )

    # Generic exception handler
    @app.exception_handler(Exception)
    async def generic_exception_handler(request: Request, exc: Exception):
        return JSONResponse(
            status_code=500,
            content={
                "error": "Internal Server Error",
                "message": "An unexpected error occurred",
                "type": type(exc).__name__,
            },
        )

    class Item(BaseModel):  # harness
        name: str  # harness

    @app.get("/items/{item_id}")  # harness
    async def read_item(item_id: int):  # harness
        raise ItemNotFoundException(item_id)  # harness

    @app.post("/items/")  # harness
    async def create_item(item: Item):  # harness
        return item  # harness

    @app.get("/teapot")  # harness
    async def teapot():  # harness
        raise HTTPException(418, "short and stout")  # harness

    @app.get("/boom")  # harness
    async def boom():  # harness
        raise ZeroDivisionError("x")  # harness

    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/items/5")
    assert (r.status_code, r.json()) == (
        404,
        {"error": "Item Not Found", "item_id": 5, "message": "Item with ID 5 was not found"},
    )
    r = client.post("/items/", json={"nom": "x"})
    assert r.status_code == 422
    assert r.json() == {
        "error": "Validation Error",
        "detail": [
            {
                "type": "missing",
                "loc": ["body", "name"],
                "msg": "Field required",
                "input": {"nom": "x"},
            }
        ],
        "body": {"nom": "x"},
    }
    r = client.get("/teapot")
    assert r.json() == {
        "error": "HTTP Exception",
        "message": "short and stout",
        "path": "http://testserver/teapot",
    }
    r = client.get("/nowhere")
    assert (r.status_code, r.json()["message"]) == (404, "Not Found")
    r = client.get("/boom")
    assert (r.status_code, r.json()) == (
        500,
        {
            "error": "Internal Server Error",
            "message": "An unexpected error occurred",
            "type": "ZeroDivisionError",
        },
    )
    with pytest.raises(ZeroDivisionError):
        TestClient(app).get("/boom")


def test_002_custom_validation_error_format() -> None:
    app = FastAPI()  # harness

    # Customize validation error response format
    @app.exception_handler(RequestValidationError)
    async def custom_validation_handler(request: Request, exc: RequestValidationError):
        errors = []
        for error in exc.errors():
            errors.append(
                {
                    "field": " -> ".join(str(loc) for loc in error["loc"]),
                    "message": error["msg"],
                    "type": error["type"],
                }
            )

        return JSONResponse(
            status_code=422,
            content={
                "success": False,
                "errors": errors,
                "request_body": jsonable_encoder(exc.body),
            },
        )

    class Item(BaseModel):  # harness
        name: str  # harness
        price: float  # harness

    @app.post("/items/{item_id}")  # harness
    async def create_item(item_id: int, item: Item):  # harness
        return item  # harness

    r = TestClient(app).post("/items/x", json={"name": "Pen", "price": "free"})
    assert r.status_code == 422
    assert r.json() == {
        "success": False,
        "errors": [
            {
                "field": "path -> item_id",
                "message": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            },
            {
                "field": "body -> price",
                "message": "Input should be a valid number, unable to parse string as a number",
                "type": "float_parsing",
            },
        ],
        "request_body": {"name": "Pen", "price": "free"},
    }


def test_002_cors_configurations() -> None:
    app = FastAPI()

    # Configure CORS
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["http://localhost:3000", "https://example.com"],  # Specific origins
        # allow_origins=["*"],  # Allow all origins (not recommended for production)
        allow_credentials=True,
        allow_methods=["*"],  # Allow all methods
        allow_headers=["*"],  # Allow all headers
    )

    strict = FastAPI()  # harness: the "more restrictive" variant on its own app

    # Or more restrictive
    strict.add_middleware(
        CORSMiddleware,
        allow_origins=["https://example.com"],
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization"],
    )

    def preflight(client, method, headers="Authorization"):  # harness
        return client.options(  # harness
            "/anything",
            headers={
                "Origin": "https://example.com",
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": headers,
            },
        )

    r = preflight(TestClient(app), "DELETE", "X-Anything")
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://example.com"
    c = TestClient(strict)
    r = preflight(c, "POST")
    assert r.status_code == 200
    assert r.headers["access-control-allow-methods"] == "GET, POST"
    r = preflight(c, "DELETE")
    assert (r.status_code, r.text) == (400, "Disallowed CORS method")
    r = preflight(c, "GET", "X-Anything")
    assert (r.status_code, r.text) == (400, "Disallowed CORS headers")


def test_002_background_tasks_multiple() -> None:
    done: list[str] = []  # harness

    class UserCreate(BaseModel):  # harness
        username: str  # harness
        email: str  # harness

    async def create_user_in_db(user):  # harness
        return type("DBUser", (), {"id": 42})()  # harness

    def send_welcome_email(email):  # harness
        done.append(f"welcome {email}")  # harness

    async def send_admin_notification(username):  # harness
        done.append(f"admin {username}")  # harness

    def initialize_user_resources(user_id):  # harness
        done.append(f"init {user_id}")  # harness

    app = FastAPI()  # harness

    # Multiple background tasks
    @app.post("/signup/")
    async def signup(user: UserCreate, background_tasks: BackgroundTasks):
        # Create user
        db_user = await create_user_in_db(user)

        # Add multiple background tasks
        background_tasks.add_task(send_welcome_email, user.email)
        background_tasks.add_task(send_admin_notification, user.username)
        background_tasks.add_task(initialize_user_resources, db_user.id)

        return {"message": "User created", "user_id": db_user.id}

    r = TestClient(app).post("/signup/", json={"username": "ann", "email": "a@b.co"})
    assert r.json() == {"message": "User created", "user_id": 42}
    assert done == ["welcome a@b.co", "admin ann", "init 42"]


# ----------------------------------------------------------------------------------------
# 002: phase 9 Middleware and Event Handlers, phase 10 Testing, 11 structure, 12.4, advanced
# ----------------------------------------------------------------------------------------


def test_002_base_http_middlewares(capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from starlette.middleware.base import BaseHTTPMiddleware
    from starlette.requests import Request

    app = FastAPI()  # harness

    # Custom timing middleware
    class TimingMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next):
            start_time = time.time()
            response = await call_next(request)
            process_time = time.time() - start_time
            response.headers["X-Process-Time"] = str(process_time)
            return response

    app.add_middleware(TimingMiddleware)

    # Request logging middleware
    class LoggingMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next):
            # Log request
            print(f"Request: {request.method} {request.url}")

            # Process request
            response = await call_next(request)

            # Log response
            print(f"Response: {response.status_code}")

            return response

    app.add_middleware(LoggingMiddleware)

    # Authentication middleware
    class AuthMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next):
            # Skip auth for public routes
            if request.url.path in ["/docs", "/openapi.json", "/login"]:
                return await call_next(request)

            # Check authentication
            token = request.headers.get("Authorization")
            if not token or not token.startswith("Bearer "):
                return JSONResponse(status_code=401, content={"detail": "Unauthorized"})

            return await call_next(request)

    app.add_middleware(AuthMiddleware)

    @app.get("/login")  # harness
    def login():  # harness
        return {"login": True}  # harness

    @app.get("/private")  # harness
    def private():  # harness
        return {"private": True}  # harness

    client = TestClient(app)
    capsys.readouterr()
    r = client.get("/private")
    assert (r.status_code, r.json()) == (401, {"detail": "Unauthorized"})
    # AuthMiddleware was added last, so it is outermost: the inner ones never ran.
    assert "x-process-time" not in r.headers
    assert capsys.readouterr().out == ""
    r = client.get("/private", headers={"Authorization": "Bearer t"})
    assert r.json() == {"private": True}
    assert float(r.headers["x-process-time"]) >= 0
    assert capsys.readouterr().out == ("Request: GET http://testserver/private\nResponse: 200\n")
    assert client.get("/login").json() == {"login": True}
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_002_event_handlers_and_lifespan(capsys: pytest.CaptureFixture[str]) -> None:
    app = FastAPI()  # harness

    # FastAPI deprecates on_event in favour of lifespan; Hasten warns the same way.
    with pytest.warns(DeprecationWarning, match="on_event is deprecated"):

        @app.on_event("startup")
        async def startup_event():
            print("Application starting up...")
            # Initialize database connection pool
            # Load ML models
            # Setup caching
            # Connect to external services

    with pytest.warns(DeprecationWarning, match="on_event is deprecated"):

        @app.on_event("shutdown")
        async def shutdown_event():
            print("Application shutting down...")
            # Close database connections
            # Save state
            # Clean up resources

    with TestClient(app):
        assert capsys.readouterr().out == "Application starting up...\n"
    assert capsys.readouterr().out == "Application shutting down...\n"

    class Pool:  # harness
        closed = False  # harness

        async def close(self):  # harness
            self.closed = True  # harness

    async def create_db_pool():  # harness
        return Pool()  # harness

    async def load_ml_models():  # harness
        return {"sentiment": "model"}  # harness

    # Lifespan context manager (modern approach)
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Startup
        print("Starting up...")
        # Initialize resources
        db_pool = await create_db_pool()
        ml_models = await load_ml_models()

        # Make available to app
        app.state.db_pool = db_pool
        app.state.ml_models = ml_models

        yield

        # Shutdown
        print("Shutting down...")
        await db_pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/models")  # harness
    def models(request: Request):  # harness
        return request.app.state.ml_models  # harness

    with TestClient(app) as client:
        assert capsys.readouterr().out == "Starting up...\n"
        assert client.get("/models").json() == {"sentiment": "model"}
        pool = app.state.db_pool
        assert not pool.closed
    assert pool.closed
    assert capsys.readouterr().out == "Shutting down...\n"


def test_002_testing_with_testclient_and_overrides() -> None:
    items = {1: {"name": "Pen", "price": 1.0}}  # harness

    class Item(BaseModel):  # harness
        name: str  # harness
        price: float  # harness

    # harness: the app under test, assembled from the course's phases 1-6
    app = FastAPI()

    @app.get("/")
    async def root():
        return {"message": "Hello World"}

    @app.post("/items/", response_model=Item, status_code=201)
    async def create_item(item: Item):
        return item

    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        if item_id not in items:
            raise HTTPException(status_code=404, detail="Item not found")
        return items[item_id]

    opened: list[str] = []  # harness

    class Session:  # harness
        def __init__(self, name):  # harness
            self.name = name  # harness
            opened.append(name)  # harness

        def close(self):  # harness
            opened.append(f"close {self.name}")  # harness

    SessionLocal = lambda: Session("prod")  # noqa: E731 - harness
    TestSessionLocal = lambda: Session("test")  # noqa: E731 - harness

    # Original dependency
    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()

    @app.get("/users/")  # harness
    def read_users(db=Depends(get_db)):  # harness
        return {"db": db.name}  # harness

    client = TestClient(app)

    def test_read_main():
        response = client.get("/")
        assert response.status_code == 200
        assert response.json() == {"message": "Hello World"}

    def test_create_item():
        response = client.post("/items/", json={"name": "Test Item", "price": 10.5})
        assert response.status_code == 201
        assert response.json()["name"] == "Test Item"

    def test_read_item_not_found():
        response = client.get("/items/999")
        assert response.status_code == 404

    test_read_main()
    test_create_item()
    test_read_item_not_found()

    # Test dependency
    def override_get_db():
        db = TestSessionLocal()
        try:
            yield db
        finally:
            db.close()

    # Override in tests
    app.dependency_overrides[get_db] = override_get_db

    def test_with_overridden_db():
        response = client.get("/users/")
        assert response.status_code == 200
        assert response.json() == {"db": "test"}  # harness

    test_with_overridden_db()
    assert opened == ["test", "close test"]

    # Reset overrides after tests
    app.dependency_overrides = {}
    assert client.get("/users/").json() == {"db": "prod"}
    # A fresh dict assigned to dependency_overrides is honoured as well.
    app.dependency_overrides = {get_db: override_get_db}
    assert client.get("/users/").json() == {"db": "test"}


def test_002_main_application_setup_and_routers() -> None:
    class Settings:  # harness: stands in for app/core/config.py (needs env vars)
        PROJECT_NAME = "My FastAPI Project"  # harness
        VERSION = "1.0.0"  # harness
        DESCRIPTION = "API Description"  # harness
        API_V1_STR = "/api/v1"  # harness
        ALLOWED_ORIGINS = ["http://localhost:3000"]  # harness

    settings = Settings()  # harness

    auth_router = APIRouter()  # harness: app/api/v1/endpoints/auth.py

    @auth_router.post("/login")  # harness
    def login():  # harness
        return {"token": "t"}  # harness

    users_router = APIRouter()  # harness: app/api/v1/endpoints/users.py (no crud)

    @users_router.get("/{user_id}")  # harness
    def read_user(user_id: int):  # harness
        return {"id": user_id}  # harness

    # app/api/v1/router.py
    api_router = APIRouter()

    api_router.include_router(auth_router, prefix="/auth", tags=["authentication"])

    api_router.include_router(users_router, prefix="/users", tags=["users"])

    # app/main.py
    app = FastAPI(
        title=settings.PROJECT_NAME,
        version=settings.VERSION,
        description=settings.DESCRIPTION,
        openapi_url=f"{settings.API_V1_STR}/openapi.json",
        docs_url=f"{settings.API_V1_STR}/docs",
        redoc_url=f"{settings.API_V1_STR}/redoc",
    )

    # CORS
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.ALLOWED_ORIGINS,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )

    # Include routers
    app.include_router(api_router, prefix=settings.API_V1_STR)

    @app.get("/health")
    async def health_check():
        return {"status": "healthy"}

    client = TestClient(app)
    assert client.get("/health").json() == {"status": "healthy"}
    assert client.post("/api/v1/auth/login").json() == {"token": "t"}
    assert client.get("/api/v1/users/3").json() == {"id": 3}
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/docs").status_code == 404
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "/api/v1/openapi.json" in docs.text
    assert client.get("/api/v1/redoc").status_code == 200
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "My FastAPI Project"
    assert spec["paths"]["/api/v1/users/{user_id}"]["get"]["tags"] == ["users"]
    assert spec["paths"]["/api/v1/auth/login"]["post"]["tags"] == ["authentication"]


def test_002_response_compression() -> None:
    app = FastAPI()  # harness

    app.add_middleware(GZipMiddleware, minimum_size=1000)

    @app.get("/rows")  # harness
    def rows():  # harness
        return [{"id": i, "name": "row"} for i in range(200)]  # harness

    r = TestClient(app).get("/rows", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert len(r.json()) == 200


def test_002_websocket_connection_manager() -> None:
    app = FastAPI()  # harness

    class ConnectionManager:
        def __init__(self):
            self.active_connections: list[WebSocket] = []

        async def connect(self, websocket: WebSocket):
            await websocket.accept()
            self.active_connections.append(websocket)

        def disconnect(self, websocket: WebSocket):
            self.active_connections.remove(websocket)

        async def broadcast(self, message: str):
            for connection in self.active_connections:
                await connection.send_text(message)

    manager = ConnectionManager()

    @app.websocket("/ws/{client_id}")
    async def websocket_endpoint(websocket: WebSocket, client_id: int):
        await manager.connect(websocket)
        try:
            while True:
                data = await websocket.receive_text()
                await manager.broadcast(f"Client {client_id}: {data}")
        except WebSocketDisconnect:
            manager.disconnect(websocket)
            await manager.broadcast(f"Client {client_id} disconnected")

    client = TestClient(app)
    with client.websocket_connect("/ws/1") as one:
        with client.websocket_connect("/ws/2") as two:
            two.send_text("hello")
            # TestClient runs each WebSocket session on its own event loop, so a message
            # pushed from another session's handler may not wake a receive that is already
            # waiting. Reading the sender's own copy first (it is broadcast last) makes
            # every cross-session message already queued when it is read.
            assert two.receive_text() == "Client 2: hello"
            assert one.receive_text() == "Client 2: hello"
        assert one.receive_text() == "Client 2 disconnected"
    assert manager.active_connections == []
    # client_id is an int path parameter: a non-int closes the socket with 1008.
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws/abc"):
            pass  # pragma: no cover
    assert info.value.code == status.WS_1008_POLICY_VIOLATION


def test_002_logging_middleware_and_probes(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    app = FastAPI()  # harness
    logger = logging.getLogger("tutorial.logging")  # the course uses __name__

    # Request logging middleware
    @app.middleware("http")
    async def log_requests(request: Request, call_next):
        logger.info(f"Request: {request.method} {request.url}")
        response = await call_next(request)
        logger.info(f"Response: {response.status_code}")
        return response

    @app.get("/readiness")
    async def readiness_check():
        # Check if app is ready to serve traffic
        return {"ready": True}

    @app.get("/liveness")
    async def liveness_check():
        # Check if app is alive
        return {"alive": True}

    client = TestClient(app)
    with caplog.at_level(logging.INFO, logger="tutorial.logging"):
        assert client.get("/readiness").json() == {"ready": True}
        assert client.get("/liveness").json() == {"alive": True}
        assert client.get("/nope").status_code == 404
    assert [r.getMessage() for r in caplog.records if r.name == "tutorial.logging"] == [
        "Request: GET http://testserver/readiness",
        "Response: 200",
        "Request: GET http://testserver/liveness",
        "Response: 200",
        "Request: GET http://testserver/nope",
        "Response: 404",
    ]


# ----------------------------------------------------------------------------------------
# 003 cheat sheet
# ----------------------------------------------------------------------------------------


def test_003_minimal_app_return_annotations() -> None:
    app = FastAPI(title="My API", version="1.0.0")

    class User(BaseModel):
        name: str
        email: str

    @app.get("/users/{user_id}")
    async def get_user(user_id: int) -> User:
        return User(name="Alice", email="alice@example.com")

    @app.post("/users", status_code=201)
    async def create_user(user: User) -> User:
        # user is already validated Pydantic model
        return user

    client = TestClient(app)

    def test_get_user():
        client = TestClient(app)
        response = client.get("/users/1")
        assert response.status_code == 200
        assert response.json()["name"] == "Alice"

    test_get_user()
    r = client.post("/users", json={"name": "Bob", "email": "bob@test.com", "extra": 1})
    assert (r.status_code, r.json()) == (201, {"name": "Bob", "email": "bob@test.com"})
    assert client.post("/users", json={"name": "Bob"}).status_code == 422
    spec = client.get("/openapi.json").json()
    assert spec["info"] == {"title": "My API", "version": "1.0.0"}
    ok = spec["paths"]["/users/{user_id}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/User"}


def test_003_path_query_body_parameters() -> None:
    app = FastAPI()  # harness

    class User(BaseModel):  # harness: from the Minimal App snippet
        name: str  # harness
        email: str  # harness

    # Path parameter — required
    @app.get("/items/{item_id}")
    async def get_item(item_id: int = Path(gt=0)):  # validation: > 0
        ...

    # Query parameters — optional with default
    @app.get("/items")
    async def list_items(
        skip: int = Query(0, ge=0), limit: int = Query(10, le=100), search: Optional[str] = None
    ): ...

    # Request body — Pydantic model
    class CreateItem(BaseModel):
        name: str
        price: float
        tags: list[str] = []

    @app.post("/items")
    async def create_item(item: CreateItem): ...

    # Multiple body params
    @app.put("/items/{item_id}")
    async def update_item(
        item_id: int,
        item: CreateItem,
        user: User = Body(embed=True),  # nest under "user" key in JSON
    ): ...

    # The handlers' bodies are `...` in the course, so they answer null; the checks are on
    # what reaches them: validation, and the shape of the combined body.
    client = TestClient(app)
    assert client.get("/items/1").json() is None
    assert client.get("/items/0").json()["detail"][0]["type"] == "greater_than"
    assert client.get("/items?skip=1&limit=100&search=x").json() is None
    assert client.get("/items?limit=101").status_code == 422
    assert client.get("/items?skip=-1").status_code == 422
    assert client.post("/items", json={"name": "Pen", "price": 1}).json() is None
    body = {"item": {"name": "Pen", "price": 1}, "user": {"name": "A", "email": "a@b.co"}}
    assert client.put("/items/1", json=body).status_code == 200
    r = client.put("/items/1", json={"item": body["item"]})
    assert r.json()["detail"][0]["loc"] == ["body", "user"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    (body_schema,) = [s for name, s in schema.items() if name.startswith("Body_update_item")]
    assert set(body_schema["required"]) == {"item", "user"}


def test_003_response_models_di_background_errors_lifespan() -> None:
    events: list[str] = []  # harness

    class FakeDB:  # harness
        async def get_user(self, user_id):  # harness
            if user_id == 1:  # harness
                return {"id": 1, "name": "Alice", "password": "secret"}  # harness
            return None  # harness

        async def list_users(self):  # harness
            return [{"id": 1, "name": "Alice", "password": "secret"}]  # harness

        async def create_user(self, user):  # harness
            return {"id": 2, **user.model_dump()}  # harness

        async def connect(self):  # harness
            events.append("db connect")  # harness

        async def disconnect(self):  # harness
            events.append("db disconnect")  # harness

    class FakeRedis:  # harness
        async def connect(self):  # harness
            events.append("redis connect")  # harness

        async def disconnect(self):  # harness
            events.append("redis disconnect")  # harness

    class EmailClient:  # harness
        def send(self, email, message):  # harness
            events.append(f"email {email} {message}")  # harness

    db, redis, email_client = FakeDB(), FakeRedis(), EmailClient()  # harness

    class CreateUser(BaseModel):  # harness
        name: str  # harness
        email: str  # harness

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # startup
        await db.connect()
        await redis.connect()
        yield
        # shutdown
        await db.disconnect()
        await redis.disconnect()

    app = FastAPI(lifespan=lifespan)

    class UserResponse(BaseModel):
        id: int
        name: str
        # no password field — response model strips it

    @app.get("/users/{user_id}", response_model=UserResponse)
    async def get_user(user_id: int):
        user = await db.get_user(user_id)
        if not user:
            raise HTTPException(status_code=404, detail="User not found")
        return user  # FastAPI validates against UserResponse automatically

    # Custom response
    @app.get("/users")
    async def list_users() -> list[UserResponse]:
        users = await db.list_users()
        return users

    def send_email(email: str, message: str):
        # runs after response is sent
        email_client.send(email, message)

    @app.post("/register")
    async def register(user: CreateUser, background_tasks: BackgroundTasks):
        created = await db.create_user(user)
        background_tasks.add_task(send_email, user.email, "Welcome!")
        return created  # response sent immediately, email sends after

    # Custom exception
    class AppError(Exception):
        def __init__(self, message: str, code: int = 400):
            self.message = message
            self.code = code

    # Global handler
    @app.exception_handler(AppError)
    async def app_error_handler(request: Request, exc: AppError):
        return JSONResponse(status_code=exc.code, content={"error": exc.message})

    @app.exception_handler(RequestValidationError)
    async def validation_handler(request, exc):
        return JSONResponse(status_code=422, content={"detail": exc.errors(), "body": exc.body})

    @app.get("/fail")  # harness
    async def fail():  # harness
        raise AppError("quota exceeded", 429)  # harness

    with TestClient(app) as client:
        assert events == ["db connect", "redis connect"]
        assert client.get("/users/1").json() == {"id": 1, "name": "Alice"}
        r = client.get("/users/2")
        assert (r.status_code, r.json()) == (404, {"detail": "User not found"})
        assert client.get("/users").json() == [{"id": 1, "name": "Alice"}]
        r = client.post("/register", json={"name": "Bob", "email": "bob@test.com"})
        assert r.json() == {"id": 2, "name": "Bob", "email": "bob@test.com"}
        assert events[-1] == "email bob@test.com Welcome!"
        r = client.get("/fail")
        assert (r.status_code, r.json()) == (429, {"error": "quota exceeded"})
        r = client.post("/register", json={"name": "Bob"})
        assert r.status_code == 422
        assert r.json()["body"] == {"name": "Bob"}
        assert r.json()["detail"][0]["loc"] == ["body", "email"]
    assert events[-2:] == ["db disconnect", "redis disconnect"]


def test_003_cors_and_timing_middleware() -> None:
    import time

    from starlette.middleware.base import BaseHTTPMiddleware

    app = FastAPI()  # harness

    # CORS
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://myapp.com"],
        allow_methods=["*"],
        allow_headers=["*"],
    )

    # Custom middleware
    class TimingMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            start = time.time()
            response = await call_next(request)
            duration = time.time() - start
            response.headers["X-Process-Time"] = str(duration)
            return response

    app.add_middleware(TimingMiddleware)

    @app.get("/x")  # harness
    def x():  # harness
        return {"x": 1}  # harness

    r = TestClient(app).get("/x", headers={"Origin": "https://myapp.com"})
    assert r.json() == {"x": 1}
    assert r.headers["access-control-allow-origin"] == "https://myapp.com"
    assert float(r.headers["x-process-time"]) >= 0


def test_003_routers_modular_structure() -> None:
    # routers/users.py
    router = APIRouter(prefix="/users", tags=["users"])

    @router.get("/")
    async def list_users(): ...

    @router.post("/")
    async def create_user(): ...

    items_router = APIRouter(prefix="/items", tags=["items"])  # harness: routers/items.py

    @items_router.get("/")  # harness
    async def list_items():  # harness
        return []  # harness

    # main.py
    app = FastAPI()  # harness
    app.include_router(router)
    app.include_router(items_router, prefix="/api/v1")

    client = TestClient(app)
    assert client.get("/users/").json() is None
    assert client.post("/users/").json() is None
    assert client.get("/api/v1/items/").json() == []
    assert client.get("/users", follow_redirects=False).status_code == 307
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {"/users/", "/api/v1/items/"}
    assert paths["/users/"]["post"]["tags"] == ["users"]


# ----------------------------------------------------------------------------------------
# 004 DevRecall notes: Path Operations & Pydantic, Dependency Injection & Async
# ----------------------------------------------------------------------------------------


def make_004_models() -> dict[str, Any]:
    """The "Pydantic Models" snippet of 004, which the app snippets use."""

    class UserRole(str, Enum):
        admin = "admin"
        user = "user"

    class UserBase(BaseModel):
        email: EmailStr
        name: str = Field(..., min_length=2, max_length=100)
        role: UserRole = UserRole.user

    class UserCreate(UserBase):
        password: str = Field(..., min_length=8)

        @field_validator("password")
        @classmethod
        def password_must_have_uppercase(cls, v: str) -> str:
            if not any(c.isupper() for c in v):
                raise ValueError("Password must contain uppercase letter")
            return v

    class UserResponse(UserBase):
        id: int
        created_at: dt.datetime

        model_config = {"from_attributes": True}  # enables ORM mode

    class UserUpdate(BaseModel):
        name: Optional[str] = Field(None, min_length=2)
        bio: Optional[str] = None

    # Nested models
    class Address(BaseModel):
        street: str
        city: str
        country: str = "US"

    class UserWithAddress(UserBase):
        address: Optional[Address] = None
        tags: list[str] = []
        metadata: dict[str, str] = {}

    return locals()


def test_004_pydantic_models_usage() -> None:
    m = make_004_models()
    UserCreate = m["UserCreate"]

    # Usage
    user = UserCreate(email="user@example.com", name="Alice", password="Password1")
    assert user.model_dump() == {
        "email": "user@example.com",
        "name": "Alice",
        "role": m["UserRole"].user,
        "password": "Password1",
    }
    assert user.model_dump_json() == (
        '{"email":"user@example.com","name":"Alice","role":"user","password":"Password1"}'
    )
    user_dict = {"email": "a@b.com", "name": "Bob", "password": "StrongPass1"}
    user = UserCreate.model_validate(user_dict)
    assert user.name == "Bob"
    with pytest.raises(ValidationError, match="Password must contain uppercase letter"):
        UserCreate(email="a@b.com", name="Bob", password="password1")


def test_004_app_setup_and_routing() -> None:
    UserCreate = make_004_models()["UserCreate"]

    class FakeDB:  # harness
        def get(self, item_id):  # harness
            return {"id": item_id} if item_id == 1 else None  # harness

    db = FakeDB()  # harness

    app = FastAPI(
        title="My API",
        description="FastAPI example",
        version="1.0.0",
        docs_url="/docs",  # Swagger UI
        redoc_url="/redoc",  # ReDoc
    )

    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://myapp.com"],
        allow_methods=["*"],
        allow_headers=["*"],
        allow_credentials=True,
    )

    # Path operations
    @app.get("/")
    def root():
        return {"message": "Hello World"}

    @app.get("/items/{item_id}")
    def get_item(item_id: int):  # auto-validates int
        return {"id": item_id}

    # Query parameters
    @app.get("/users")
    def list_users(
        page: int = 1,
        limit: int = 10,
        search: str | None = None,  # optional
        active: bool = True,
    ):
        return {"page": page, "limit": limit, "search": search}

    # Multiple path params
    @app.get("/users/{user_id}/posts/{post_id}")
    def get_user_post(user_id: int, post_id: int):
        return {"user_id": user_id, "post_id": post_id}

    # Response status codes
    @app.post("/users", status_code=status.HTTP_201_CREATED)
    def create_user(user: UserCreate):
        return {"id": 1, **user.model_dump()}

    @app.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete_user(user_id: int):
        pass

    # HTTP errors
    def get_or_404(item_id: int):
        item = db.get(item_id)
        if not item:
            raise HTTPException(
                status_code=status.HTTP_404_NOT_FOUND,
                detail=f"Item {item_id} not found",
            )
        return item

    @app.get("/checked/{item_id}")  # harness: get_or_404 used as a dependency
    def checked(item=Depends(get_or_404)):  # harness
        return item  # harness

    client = TestClient(app)
    assert client.get("/").json() == {"message": "Hello World"}
    assert client.get("/items/3").json() == {"id": 3}
    assert client.get("/users?page=2&search=al&active=no").json() == {
        "page": 2,
        "limit": 10,
        "search": "al",
    }
    assert client.get("/users/1/posts/2").json() == {"user_id": 1, "post_id": 2}
    r = client.post("/users", json={"email": "a@b.com", "name": "Alice", "password": "Password1"})
    assert r.status_code == 201
    assert r.json() == {
        "id": 1,
        "email": "a@b.com",
        "name": "Alice",
        "role": "user",
        "password": "Password1",
    }
    r = client.post("/users", json={"email": "a@b.com", "name": "A", "password": "password1"})
    assert [e["loc"][-1] for e in r.json()["detail"]] == ["name", "password"]
    r = client.delete("/users/1")
    assert (r.status_code, r.content) == (204, b"")
    assert client.get("/checked/1").json() == {"id": 1}
    r = client.get("/checked/2")
    assert (r.status_code, r.json()) == (404, {"detail": "Item 2 not found"})
    r = client.options(
        "/",
        headers={"Origin": "https://myapp.com", "Access-Control-Request-Method": "GET"},
    )
    assert r.headers["access-control-allow-credentials"] == "true"
    assert client.get("/redoc").status_code == 200


def test_004_request_body_and_response_models() -> None:
    m = make_004_models()
    UserCreate, UserResponse, UserUpdate = m["UserCreate"], m["UserResponse"], m["UserUpdate"]
    created = dt.datetime(2024, 1, 2, 3, 4, 5)  # harness

    def create_in_db(user):  # harness: returns an ORM-like object
        return type(  # harness
            "Row",
            (),
            {**user.model_dump(), "id": 7, "created_at": created},  # harness
        )()  # harness

    class FakeDB:  # harness
        def get_all_users(self):  # harness
            return [create_in_db(UserCreate(email="a@b.com", name="Al", password="Password1"))]

    db = FakeDB()  # harness
    app = FastAPI()  # harness

    # Request body
    @app.post("/users", response_model=UserResponse, status_code=201)
    def create_user(user: UserCreate) -> UserResponse:
        # response_model filters output — only UserResponse fields returned
        db_user = create_in_db(user)
        return db_user

    # Multiple body params
    @app.put("/users/{user_id}")
    def update_user(
        user_id: int,
        user: UserUpdate,
        reason: str = Body(..., embed=True),  # extra body field
    ):
        return {"id": user_id, "reason": reason, **user.model_dump(exclude_none=True)}

    # List response
    @app.get("/users", response_model=list[UserResponse])
    def list_users():
        return db.get_all_users()

    # Custom response
    @app.get("/export")
    def export():
        def generate():
            # The course's text shows these literals broken over two lines (a lost "\n");
            # they are restored here.
            yield "col1,col2\n"
            yield "a,b\n"

        return StreamingResponse(
            generate(),
            media_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=data.csv"},
        )

    client = TestClient(app)
    r = client.post("/users", json={"email": "a@b.com", "name": "Al", "password": "Password1"})
    expected = {
        "email": "a@b.com",
        "name": "Al",
        "role": "user",
        "id": 7,
        "created_at": "2024-01-02T03:04:05",
    }
    assert (r.status_code, r.json()) == (201, expected)
    assert client.get("/users").json() == [expected]
    r = client.put("/users/3", json={"user": {"name": "Bo"}, "reason": "typo"})
    assert r.json() == {"id": 3, "reason": "typo", "name": "Bo"}
    r = client.put("/users/3", json={"user": {"name": "Bo"}})
    assert r.json()["detail"][0]["loc"] == ["body", "reason"]
    r = client.get("/export")
    assert r.text == "col1,col2\na,b\n"
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == "attachment; filename=data.csv"


def test_004_routers_apirouter() -> None:
    # routers/users.py
    router = APIRouter(prefix="/users", tags=["users"])

    @router.get("/")
    def list_users():
        return []

    @router.get("/{user_id}")
    def get_user(user_id: int):
        return {"id": user_id}

    auth_router = APIRouter()  # harness: routers/auth.py

    @auth_router.post("/token")  # harness
    def token():  # harness
        return {"access_token": "t"}  # harness

    posts_router = APIRouter(prefix="/posts")  # harness: routers/posts.py

    @posts_router.get("/")  # harness
    def posts():  # harness
        return ["p"]  # harness

    # main.py
    app = FastAPI()  # harness
    app.include_router(auth_router, prefix="/auth", tags=["auth"])
    app.include_router(router)
    app.include_router(posts_router, prefix="/api/v1")

    client = TestClient(app)
    assert client.get("/users/").json() == []
    assert client.get("/users/5").json() == {"id": 5}
    assert client.post("/auth/token").json() == {"access_token": "t"}
    assert client.get("/api/v1/posts/").json() == ["p"]
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/auth/token"]["post"]["tags"] == ["auth"]


def test_004_dependency_injection_and_async_handlers() -> None:
    sent: list[str] = []  # harness

    class FakeDB:  # harness
        async def get_user(self, user_id):  # harness
            return {"id": user_id}  # harness

        async def get_orders(self, user_id):  # harness
            return [1, 2]  # harness

        async def get_stats(self, user_id):  # harness
            return {"orders": 2}  # harness

    db = FakeDB()  # harness

    def send_welcome_email(email):  # harness
        sent.append(email)  # harness

    app = FastAPI()  # harness
    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")

    # Simple dependency
    def common_pagination(page: int = 1, limit: int = 10):
        return {"skip": (page - 1) * limit, "limit": limit}

    @app.get("/items")
    def list_items(pagination: dict = Depends(common_pagination)):
        return {"pagination": pagination}

    # Background tasks
    @app.post("/email")
    async def send_email(
        email: str,
        background_tasks: BackgroundTasks,
    ):
        background_tasks.add_task(send_welcome_email, email)  # runs after response
        return {"message": "Email queued"}

    # Parallel async calls
    import asyncio

    @app.get("/dashboard")
    async def dashboard(user_id: int):
        users_task = asyncio.create_task(db.get_user(user_id))
        orders_task = asyncio.create_task(db.get_orders(user_id))
        stats_task = asyncio.create_task(db.get_stats(user_id))
        user, orders, stats = await asyncio.gather(users_task, orders_task, stats_task)
        return {"user": user, "orders": orders, "stats": stats}

    @app.get("/token-echo")  # harness: the oauth2_scheme of this snippet
    def token_echo(token: str = Depends(oauth2_scheme)):  # harness
        return {"token": token}  # harness

    client = TestClient(app)
    assert client.get("/items?page=3&limit=5").json() == {"pagination": {"skip": 10, "limit": 5}}
    assert client.post("/email?email=a@b.co").json() == {"message": "Email queued"}
    assert sent == ["a@b.co"]
    assert client.get("/dashboard?user_id=4").json() == {
        "user": {"id": 4},
        "orders": [1, 2],
        "stats": {"orders": 2},
    }
    assert client.get("/token-echo").status_code == 401
    r = client.get("/token-echo", headers={"Authorization": "Bearer abc"})
    assert r.json() == {"token": "abc"}
    flows = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert flows["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/auth/token"


def test_004_middleware_and_exception_handlers() -> None:
    import time

    app = FastAPI()  # harness

    # Middleware
    @app.middleware("http")
    async def add_process_time(request: Request, call_next):
        start = time.time()
        response = await call_next(request)
        response.headers["X-Process-Time"] = str(time.time() - start)
        return response

    # Global exception handler
    @app.exception_handler(Exception)
    async def global_exception_handler(request: Request, exc: Exception):
        return JSONResponse(
            status_code=500,
            content={"detail": "Internal server error"},
        )

    # Custom exception
    class AppError(Exception):
        def __init__(self, message: str, status_code: int = 400):
            self.message = message
            self.status_code = status_code

    @app.exception_handler(AppError)
    async def app_error_handler(request: Request, exc: AppError):
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": exc.message},
        )

    @app.get("/app-error")  # harness
    def app_error():  # harness
        raise AppError("bad input")  # harness

    @app.get("/crash")  # harness
    def crash():  # harness
        raise RuntimeError("boom")  # harness

    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/app-error")
    assert (r.status_code, r.json()) == (400, {"detail": "bad input"})
    assert float(r.headers["x-process-time"]) >= 0
    r = client.get("/crash")
    assert (r.status_code, r.json()) == (500, {"detail": "Internal server error"})


def test_004_interview_testing_snippet() -> None:
    UserCreate = make_004_models()["UserCreate"]
    app = FastAPI()  # harness: the app of the "App Setup & Routing" snippet

    @app.post("/users", status_code=status.HTTP_201_CREATED)
    def create_user(user: UserCreate):
        return {"id": 1, **user.model_dump()}

    @app.get("/users/{user_id}")  # harness: a lookup that 404s, as in the DI snippet
    async def get_user(user_id: int):  # harness
        raise HTTPException(404, "User not found")  # harness

    client = TestClient(app)

    # The course's test posts password "Strong1" (7 chars) against `min_length=8`, so the
    # real answer is 422, not the 201 its test expects; with an 8-char password it is 201.
    response = client.post(
        "/users", json={"email": "a@b.com", "name": "Alice", "password": "Strong1"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "string_too_short"
    response = client.post(
        "/users", json={"email": "a@b.com", "name": "Alice", "password": "Strong12"}
    )
    assert response.status_code == 201
    assert response.json()["email"] == "a@b.com"

    def test_get_user_not_found():
        response = client.get("/users/99999")
        assert response.status_code == 404

    test_get_user_not_found()
