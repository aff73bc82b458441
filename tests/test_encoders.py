"""hasten.encoders: jsonable_encoder behaves like FastAPI's on every kind of input."""

from __future__ import annotations

import dataclasses
import datetime
import math
import warnings
from collections import OrderedDict, deque
from decimal import Decimal
from enum import Enum, IntEnum
from ipaddress import IPv4Address, IPv6Network
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel, Field, NameEmail, SecretStr, field_serializer
from pydantic_core import PydanticUndefined, Url

from hasten.encoders import (
    ENCODERS_BY_TYPE,
    decimal_encoder,
    encoders_by_class_tuples,
    generate_encoders_by_class_tuples,
    isoformat,
    jsonable_encoder,
)
from hasten.exceptions import PydanticV1NotSupportedError


class Person:
    def __init__(self, name: str) -> None:
        self.name = name


class Pet:
    def __init__(self, owner: Person, name: str) -> None:
        self.owner = owner
        self.name = name


class DictablePet(Pet):
    def __iter__(self) -> Any:
        return iter(self.__dict__.items())


class Unserializable:
    def __iter__(self) -> Any:
        raise NotImplementedError()

    @property
    def __dict__(self) -> Any:  # type: ignore[override]
        raise NotImplementedError()


@dataclasses.dataclass
class Item:
    name: str
    count: int


@dataclasses.dataclass
class Box:
    item: Item
    tags: list[str]


class Role(Enum):
    admin = "admin"
    normal = "normal"


class Level(IntEnum):
    low = 1


class WithDefaults(BaseModel):
    foo: str
    bar: str = "bar"
    bla: str = "bla"


class WithAlias(BaseModel):
    foo: str = Field(alias="Foo")


class WithEnumValues(BaseModel):
    role: Role | None = None
    model_config = {"use_enum_values": True}


class Nested(BaseModel):
    data: dict[str, Any]
    maybe: str | None = None


@pytest.mark.parametrize("value", ["x", 1, 1.5, True, False, None])
def test_primitives_are_returned_as_is(value: Any) -> None:
    assert jsonable_encoder(value) is value


def test_str_and_int_subclasses_and_enums() -> None:
    class MyStr(str):
        pass

    assert jsonable_encoder(MyStr("a")) == "a"
    assert jsonable_encoder(Role.admin) == "admin"
    assert jsonable_encoder(Level.low) == 1
    assert jsonable_encoder({"r": Role.normal}) == {"r": "normal"}


@pytest.mark.parametrize("container", [dict, OrderedDict])
def test_dict_include_exclude(container: Any) -> None:
    pet = container(name="Firulais", owner={"name": "Foo"})
    assert jsonable_encoder(pet) == {"name": "Firulais", "owner": {"name": "Foo"}}
    assert jsonable_encoder(pet, include={"name"}) == {"name": "Firulais"}
    assert jsonable_encoder(pet, exclude={"owner"}) == {"name": "Firulais"}
    assert jsonable_encoder(pet, include={}) == {}
    assert jsonable_encoder(pet, exclude={}) == {"name": "Firulais", "owner": {"name": "Foo"}}
    assert jsonable_encoder(pet, include=["name"]) == {"name": "Firulais"}  # type: ignore[arg-type]
    assert jsonable_encoder(pet, exclude=["owner"]) == {"name": "Firulais"}  # type: ignore[arg-type]
    assert jsonable_encoder(pet, include=[]) == {}  # type: ignore[arg-type]


def test_dict_include_applies_only_to_top_level_keys() -> None:
    data = {"a": {"a": 1, "b": 2}, "b": 3}
    assert jsonable_encoder(data, include={"a"}) == {"a": {"a": 1, "b": 2}}


def test_dict_drops_sqlalchemy_keys_and_none_values() -> None:
    data = {"_sa_instance_state": object(), "name": "x", "none": None, 1: "one"}
    assert jsonable_encoder(data) == {"name": "x", "none": None, 1: "one"}
    assert jsonable_encoder(data, exclude_none=True) == {"name": "x", 1: "one"}
    kept = jsonable_encoder({"_sa": 1}, sqlalchemy_safe=False)
    assert kept == {"_sa": 1}


def test_dict_keys_are_encoded() -> None:
    key = UUID("12345678-1234-5678-1234-567812345678")
    assert jsonable_encoder({key: 1, Role.admin: 2}) == {str(key): 1, "admin": 2}


def test_sequences_become_lists() -> None:
    def gen() -> Any:
        yield from (1, 2)

    assert jsonable_encoder((1, "a")) == [1, "a"]
    assert jsonable_encoder([1, [2, (3,)]]) == [1, [2, [3]]]
    assert sorted(jsonable_encoder({3, 1})) == [1, 3]
    assert jsonable_encoder(frozenset({"a"})) == ["a"]
    assert jsonable_encoder(deque([1, 2])) == [1, 2]
    assert jsonable_encoder(gen()) == [1, 2]


def test_include_is_passed_to_list_items() -> None:
    items = [{"a": 1, "b": 2}, WithDefaults(foo="f")]
    assert jsonable_encoder(items, include={"a", "foo"}) == [{"a": 1}, {"foo": "f"}]


def test_plain_objects_use_vars_or_dict() -> None:
    pet = Pet(owner=Person("Foo"), name="Firulais")
    assert jsonable_encoder(pet) == {"owner": {"name": "Foo"}, "name": "Firulais"}
    assert jsonable_encoder(pet, include={"name"}) == {"name": "Firulais"}
    assert jsonable_encoder(pet, exclude={"owner"}) == {"name": "Firulais"}
    dictable = DictablePet(owner=Person("Foo"), name="Firulais")
    assert jsonable_encoder(dictable, include={}) == {}
    assert jsonable_encoder(dictable) == {"owner": {"name": "Foo"}, "name": "Firulais"}


def test_unserializable_raises_value_error_with_both_errors() -> None:
    with pytest.raises(ValueError) as exc_info:
        jsonable_encoder(Unserializable())
    errors = exc_info.value.args[0]
    assert len(errors) == 2
    assert all(isinstance(err, Exception) for err in errors)


def test_dataclasses() -> None:
    item = Item(name="foo", count=100)
    assert jsonable_encoder(item) == {"name": "foo", "count": 100}
    assert jsonable_encoder(item, include={"name"}) == {"name": "foo"}
    assert jsonable_encoder(item, exclude={"count"}) == {"name": "foo"}
    assert jsonable_encoder(item, include={}) == {}
    assert jsonable_encoder(Box(item=item, tags=["t"])) == {
        "item": {"name": "foo", "count": 100},
        "tags": ["t"],
    }


def test_models() -> None:
    model = WithDefaults(foo="foo", bar="bar")
    assert jsonable_encoder(model) == {"foo": "foo", "bar": "bar", "bla": "bla"}
    assert jsonable_encoder(model, exclude_unset=True) == {"foo": "foo", "bar": "bar"}
    assert jsonable_encoder(model, exclude_defaults=True) == {"foo": "foo"}
    assert jsonable_encoder(model, include={"foo"}) == {"foo": "foo"}
    assert jsonable_encoder(model, exclude={"bla"}) == {"foo": "foo", "bar": "bar"}
    assert jsonable_encoder(model, include={}) == {}
    assert jsonable_encoder([model], exclude_defaults=True) == [{"foo": "foo"}]
    assert jsonable_encoder({"k": [model]}, exclude_defaults=True) == {"k": [{"foo": "foo"}]}


def test_model_alias_and_config() -> None:
    assert jsonable_encoder(WithAlias(Foo="Bar")) == {"Foo": "Bar"}
    assert jsonable_encoder(WithAlias(Foo="Bar"), by_alias=False) == {"foo": "Bar"}
    assert jsonable_encoder(WithEnumValues(role=Role.admin)) == {"role": "admin"}


def test_model_output_is_rewalked() -> None:
    model = Nested(data={"_sa_x": 1, "keep": None, "deep": [{"n": None}]})
    assert jsonable_encoder(model) == {
        "data": {"keep": None, "deep": [{"n": None}]},
        "maybe": None,
    }
    assert jsonable_encoder(model, exclude_none=True) == {"data": {"deep": [{}]}}


def test_model_field_serializer_is_used() -> None:
    class Event(BaseModel):
        at: datetime.datetime

        @field_serializer("at")
        def _at(self, value: datetime.datetime) -> str:
            return value.replace(tzinfo=datetime.UTC).isoformat()

    event = Event(at=datetime.datetime(2019, 1, 1, 8))
    assert jsonable_encoder(event) == {"at": "2019-01-01T08:00:00+00:00"}


def test_custom_encoder_exact_type_and_subclass() -> None:
    class SafeDatetime(datetime.datetime):
        pass

    value = SafeDatetime(2020, 1, 2, 3, 4, 5)
    data = {"dt": value}
    assert jsonable_encoder(data, custom_encoder={SafeDatetime: lambda o: "exact"}) == {
        "dt": "exact"
    }
    by_base = jsonable_encoder(data, custom_encoder={datetime.datetime: lambda o: "base"})
    assert by_base == {"dt": "base"}
    assert jsonable_encoder(data) == {"dt": value.isoformat()}


def test_custom_encoder_runs_before_builtin_handling() -> None:
    assert jsonable_encoder("abc", custom_encoder={str: str.upper}) == "ABC"
    assert jsonable_encoder(Role.admin, custom_encoder={Role: lambda r: r.name.upper()}) == (
        "ADMIN"
    )
    assert jsonable_encoder([1, "a"], custom_encoder={int: lambda i: i * 10}) == [10, "a"]


def test_paths() -> None:
    assert jsonable_encoder(PurePath("/foo", "bar")) == str(PurePath("/foo", "bar"))
    assert jsonable_encoder(PurePosixPath("/foo", "bar")) == "/foo/bar"
    assert jsonable_encoder(PureWindowsPath("/foo", "bar")) == "\\foo\\bar"
    assert jsonable_encoder({"p": Path("a")}) == {"p": "a"}


def test_encoders_by_type() -> None:
    uid = UUID("12345678-1234-5678-1234-567812345678")
    values = {
        "date": datetime.date(2020, 1, 2),
        "datetime": datetime.datetime(2020, 1, 2, 3, 4, 5),
        "time": datetime.time(3, 4),
        "delta": datetime.timedelta(minutes=1, milliseconds=500),
        "bytes": b"hi",
        "uuid": uid,
        "ip": IPv4Address("127.0.0.1"),
        "net": IPv6Network("::/128"),
        "secret": SecretStr("pw"),
        "email": NameEmail("John", "john@example.com"),
        "url": Url("https://example.com/x"),
    }
    assert jsonable_encoder(values) == {
        "date": "2020-01-02",
        "datetime": "2020-01-02T03:04:05",
        "time": "03:04:00",
        "delta": 60.5,
        "bytes": "hi",
        "uuid": str(uid),
        "ip": "127.0.0.1",
        "net": "::/128",
        "secret": "**********",
        "email": "John <john@example.com>",
        "url": "https://example.com/x",
    }


def test_subclasses_use_class_tuples() -> None:
    class MyDate(datetime.date):
        pass

    class MyDecimal(Decimal):
        pass

    assert jsonable_encoder(MyDate(2020, 1, 2)) == "2020-01-02"
    assert jsonable_encoder(MyDecimal("2")) == 2


def test_decimals() -> None:
    assert jsonable_encoder({"v": Decimal(2)}) == {"v": 2}
    assert isinstance(jsonable_encoder(Decimal("2")), int)
    assert jsonable_encoder(Decimal("1.0")) == 1.0
    assert isinstance(jsonable_encoder(Decimal("1.0")), float)
    assert jsonable_encoder(Decimal(1.23)) == 1.23
    assert math.isnan(jsonable_encoder(Decimal("NaN")))
    assert math.isinf(jsonable_encoder(Decimal("-Infinity")))
    assert decimal_encoder(Decimal("10")) == 10


def test_undefined_becomes_none() -> None:
    assert jsonable_encoder({"v": PydanticUndefined}) == {"v": None}


def test_deque_of_models() -> None:
    assert jsonable_encoder(deque([WithDefaults(foo="x")]))[0]["foo"] == "x"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_pydantic_color() -> None:
    from pydantic.color import Color

    assert jsonable_encoder({"c": Color("blue")}) == {"c": "blue"}


def test_pydantic_v1_models_are_rejected() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydantic import v1

        class ModelV1(v1.BaseModel):
            name: str

    with pytest.raises(PydanticV1NotSupportedError, match="pydantic.v1"):
        jsonable_encoder(ModelV1(name="x"))


def test_isoformat_and_class_tuples() -> None:
    assert isoformat(datetime.time(1, 2)) == "01:02:00"
    grouped = generate_encoders_by_class_tuples({int: str, float: str, bytes: repr})
    assert grouped == {str: (int, float), repr: (bytes,)}
    assert set(encoders_by_class_tuples[str]) >= {UUID, IPv4Address}
    assert ENCODERS_BY_TYPE[datetime.date] is isoformat


def test_encoders_by_type_can_be_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ENCODERS_BY_TYPE, datetime.date, lambda d: d.year)
    assert jsonable_encoder({"d": datetime.date(2021, 5, 6)}) == {"d": 2021}
    uid = UUID(int=1)
    assert jsonable_encoder({uid}) == [str(uid)]  # set items are still encoded one by one
