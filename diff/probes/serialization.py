"""Hand-written probes of response serialization: return annotations, response_model with
objects of other types, pydantic serializers, JSON-mode types, special containers.

Ids: ``serialization.<what>``.
"""

# No `from __future__ import annotations` (FastAPI must see the real annotations).
import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import FastAPI
from fastapi.responses import JSONResponse, ORJSONResponse, UJSONResponse
from probelib import get, probe
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    SecretStr,
    computed_field,
    field_serializer,
    model_serializer,
)


class Base(BaseModel):
    name: str
    price: Decimal = Decimal("1.50")


class Extended(Base):
    secret: str = "hidden"


class Orm:
    def __init__(self) -> None:
        self.name = "orm"
        self.price = Decimal("2.5")
        self.secret = "no"


@dataclasses.dataclass
class DC:
    name: str
    price: float = 1.0


@probe(
    get("/subclass"),
    get("/orm"),
    get("/dataclass"),
    get("/dict"),
    get("/annotated-dict"),
    get("/list"),
    get("/tuple"),
    get("/set"),
    get("/generator-list"),
    get("/json-response"),
    get("/none"),
)
def response_model_inputs() -> FastAPI:
    """response_model / return annotation fed with subclasses, ORM objects, dataclasses,
    dicts, tuples, sets, generators and a Response."""
    app = FastAPI()

    class FromAttrs(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        name: str
        price: Decimal

    @app.get("/subclass", response_model=Base)
    def subclass() -> Any:
        return Extended(name="x")

    @app.get("/orm", response_model=FromAttrs)
    def orm() -> Any:
        return Orm()

    @app.get("/dataclass", response_model=Base)
    def dataclass_() -> Any:
        return DC(name="dc")

    @app.get("/dict")
    def as_dict() -> Base:
        return {"name": "d", "price": "3.25", "secret": "s"}  # type: ignore[return-value]

    @app.get("/annotated-dict")
    def annotated_dict() -> dict[str, Decimal]:
        return {"a": Decimal("1.10"), "b": 2}  # type: ignore[dict-item]

    @app.get("/list", response_model=list[int])
    def listing() -> Any:
        return ["1", 2, 3.0]

    @app.get("/tuple")
    def tup() -> tuple[int, str]:
        return (1, "a")

    @app.get("/set", response_model=set[int])
    def a_set() -> Any:
        return [3, 1, 3]

    @app.get("/generator-list", response_model=list[int])
    def gen() -> Any:
        return (i for i in range(3))

    @app.get("/json-response", response_model=Base)
    def json_response() -> Any:
        return JSONResponse({"raw": True}, status_code=202)

    @app.get("/none", response_model=Base | None)
    def none() -> Any:
        return None

    return app


class Kind(Enum):
    A = "a"
    B = 2


class Rich(BaseModel):
    when: dt.datetime = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    naive: dt.datetime = dt.datetime(2024, 1, 2, 3, 4, 5, 123456)
    day: dt.date = dt.date(2024, 1, 2)
    span: dt.timedelta = dt.timedelta(hours=1, microseconds=1)
    amount: Decimal = Decimal("10.10")
    ident: UUID = UUID(int=1)
    kind: Kind = Kind.B
    raw: bytes = b"raw"
    pw: SecretStr = SecretStr("pw")
    ratio: float = 1e-7
    big: int = 2**70
    inf: float = float("inf")
    lit: Literal["x"] = "x"
    hidden: str = Field("h", exclude=True)
    aliased: int = Field(1, serialization_alias="AliasedOut")


@probe(get("/rich"), get("/rich-rm"), get("/rich-dict"), get("/rich-list"))
def json_mode_types() -> FastAPI:
    """A model full of JSON-mode types: as return annotation, response_model, dict, list."""
    app = FastAPI()

    @app.get("/rich")
    def rich() -> Rich:
        return Rich()

    @app.get("/rich-rm", response_model=Rich, response_model_exclude={"inf"})
    def rich_rm() -> Any:
        return Rich()

    @app.get("/rich-dict")
    def rich_dict():  # type: ignore[no-untyped-def]
        return {"rich": Rich(inf=0.0)}

    @app.get("/rich-list", response_model=list[Rich], response_model_exclude_unset=True)
    def rich_list() -> Any:
        return [Rich(amount=Decimal("1")), {"kind": "a"}]

    return app


class WithSerializers(BaseModel):
    a: int = 1
    b: dt.date = dt.date(2024, 5, 6)

    @field_serializer("b")
    def ser_b(self, value: dt.date) -> str:
        return value.strftime("%d/%m/%Y")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def double(self) -> int:
        return self.a * 2


class WholeSerializer(BaseModel):
    x: int = 3

    @model_serializer
    def ser(self) -> dict[str, Any]:
        return {"custom": self.x}


class Wrapper(RootModel[list[int]]):
    pass


@probe(
    get("/fields"),
    get("/whole"),
    get("/root"),
    get("/root-rm"),
    get("/nested"),
    get("/by-alias-false"),
)
def pydantic_serializers() -> FastAPI:
    """field_serializer, computed_field, model_serializer, RootModel, nested, by_alias=False."""
    app = FastAPI()

    class Nested(BaseModel):
        items: list[WithSerializers] = [WithSerializers()]
        whole: WholeSerializer = WholeSerializer()

    class Aliased(BaseModel):
        value: int = Field(5, alias="Value")

    @app.get("/fields")
    def fields() -> WithSerializers:
        return WithSerializers(a=4)

    @app.get("/whole")
    def whole() -> WholeSerializer:
        return WholeSerializer()

    @app.get("/root")
    def root() -> Wrapper:
        return Wrapper([1, 2])

    @app.get("/root-rm", response_model=Wrapper)
    def root_rm() -> Any:
        return [3, "4"]

    @app.get("/nested")
    def nested() -> Nested:
        return Nested()

    @app.get("/by-alias-false", response_model=Aliased, response_model_by_alias=False)
    def by_alias_false() -> Any:
        return {"Value": 9}

    return app


@probe(get("/orjson"), get("/ujson"), get("/default"), get("/custom"))
def response_classes_json_variants() -> FastAPI:
    """default_response_class and deprecated ORJSON/UJSON classes, a JSONResponse subclass."""

    class Pretty(JSONResponse):
        def render(self, content: Any) -> bytes:
            return (repr(sorted(content.items())) + "\n").encode()

    app = FastAPI(default_response_class=Pretty)

    @app.get("/orjson", response_class=ORJSONResponse)
    def orjson() -> dict[str, int]:
        return {"b": 1, "a": 2}

    @app.get("/ujson", response_class=UJSONResponse)
    def ujson() -> dict[str, int]:
        return {"b": 1, "a": 2}

    @app.get("/default")
    def default() -> dict[str, int]:
        return {"b": 1, "a": 2}

    @app.get("/custom", response_class=JSONResponse)
    def custom() -> dict[str, Any]:
        return {"b": 1, "a": [2]}

    return app


def _numbers() -> Iterator[int]:
    yield from range(3)


@probe(get("/"), get("/exclude-none"))
def response_model_with_defaults_and_none() -> FastAPI:
    """Optional nested models, exclude_none and exclude_unset interplay, Annotated Field."""
    app = FastAPI()

    class Inner(BaseModel):
        v: int | None = None

    class Out(BaseModel):
        inner: Inner | None = None
        items: list[Inner] = []
        n: Annotated[int, Field(ge=0)] = 0

    @app.get("/", response_model=Out, response_model_exclude_unset=True)
    def root() -> Any:
        return Out(inner=Inner(), items=[Inner(v=None), Inner(v=1)])

    @app.get("/exclude-none", response_model=Out, response_model_exclude_none=True)
    def exclude_none() -> Any:
        return {"inner": {"v": None}, "items": [{"v": None}], "n": 1, "extra": list(_numbers())}

    return app
