"""The OpenAPI document is made from what each route compiled, and follows what changes.

Body fields, embedding and request keys are the engine's (``route.body_params_flat``,
``route.embed_body_fields``, ``ParamField.keys``, ``model_keys``); parameters and security come
from ``route.dependant`` as it is when the document is made. Nothing is kept that outlives what
it was made from: a model rebuilt with ``model_rebuild()``, or a dependency a library appends
to a route's dependant in place, shows in the next document.
"""

import gc
import weakref
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, Field
from pydantic.errors import PydanticUserError

from hasten import Body, Depends, FastAPI, Form, Header, Query, Security
from hasten.dependencies.utils import get_dependant
from hasten.exceptions import HastenError
from hasten.openapi.utils import get_openapi
from hasten.routing import APIRoute
from hasten.security import APIKeyHeader, OAuth2PasswordBearer
from hasten.testclient import TestClient


def _document(app: FastAPI) -> dict[str, Any]:
    """A fresh document (``app.openapi()`` keeps the first one it makes)."""
    return get_openapi(title=app.title, version=app.version, routes=app.routes)


def _route(app: FastAPI, path: str) -> APIRoute:
    return next(r for r in app.routes if isinstance(r, APIRoute) and r.path == path)


def _parameters(document: dict[str, Any], path: str, method: str = "get") -> list[Any]:
    return [(p["in"], p["name"]) for p in document["paths"][path][method].get("parameters", [])]


# --- what is kept follows what it was made from ------------------------------------------------


def test_dependency_appended_in_place_is_documented() -> None:
    app = FastAPI()

    @app.get("/items")
    def items(q: str | None = None) -> list[int]:
        return []

    assert _parameters(_document(app), "/items") == [("query", "q")]

    def paging(page: int = 1, x_tenant: Annotated[str, Header()] = "") -> None:
        return None

    scheme = APIKeyHeader(name="X-Key")

    def keyed(key: str = Depends(scheme)) -> str:
        return key

    route = _route(app, "/items")
    route.dependant.dependencies.append(get_dependant(path=route.path_format, call=paging))
    route.dependant.dependencies.append(get_dependant(path=route.path_format, call=keyed))
    document = _document(app)
    assert _parameters(document, "/items") == [
        ("query", "q"),
        ("query", "page"),
        ("header", "x-tenant"),
    ]
    assert document["paths"]["/items"]["get"]["security"] == [{"APIKeyHeader": []}]

    route.dependant.dependencies.clear()
    document = _document(app)
    assert _parameters(document, "/items") == [("query", "q")]
    assert "security" not in document["paths"]["/items"]["get"]


def _document_once_defined(app: FastAPI, model: type[BaseModel], late: type) -> dict[str, Any]:
    """The document made after ``late`` is defined in this module and ``model`` rebuilt."""
    globals()[late.__name__] = late
    try:
        model.model_rebuild()
        return _document(app)
    finally:
        del globals()[late.__name__]


class Later(BaseModel):
    """A query-parameter model whose field refers to a class defined afterwards."""

    where: "Child | None" = None  # noqa: F821  (defined by the test)
    limit: int = 10


def test_query_model_rebuilt_after_a_failed_document() -> None:
    app = FastAPI()

    @app.get("/search")
    def search(filters: Annotated[Later, Query()]) -> None:
        return None

    with pytest.raises(PydanticUserError) as caught:
        _document(app)
    assert isinstance(caught.value, HastenError)
    assert "GET /search: the query parameter 'where'" in str(caught.value)
    assert caught.value.code == "class-not-fully-defined"

    class Child(BaseModel):
        name: str

    document = _document_once_defined(app, Later, Child)
    where = document["paths"]["/search"]["get"]["parameters"][0]
    assert where["name"] == "where"
    assert where["schema"]["anyOf"][0] == {"$ref": "#/components/schemas/Child"}
    assert document["components"]["schemas"]["Child"]["required"] == ["name"]


class Order(BaseModel):
    """A body model whose field refers to a class defined afterwards."""

    line: "Line"  # noqa: F821  (defined by the test)


def test_body_model_rebuilt_after_a_failed_document() -> None:
    app = FastAPI()

    @app.post("/orders")
    def create(order: Order) -> None:
        return None

    with pytest.raises(PydanticUserError):
        _document(app)

    class Line(BaseModel):
        sku: str

    document = _document_once_defined(app, Order, Line)
    body = document["paths"]["/orders"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Order"}
    assert document["components"]["schemas"]["Order"]["properties"]["line"] == {
        "$ref": "#/components/schemas/Line"
    }


def test_routes_are_not_kept_alive_by_the_document() -> None:
    class Gone(BaseModel):
        a: int

    app = FastAPI()

    @app.post("/gone")
    def gone(item: Gone, q: Annotated[int, Query(ge=1)] = 1) -> None:
        return None

    route = weakref.ref(_route(app, "/gone"))
    assert "/gone" in _document(app)["paths"]
    del app, gone
    gc.collect()
    assert route() is None


# --- the engine's rules, one definition ------------------------------------------------------


def test_request_keys_of_parameters_and_model_fields() -> None:
    class Filters(BaseModel):
        model_config = ConfigDict(populate_by_name=True)

        page_size: int = Field(1, alias="pageSize")
        order_by: str = "id"

    app = FastAPI()

    @app.get("/things")
    def things(
        filters: Annotated[Filters, Query()],
        x_token: Annotated[str, Header()] = "",
        raw_name: Annotated[str, Header(alias="raw_name")] = "",
        kept: Annotated[str, Header(convert_underscores=False)] = "",
        item_id: Annotated[int | None, Query(validation_alias="itemId")] = None,
    ) -> None:
        return None

    assert _parameters(_document(app), "/things") == [
        ("query", "pageSize"),
        ("query", "order_by"),
        ("query", "itemId"),
        ("header", "x-token"),
        ("header", "raw-name"),  # FastAPI documents an alias equal to the name converted
        ("header", "kept"),
    ]
    with TestClient(app) as client:  # the keys the engine reads are the documented ones
        response = client.get("/things?pageSize=3&itemId=4", headers={"x-token": "t"})
    assert response.status_code == 200


@dataclass
class Point:
    x: int = 0


def test_model_config_does_not_apply_to_a_dataclass_field() -> None:
    class Area(BaseModel):
        model_config = ConfigDict(populate_by_name=True)

        corner: Point = Point()
        size: int = 1

    app = FastAPI()

    @app.get("/area")
    def area(region: Annotated[Area, Query()]) -> None:
        return None

    document = _document(app)
    assert _parameters(document, "/area") == [("query", "corner"), ("query", "size")]
    corner = document["paths"]["/area"]["get"]["parameters"][0]["schema"]
    assert corner == {"$ref": "#/components/schemas/Point", "default": {"x": 0}}


def test_body_embedding_is_the_routes() -> None:
    class Item(BaseModel):
        name: str

    app = FastAPI()

    @app.post("/single")
    def single(item: Item) -> None:
        return None

    @app.post("/embedded")
    def embedded(item: Annotated[Item, Body(embed=True)]) -> None:
        return None

    @app.post("/form")
    def form(name: Annotated[str, Form()], age: Annotated[int, Form()] = 0) -> None:
        return None

    document = _document(app)
    for path in ("/single", "/embedded", "/form"):
        route = _route(app, path)
        content = document["paths"][path]["post"]["requestBody"]["content"]
        (schema,) = (c["schema"] for c in content.values())
        ref = schema["$ref"].rsplit("/", 1)[1]
        assert (ref == f"Body_{route.unique_id}") is route.embed_body_fields
    assert list(document["paths"]["/form"]["post"]["requestBody"]["content"]) == [
        "application/x-www-form-urlencoded"
    ]


def test_dependency_shared_by_cache_key_is_documented_once() -> None:
    def common(q: str = "") -> str:
        return q

    def first(c: str = Depends(common)) -> str:
        return c

    def second(c: str = Depends(common), d: str = Depends(common, use_cache=False)) -> str:
        return c + d

    app = FastAPI()

    @app.get("/shared")
    def shared(a: str = Depends(first), b: str = Depends(second)) -> None:
        return None

    assert _parameters(_document(app), "/shared") == [("query", "q")]


@dataclass(frozen=True)
class Checker:
    """A dependency instance: two equal instances have equal cache keys."""

    name: str

    def __call__(self, q: Annotated[str, Query(alias="q-x")] = "") -> str:
        return self.name


def test_equal_calls_are_one_dependency_and_scopes_are_merged() -> None:
    oauth = OAuth2PasswordBearer(tokenUrl="token", scopes={"a": "A", "b": "B"})

    def user(token: str = Depends(oauth)) -> str:
        return token

    app = FastAPI()

    @app.get("/")
    def endpoint(
        a: str = Depends(Checker("one")),
        b: str = Depends(Checker("one")),
        c: str = Security(user, scopes=["a"]),
        d: str = Security(user, scopes=["b"]),
    ) -> None:
        return None

    operation = _document(app)["paths"]["/"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["q-x"]
    assert operation["security"] == [{"OAuth2PasswordBearer": ["a", "b"]}]


# --- errors --------------------------------------------------------------------------------


class Broken(BaseModel):
    child: "Missing"  # type: ignore[name-defined]  # noqa: F821


def test_unresolvable_forward_reference_is_pydantics_error_and_a_hasten_error() -> None:
    app = FastAPI()

    @app.post("/")
    def endpoint(m: Broken) -> str:
        return "x"

    with pytest.raises(PydanticUserError) as caught:
        app.openapi()
    error = caught.value
    assert isinstance(error, HastenError)
    message = str(error)
    assert message.startswith(
        "Cannot generate the OpenAPI schema of POST /: the request body 'm' (Broken), "
        "field 'child' of type ForwardRef('Missing') is not fully defined."
    )
    assert message.endswith(
        f"is not fully defined; you should define `typing.Annotated[{Broken.__module__}"
        ".Broken, FieldInfo(annotation=NoneType, required=True, alias='m', alias_priority=2)]` "
        "and all referenced types, then call `.rebuild()` on the instance.\n\n"
        "For further information visit "
        f"https://errors.pydantic.dev/{_pydantic_minor()}/u/class-not-fully-defined"
    )
    assert error.args == (error.message,) and error.code == "class-not-fully-defined"
    # the same class each time, so handlers and tests can name it
    with pytest.raises(PydanticUserError) as again:
        get_openapi(title="t", version="1", routes=app.routes)
    assert type(again.value) is type(error)


def test_type_without_schema_keeps_pydantics_subclass() -> None:
    class Blob:
        pass

    class Upload(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)

        blob: Blob

    app = FastAPI()

    @app.post("/upload")
    def upload(item: Upload) -> None:
        return None

    with pytest.raises(PydanticUserError) as caught:
        app.openapi()
    with pytest.raises(PydanticUserError) as plain:
        Upload.model_json_schema()
    assert isinstance(caught.value, type(plain.value)) and isinstance(caught.value, HastenError)
    assert "has no JSON Schema" in str(caught.value)
    assert str(caught.value).endswith(str(plain.value).split("\n")[-1])


def _pydantic_minor() -> str:
    from pydantic.version import version_short

    return version_short()
