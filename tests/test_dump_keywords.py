"""A response model is dumped with only the keywords that change its JSON
(``hasten._plan.dumping``): the answers are FastAPI's, whatever is left out."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from collections.abc import AsyncIterable
from typing import Annotated, Any, Literal

import pytest
from pydantic import (
    AliasGenerator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    SerializeAsAny,
    TypeAdapter,
    computed_field,
    field_serializer,
    field_validator,
)
from typing_extensions import TypedDict

from hasten import FastAPI
from hasten._plan.dumping import alias_free, dump_keywords, json_dumper, python_dumper
from hasten.responses import JSONResponse
from hasten.testclient import TestClient


class Color(enum.Enum):
    red = "r"


class Leaf(BaseModel):
    x: int = 1
    when: datetime.date = datetime.date(2024, 1, 2)


class Tree(BaseModel):
    name: str = Field(validation_alias="Name")  # read by alias, written by name
    leaves: list[Leaf] = []
    child: Tree | None = None
    color: Color = Color.red
    kind: Literal["a", "b"] = "a"
    ident: uuid.UUID = uuid.UUID(int=1)

    @field_validator("name")
    @classmethod
    def strip(cls, value: str) -> str:
        return value.strip()


class Shape(TypedDict):
    a: int
    b: list[str]


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Aliased(BaseModel):
    item_name: str = Field(alias="itemName")


class Generated(BaseModel):
    model_config = ConfigDict(alias_generator=AliasGenerator(serialization_alias=str.upper))
    value: int = 1


class Computed(BaseModel):
    x: int = 1

    @computed_field  # type: ignore[prop-decorator]
    @property
    def double(self) -> int:
        return self.x * 2


class Custom(BaseModel):
    x: int = 1

    @field_serializer("x")
    def show(self, value: int) -> str:
        return f"<{value}>"


class Extra(BaseModel):
    model_config = ConfigDict(extra="allow")
    x: int = 1


class Holder(BaseModel):
    inner: Any = None


class Root(RootModel[list[int]]):
    pass


class AliasedLeaf(Leaf):
    extra: int = Field(0, serialization_alias="Extra")


class Ducked(BaseModel):
    leaf: SerializeAsAny[Leaf]  # a subclass instance is dumped with its own fields


#: (annotation, a value) whose JSON cannot depend on ``by_alias``.
FREE: list[tuple[Any, Any]] = [
    (dict[str, str], {"message": "hi"}),
    (list[int], [1, 2]),
    (tuple[int, str], (1, "a")),
    (set[int], {3}),
    (str | None, None),
    (Tree, Tree(Name=" t ", leaves=[Leaf()], child=Tree(Name="c"))),
    (list[Tree], [Tree(Name="x")]),
    (Shape, {"a": 1, "b": ["x"]}),
    (Point, Point(1, 2)),
    (Root, Root([1, 2])),
    (dict[str, list[Leaf]], {"k": [Leaf(x=3)]}),
]
#: (annotation, a value) whose JSON may: an alias, an alias generator, a computed field, a
#: serializer, extra keys, ``Any`` (a model inside is dumped by alias), bare containers.
BOUND: list[tuple[Any, Any]] = [
    (Aliased, Aliased(itemName="a")),
    (Generated, Generated()),
    (Computed, Computed()),
    (Custom, Custom()),
    (Extra, Extra(x=1, more=Aliased(itemName="b"))),  # type: ignore[call-arg]
    (Holder, Holder(inner=Aliased(itemName="c"))),
    (Ducked, Ducked(leaf=AliasedLeaf())),
    (dict[str, Any], {"k": Aliased(itemName="d")}),
    (list, [Aliased(itemName="e")]),
    (dict, {"k": Aliased(itemName="f")}),
    (Annotated[int, PlainSerializer(lambda v, info: f"{v}{info.by_alias}", return_type=str)], 1),
]


def _dumps(annotation: Any, value: Any) -> set[bytes]:
    to_json = TypeAdapter(annotation).serializer.to_json
    return {to_json(value), to_json(value, by_alias=True), to_json(value, by_alias=False)}


@pytest.mark.parametrize(("annotation", "value"), FREE)
def test_alias_free_schemas_dump_alike_with_any_by_alias(annotation: Any, value: Any) -> None:
    assert alias_free(TypeAdapter(annotation).core_schema)
    assert len(_dumps(annotation, value)) == 1


@pytest.mark.parametrize(("annotation", "value"), BOUND)
def test_schemas_where_by_alias_may_matter_keep_it(annotation: Any, value: Any) -> None:
    assert not alias_free(TypeAdapter(annotation).core_schema)


def test_the_bound_cases_are_real() -> None:
    """Most of BOUND's values do dump differently by alias: the check is not vacuous there."""
    differing = [a for a, v in BOUND if len(_dumps(a, v)) > 1]
    assert Aliased in differing and Generated in differing and Holder in differing
    assert Extra in differing and dict[str, Any] in differing and Ducked in differing


def test_a_field_named_like_a_schema_key_does_not_confuse_the_walk() -> None:
    class Odd(BaseModel):
        type: str = "t"
        ref: int = 1
        schema_ref: list[int] = []

    assert alias_free(TypeAdapter(Odd).core_schema)

    class OddAliased(BaseModel):
        type: str = Field("t", serialization_alias="Type")

    assert not alias_free(TypeAdapter(OddAliased).core_schema)


def test_a_dangling_reference_is_not_trusted() -> None:
    schema = {"type": "list", "items_schema": {"type": "definition-ref", "schema_ref": "X"}}
    assert not alias_free(schema)


DEFAULTS = {
    "include": None,
    "exclude": None,
    "by_alias": True,
    "exclude_unset": False,
    "exclude_defaults": False,
    "exclude_none": False,
}


def test_keywords_at_pydantic_defaults_are_left_out() -> None:
    assert dump_keywords(DEFAULTS, TypeAdapter(Tree).core_schema) == {}
    assert dump_keywords(DEFAULTS, TypeAdapter(Aliased).core_schema) == {"by_alias": True}
    given = {**DEFAULTS, "by_alias": False, "exclude_none": True, "include": set()}
    assert dump_keywords(given, TypeAdapter(Aliased).core_schema) == {
        "by_alias": False,
        "exclude_none": True,
        "include": set(),  # an empty include keeps nothing: not the default
    }


@pytest.mark.parametrize(
    "keywords", [{}, {"by_alias": True}, {"by_alias": False}, {"by_alias": True, "exclude": {"x"}}]
)
def test_the_dumper_passes_its_keywords(keywords: dict[str, Any]) -> None:
    serializer = TypeAdapter(Aliased).serializer
    value = Aliased(itemName="z")
    assert json_dumper(serializer.to_json, keywords)(value) == serializer.to_json(value, **keywords)
    dumped = python_dumper(serializer.to_python, keywords)(value)
    assert dumped == serializer.to_python(value, mode="json", **keywords)


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/aliased", response_model=Aliased)
    def aliased() -> Any:
        return {"itemName": "a"}

    @app.get("/by-name", response_model=Aliased, response_model_by_alias=False)
    def by_name() -> Any:
        return {"itemName": "b"}

    @app.get("/any")
    def any_value() -> dict[str, Any]:
        return {"inner": Aliased(itemName="c")}

    @app.get("/tree", response_model=Tree, response_model_exclude_defaults=True)
    def tree() -> Any:
        return {"Name": " t ", "kind": "b"}

    @app.get("/leaves", response_model=list[Leaf])
    def leaves() -> Any:
        return [{"x": 2}, Leaf(x=3)]

    # a response class of the route's own: the model's content dumped to Python, then encoded
    @app.get("/own/aliased", response_model=Aliased, response_class=OwnJSON)
    def own_aliased() -> Any:
        return {"itemName": "d"}

    @app.get("/own/by-name", response_model=Aliased, response_class=OwnJSON,
             response_model_by_alias=False)  # fmt: skip
    def own_by_name() -> Any:
        return {"itemName": "e"}

    @app.get("/own/leaves", response_model=list[Leaf], response_class=OwnJSON,
             response_model_exclude_defaults=True)  # fmt: skip
    def own_leaves() -> Any:
        return [{"x": 4}, Leaf(x=5, when=datetime.date(2025, 1, 1))]

    return app


class OwnJSON(JSONResponse):
    """A response class other than the default: ``render`` marks the body it was given."""

    def render(self, content: Any) -> bytes:
        return super().render({"own": content})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/aliased", {"itemName": "a"}),
        ("/by-name", {"item_name": "b"}),
        ("/any", {"inner": {"itemName": "c"}}),
        ("/tree", {"name": "t", "kind": "b"}),
        ("/leaves", [{"x": 2, "when": "2024-01-02"}, {"x": 3, "when": "2024-01-02"}]),
        ("/own/aliased", {"own": {"itemName": "d"}}),
        ("/own/by-name", {"own": {"item_name": "e"}}),
        ("/own/leaves", {"own": [{"x": 4}, {"x": 5, "when": "2025-01-01"}]}),
    ],
)
def test_answers_are_fastapis(path: str, body: Any) -> None:
    """FastAPI's answers (by alias unless told otherwise, a model in ``Any`` by alias)."""
    with TestClient(_app()) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.json() == body


def test_a_json_lines_stream_dumps_items_by_alias() -> None:
    app = FastAPI()

    @app.get("/items")
    async def items() -> AsyncIterable[Aliased]:
        yield Aliased(itemName="s")

    @app.get("/plain")
    async def plain() -> AsyncIterable[Leaf]:
        yield Leaf(x=9)

    with TestClient(app) as client:
        assert client.get("/items").text.strip() == '{"itemName":"s"}'
        assert client.get("/plain").text.strip() == '{"x":9,"when":"2024-01-02"}'
