"""Types without a JSON Schema: a ``HastenError`` naming the route and the type.

``Hasten`` builds the document while starting, so the application does not start; ``FastAPI``
builds it on first use, like FastAPI, and raises the same error then.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, WithJsonSchema

from hasten import Body, FastAPI, Hasten
from hasten.exceptions import HastenError
from hasten.testclient import TestClient


class Blob:
    """An arbitrary class: Pydantic validates it with ``isinstance`` but has no schema for it."""


class Upload(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    blob: Blob


class Wrapper(BaseModel):
    title: str
    upload: Upload


class WithCallback(BaseModel):
    # validated (it must be callable) but there is no JSON Schema for a callable
    on_done: Callable[[], None]


def _started(app: Hasten) -> None:
    with TestClient(app):
        pass


def test_hasten_fails_at_startup_naming_route_and_type() -> None:
    app = Hasten()

    @app.get("/ok")
    def ok() -> int:
        return 1

    @app.post("/uploads/{upload_id}")
    def replace_upload(upload_id: int, upload: Upload) -> dict[str, str]:
        return {}

    with pytest.raises(HastenError) as caught:
        _started(app)
    message = str(caught.value)
    assert message.startswith(
        "Cannot generate the OpenAPI schema of POST /uploads/{upload_id}: the request body "
        "'upload' (Upload), field 'blob' of type Blob has no JSON Schema"
    )
    assert "IsInstanceSchema" in message  # Pydantic's own reason is kept
    assert "WithJsonSchema" in message and "include_in_schema=False" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_response_model_nested_field_is_named() -> None:
    app = Hasten()

    @app.get("/wrapped", response_model=Wrapper)
    def wrapped() -> Any:
        return None

    with pytest.raises(
        HastenError,
        match=r"GET /wrapped: the response model \(Wrapper\), "
        r"field 'upload\.blob' of type Blob has no JSON Schema",
    ):
        _started(app)


def test_a_field_pydantic_validates_but_cannot_describe() -> None:
    app = Hasten()

    @app.put("/jobs", responses={202: {"model": WithCallback}})
    def jobs() -> None:
        return None

    with pytest.raises(
        HastenError,
        match=r"PUT /jobs: the model of response 202 \(WithCallback\), "
        r"field 'on_done' of type",
    ):
        _started(app)


def test_embedded_body_parameters() -> None:
    app = Hasten()

    @app.patch("/pair")
    def pair(upload: Upload, note: Annotated[str, Body()]) -> None:
        return None

    with pytest.raises(
        HastenError,
        match=r"PATCH /pair: the request body 'body' \(Body_pair_pair_patch\), "
        r"field 'upload\.blob' of type Blob",
    ):
        _started(app)


def test_lifespan_cleanup_runs_when_the_document_fails() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Hasten) -> AsyncIterator[None]:
        events.append("start")
        try:
            yield
        finally:
            events.append("stop")

    app = Hasten(lifespan=lifespan)

    @app.post("/uploads")
    def upload(upload: Upload) -> None:
        return None

    with pytest.raises(HastenError, match="POST /uploads"):
        _started(app)
    assert events == ["start", "stop"]


def test_hasten_builds_the_document_at_startup_after_the_lifespan() -> None:
    @asynccontextmanager
    async def lifespan(app: Hasten) -> AsyncIterator[None]:
        app.add_api_route("/late", lambda: 1, methods=["GET"])
        yield

    app = Hasten(lifespan=lifespan)
    assert app.openapi_schema is None
    with TestClient(app):
        assert app.openapi_schema is not None
        assert list(app.openapi_schema["paths"]) == ["/late"]


def test_without_openapi_url_nothing_is_built() -> None:
    app = Hasten(openapi_url=None)

    @app.post("/uploads")
    def upload(upload: Upload) -> None:
        return None

    _started(app)
    assert app.openapi_schema is None


def test_routes_left_out_of_the_document_start() -> None:
    app = Hasten()

    @app.post("/uploads", include_in_schema=False)
    def upload(upload: Upload) -> None:
        return None

    _started(app)
    assert app.openapi_schema is not None and app.openapi_schema["paths"] == {}


class Described(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    blob: Annotated[Blob, WithJsonSchema({"type": "string", "format": "binary"})]


def test_a_schema_given_with_annotated_is_enough() -> None:
    app = Hasten()

    @app.post("/described")
    def described(item: Described) -> None:
        return None

    with TestClient(app) as client:
        schema = client.get("/openapi.json").json()["components"]["schemas"]["Described"]
    assert schema["properties"]["blob"] == {"type": "string", "format": "binary", "title": "Blob"}


def test_fastapi_starts_and_raises_when_the_document_is_built() -> None:
    app = FastAPI()

    @app.post("/uploads")
    def upload(upload: Upload) -> None:
        return None

    with TestClient(app) as client:  # FastAPI's behaviour: startup does not build it
        assert app.openapi_schema is None
        with pytest.raises(HastenError, match=r"POST /uploads: the request body 'upload'"):
            client.get("/openapi.json")
    with pytest.raises(HastenError, match="POST /uploads"):
        app.openapi()
