"""``get_openapi`` / ``app.openapi()``: the exact document FastAPI would produce."""

from __future__ import annotations

import warnings
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, computed_field

from hasten import APIRouter, Body, Cookie, Depends, FastAPI, Form, Header, Path, Query, Security
from hasten.openapi.utils import get_openapi
from hasten.responses import HTMLResponse, PlainTextResponse, Response
from hasten.security import HTTPBearer, OAuth2PasswordBearer
from hasten.testclient import TestClient

REF = "#/components/schemas/"

VALIDATION_ERROR = {
    "title": "ValidationError",
    "type": "object",
    "properties": {
        "loc": {
            "title": "Location",
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
        "input": {"title": "Input"},
        "ctx": {"title": "Context", "type": "object"},
    },
    "required": ["loc", "msg", "type"],
}
HTTP_VALIDATION_ERROR = {
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {
        "detail": {"title": "Detail", "type": "array", "items": {"$ref": REF + "ValidationError"}}
    },
}
RESPONSE_422 = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": REF + "HTTPValidationError"}}},
}


def ok(schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": "Successful Response",
        "content": {"application/json": {"schema": {} if schema is None else schema}},
    }


class Item(BaseModel):
    name: str
    price: float
    tax: float | None = None


def test_minimal_app_document() -> None:
    app = FastAPI()

    @app.get("/")
    def root() -> dict[str, str]:
        return {"message": "Hello World"}

    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == {
        "openapi": "3.1.0",
        "info": {"title": "FastAPI", "version": "0.1.0"},
        "paths": {
            "/": {
                "get": {
                    "summary": "Root",
                    "operationId": "root__get",
                    "responses": {
                        "200": ok(
                            {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                                "title": "Response Root  Get",
                            }
                        )
                    },
                }
            }
        },
    }


def test_parameters_in_order_with_titles_defaults_and_descriptions() -> None:
    app = FastAPI()

    @app.get("/items/{item_id}")
    def read_item(
        item_id: Annotated[int, Path(title="The ID")],
        user_agent: Annotated[str | None, Header()] = None,
        session: Annotated[str | None, Cookie()] = None,
        q: str | None = None,
        limit: Annotated[int, Query(ge=1, description="Page size", deprecated=True)] = 10,
    ) -> Item:
        raise NotImplementedError

    operation = app.openapi()["paths"]["/items/{item_id}"]["get"]
    assert operation["parameters"] == [
        {
            "name": "item_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "title": "The ID"},
        },
        {
            "name": "q",
            "in": "query",
            "required": False,
            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Q"},
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "Page size",
            "deprecated": True,
            "schema": {
                "type": "integer",
                "minimum": 1,
                "default": 10,
                "title": "Limit",
                "description": "Page size",
                "deprecated": True,
            },
        },
        {
            "name": "user-agent",
            "in": "header",
            "required": False,
            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "User-Agent"},
        },
        {
            "name": "session",
            "in": "cookie",
            "required": False,
            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Session"},
        },
    ]
    assert operation["responses"] == {"200": ok({"$ref": REF + "Item"}), "422": RESPONSE_422}


def test_embedded_body_gets_a_body_component() -> None:
    app = FastAPI()

    @app.post("/items/")
    def create(item: Item, importance: Annotated[int, Body(gt=0)]) -> None:
        raise NotImplementedError

    document = app.openapi()
    assert document["paths"]["/items/"]["post"]["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF + "Body_create_items__post"}}},
    }
    schemas = document["components"]["schemas"]
    assert schemas["Body_create_items__post"] == {
        "title": "Body_create_items__post",
        "type": "object",
        "properties": {
            "item": {"$ref": REF + "Item"},
            "importance": {"type": "integer", "exclusiveMinimum": 0, "title": "Importance"},
        },
        "required": ["item", "importance"],
    }
    assert schemas["ValidationError"] == VALIDATION_ERROR
    assert schemas["HTTPValidationError"] == HTTP_VALIDATION_ERROR
    assert list(schemas) == sorted(schemas)


def test_optional_single_body_is_not_required_and_keeps_examples() -> None:
    app = FastAPI()

    @app.put("/items")
    def update(
        item: Annotated[
            Item | None, Body(openapi_examples={"one": {"value": {"name": "x"}}})
        ] = None,
    ) -> None:
        raise NotImplementedError

    body = app.openapi()["paths"]["/items"]["put"]["requestBody"]
    assert body == {
        "content": {
            "application/json": {
                "schema": {"anyOf": [{"$ref": REF + "Item"}, {"type": "null"}], "title": "Item"},
                "examples": {"one": {"value": {"name": "x"}}},
            }
        }
    }


def test_form_fields_are_embedded_as_urlencoded() -> None:
    app = FastAPI()

    @app.post("/login")
    def login(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> None:
        raise NotImplementedError

    document = app.openapi()
    assert document["paths"]["/login"]["post"]["requestBody"] == {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"$ref": REF + "Body_login_login_post"}}
        },
    }
    assert document["components"]["schemas"]["Body_login_login_post"]["required"] == [
        "username",
        "password",
    ]


class Person(BaseModel):
    first: str
    last: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def _person_app(separate: bool) -> FastAPI:
    app = FastAPI(separate_input_output_schemas=separate)

    @app.post("/people")
    def create(person: Person) -> Person:
        return person

    return app


def test_input_output_split_when_modes_differ() -> None:
    schemas = _person_app(True).openapi()["components"]["schemas"]
    assert {"Person-Input", "Person-Output"} <= set(schemas)
    assert schemas["Person-Output"]["required"] == ["first", "last", "full"]
    assert schemas["Person-Input"]["required"] == ["first", "last"]


def test_computed_fields_keep_the_split_even_when_not_separating() -> None:
    schemas = _person_app(False).openapi()["components"]["schemas"]
    assert {"Person-Input", "Person-Output"} <= set(schemas)


def test_no_split_for_plain_models_when_not_separating() -> None:
    app = FastAPI(separate_input_output_schemas=False)

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    schemas = app.openapi()["components"]["schemas"]
    assert "Item" in schemas
    assert "Item-Input" not in schemas


oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Me", "items": "Items"})
bearer = HTTPBearer()


def user(token: Annotated[str, Security(oauth2, scopes=["me"])]) -> str:
    return token


def test_security_schemes_and_scopes_are_merged() -> None:
    app = FastAPI()

    @app.get("/me")
    def me(
        current: Annotated[str, Security(user, scopes=["items"])],
        creds: Annotated[Any, Depends(bearer)],
    ) -> None:
        raise NotImplementedError

    document = app.openapi()
    operation = document["paths"]["/me"]["get"]
    assert operation["security"] == [{"OAuth2PasswordBearer": ["items", "me"]}, {"HTTPBearer": []}]
    assert document["components"]["securitySchemes"] == {
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {"password": {"scopes": {"me": "Me", "items": "Items"}, "tokenUrl": "token"}},
        },
        "HTTPBearer": {"type": "http", "scheme": "bearer"},
    }
    # no request parameters at all: no 422 response
    assert set(operation["responses"]) == {"200"}


def test_additional_responses_and_response_classes() -> None:
    app = FastAPI()

    class Message(BaseModel):
        message: str

    @app.get(
        "/items/{item_id}",
        response_class=HTMLResponse,
        responses={404: {"model": Message}, "5XX": {"description": "Oops"}, 302: {}},
    )
    def read(item_id: str) -> str:
        raise NotImplementedError

    @app.delete("/items/{item_id}", status_code=204, response_class=Response)
    def delete(item_id: str) -> None:
        raise NotImplementedError

    @app.get("/text", response_class=PlainTextResponse, deprecated=True, tags=["t"])
    def text() -> str:
        raise NotImplementedError

    paths = app.openapi()["paths"]
    responses = paths["/items/{item_id}"]["get"]["responses"]
    assert responses["200"] == {
        "description": "Successful Response",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    assert responses["404"] == {
        "description": "Not Found",
        "content": {"text/html": {"schema": {"$ref": REF + "Message"}}},
    }
    assert responses["5XX"] == {"description": "Oops"}
    assert responses["302"] == {"description": "Found"}
    assert paths["/items/{item_id}"]["delete"]["responses"]["204"] == {
        "description": "Successful Response"
    }
    text_op = paths["/text"]["get"]
    assert text_op["deprecated"] is True
    assert text_op["tags"] == ["t"]
    assert text_op["responses"] == {
        "200": {
            "description": "Successful Response",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    }


def test_invalid_additional_response_key_raises() -> None:
    app = FastAPI()

    @app.get("/a", responses={"hello": {"description": "nope"}})
    def a() -> None:
        raise NotImplementedError

    with pytest.raises(ValueError):
        app.openapi()


class Filters(BaseModel):
    limit: int = 100
    tags: list[str] = []


def test_grouped_query_model_becomes_parameters() -> None:
    app = FastAPI()

    @app.get("/items")
    def items(filters: Annotated[Filters, Query()]) -> None:
        raise NotImplementedError

    parameters = app.openapi()["paths"]["/items"]["get"]["parameters"]
    assert parameters == [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "default": 100, "title": "Limit"},
        },
        {
            "name": "tags",
            "in": "query",
            "required": False,
            "schema": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "title": "Tags",
            },
        },
    ]


def test_metadata_servers_tags_webhooks_and_callbacks() -> None:
    app = FastAPI(
        title="Shop",
        version="2.0",
        summary="S",
        description="D",
        terms_of_service="https://example.com/terms",
        contact={"name": "me", "url": "https://example.com"},
        license_info={"name": "MIT", "identifier": "MIT"},
        servers=[{"url": "/api"}],
        openapi_tags=[{"name": "items", "description": "Items"}],
    )
    callbacks = APIRouter()

    @callbacks.post("{$callback_url}/done")
    def done(body: Item) -> None:
        raise NotImplementedError

    @app.post("/jobs", callbacks=callbacks.routes, tags=["items"])
    def jobs() -> None:
        raise NotImplementedError

    @app.webhooks.post("new-item")
    def new_item(body: Item) -> None:
        raise NotImplementedError

    document = app.openapi()
    assert document["info"] == {
        "title": "Shop",
        "version": "2.0",
        "summary": "S",
        "description": "D",
        "termsOfService": "https://example.com/terms",
        "contact": {"name": "me", "url": "https://example.com/"},
        "license": {"name": "MIT", "identifier": "MIT"},
    }
    assert document["servers"] == [{"url": "/api"}]
    assert document["tags"] == [{"name": "items", "description": "Items"}]
    callback = document["paths"]["/jobs"]["post"]["callbacks"]
    assert list(callback) == ["done"]
    assert callback["done"]["{$callback_url}/done"]["post"]["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF + "Item"}}},
    }
    assert document["webhooks"]["new-item"]["post"]["operationId"] == "new_itemnew_item_post"


def test_duplicate_operation_ids_warn() -> None:
    app = FastAPI(generate_unique_id_function=lambda route: "same")

    @app.get("/a")
    def a() -> None:
        raise NotImplementedError

    @app.get("/b")
    def b() -> None:
        raise NotImplementedError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app.openapi()
    assert any("Duplicate Operation ID same" in str(w.message) for w in caught)


def test_openapi_extra_is_merged_and_hidden_routes_skipped() -> None:
    app = FastAPI()

    @app.get("/x", openapi_extra={"x-custom": 1, "responses": {"200": {"x-r": True}}})
    def x() -> None:
        raise NotImplementedError

    @app.get("/hidden", include_in_schema=False)
    def hidden() -> None:
        raise NotImplementedError

    paths = app.openapi()["paths"]
    assert "/hidden" not in paths
    assert paths["/x"]["get"]["x-custom"] == 1
    assert paths["/x"]["get"]["responses"]["200"]["x-r"] is True


def test_get_openapi_directly_on_routes() -> None:
    router = APIRouter()

    @router.get("/ping")
    def ping() -> str:
        return "pong"

    document = get_openapi(title="T", version="1", routes=router.routes, openapi_version="3.1.1")
    assert document["openapi"] == "3.1.1"
    assert document["paths"]["/ping"]["get"]["responses"]["200"] == ok(
        {"type": "string", "title": "Response Ping Ping Get"}
    )
