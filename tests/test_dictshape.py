"""A plain response model's typed-dict twin (``hasten._plan.dictshape``) answers as the model."""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    computed_field,
    field_serializer,
    field_validator,
    model_validator,
)

from hasten import FastAPI
from hasten._plan.dictshape import dict_shaped
from hasten.testclient import TestClient


class Color(enum.Enum):
    red = "r"
    blue = "b"


class Inner(BaseModel):
    x: int = 3


class Row(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    id: int
    name: str = Field(alias="Name")
    tags: list[str] = []
    opt: str | None = None
    when: datetime.date | None = None
    color: Color = Color.red
    inner: Inner | None = None
    hidden: str = Field(default="h", exclude=True)
    kind: Literal["a", "b"] = "a"
    renamed: str = Field(default="s", serialization_alias="Renamed")


ROWS: list[dict[str, Any]] = [
    {
        "id": "7",
        "Name": "  bob ",
        "tags": ["x"],
        "when": "2024-01-02",
        "color": "b",
        "inner": {"x": "5"},
        "secret": "never shown",
        "hidden": "zz",
    },
    {"id": 1, "Name": "a"},
    {"id": 2, "Name": "b", "opt": None, "inner": None, "kind": "b", "renamed": "q"},
]


class WithValidator(BaseModel):
    a: int

    @field_validator("a")
    @classmethod
    def check(cls, value: int) -> int:
        return value


class WithComputed(BaseModel):
    a: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def b(self) -> int:
        return self.a + 1


class WithFactory(BaseModel):
    a: list[int] = Field(default_factory=list)


class WithSerializer(BaseModel):
    a: int

    @field_serializer("a")
    def show(self, value: int) -> str:
        return str(value)


class WithModelValidator(BaseModel):
    a: int

    @model_validator(mode="after")
    def check(self) -> WithModelValidator:
        return self


class Forbidding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: int


class Nesting(BaseModel):
    inner: WithValidator


@pytest.mark.parametrize("annotation", [Row, list[Row], Inner])
def test_plain_models_get_a_twin(annotation: Any) -> None:
    assert dict_shaped(TypeAdapter(annotation).core_schema) is not None


@pytest.mark.parametrize(
    "annotation",
    [
        WithValidator,
        WithComputed,
        WithFactory,
        WithSerializer,
        WithModelValidator,
        Forbidding,
        Nesting,
        list[WithValidator],
        dict[str, Row],
    ],
)
def test_models_with_user_code_or_instance_semantics_keep_the_model(annotation: Any) -> None:
    assert dict_shaped(TypeAdapter(annotation).core_schema) is None


@pytest.mark.parametrize(
    "options",
    [{"by_alias": True}, {"by_alias": False}, {"by_alias": True, "exclude_none": True}],
)
def test_the_twin_validates_and_dumps_what_the_model_does(options: dict[str, Any]) -> None:
    adapter = TypeAdapter(list[Row])
    shaped = dict_shaped(adapter.core_schema)
    assert shaped is not None
    validator, serializer, is_list = shaped
    assert is_list
    expected = adapter.serializer.to_json(
        adapter.validator.validate_python(ROWS, from_attributes=True), **options
    )
    assert serializer.to_json(validator.validate_python(ROWS), **options) == expected


def _app(**route: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/rows", response_model=list[Row], **route)
    def rows() -> Any:
        return ROWS

    @app.get("/objects", response_model=list[Inner])
    def objects() -> Any:
        return [Obj(1), Obj(2)]

    @app.get("/bad", response_model=list[Row])
    def bad() -> Any:
        return [{"id": "not a number", "Name": "x"}]

    @app.get("/one", response_model=Row)
    def one() -> Any:
        return ROWS[0]

    return app


@dataclass
class Obj:
    x: int


def test_routes_answer_byte_for_byte_as_the_model_does() -> None:
    client = TestClient(_app())
    body = client.get("/rows").content
    assert body == TypeAdapter(list[Row]).dump_json(
        TypeAdapter(list[Row]).validate_python(ROWS), by_alias=True
    )
    assert b"never shown" not in body and b'"hidden"' not in body
    assert client.get("/one").json()["Name"] == "bob"
    # Objects read through their attributes: the twin refuses them, the model reads them.
    assert client.get("/objects").json() == [{"x": 1}, {"x": 2}]


def test_an_invalid_row_gets_the_models_response_validation_error() -> None:
    client = TestClient(_app(), raise_server_exceptions=False)
    assert client.get("/bad").status_code == 500
    with pytest.raises(Exception) as caught:
        TestClient(_app()).get("/bad")
    assert type(caught.value).__name__ == "ResponseValidationError"
    assert caught.value.errors()[0]["loc"] == ("response", 0, "id")  # type: ignore[attr-defined]


def test_exclude_unset_keeps_the_model() -> None:
    client = TestClient(_app(response_model_exclude_unset=True))
    first, second = client.get("/rows").json()[:2]
    assert "opt" not in second and second == {"id": 1, "Name": "a"}
    assert first["tags"] == ["x"]
