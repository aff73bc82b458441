"""``jsonable_encoder`` equals FastAPI's documented conversion on generated values.

The reference below is written from FastAPI 0.165's documented rules (tutorial "JSON Compatible
Encoder" and the function's parameter docs): custom encoders first; Pydantic models through
``model_dump(mode="json", by_alias=...)`` (include/exclude/exclude_* passed to it); dataclasses
through ``dataclasses.asdict``; an Enum member as its ``value`` (as it is); paths as ``str``;
``str``/``int``/``float``/``None`` unchanged; dicts key by key (keys encoded too, ``None`` values
dropped with ``exclude_none``, ``_sa*`` keys dropped while ``sqlalchemy_safe``, include/exclude
on the keys); lists, tuples, sets, frozensets, deques and generators as lists; then the type
table (bytes decoded, dates/times ``isoformat()``, timedelta as seconds, Decimal as int without
an exponent else float, UUID/IP addresses as ``str``). Generated values nest all of these
(dataclasses and models holding each other, enums with non-JSON values, sets, ``_sa`` keys,
None). Hasten's result must be equal in value *and* type at every level (``1`` is not ``1.0``
nor ``True``), and a value the reference refuses must be refused with the same exception type.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from collections import deque
from decimal import Decimal
from ipaddress import IPv4Address, IPv6Address
from pathlib import PurePosixPath
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from property_support import bounded
from pydantic import BaseModel, ConfigDict, Field

from hasten.encoders import jsonable_encoder


class Color(str, enum.Enum):
    red = "red"
    blue = "blue"


class Size(enum.IntEnum):
    small = 1
    large = 3


class Odd(enum.Enum):
    """Members whose values are not JSON: the encoder returns them as they are."""

    pair = (1, 2)
    when = dt.date(2020, 1, 2)


@dataclasses.dataclass
class Point:
    x: Any
    y: Any = None


@dataclasses.dataclass
class Box:
    name: str
    points: list[Any]
    extra: dict[str, Any]


class Item(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    item_id: int = Field(default=0, alias="itemId")
    price: Decimal | None = None
    tags: set[str] = set()
    when: dt.datetime | None = None
    color: Color | None = None


class Order(BaseModel):
    items: list[Item] = []
    note: str | None = None
    meta: dict[str, int] = {}


# --- the reference ------------------------------------------------------------------------


def _decimal(value: Decimal) -> int | float:
    exponent = value.as_tuple().exponent
    return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)


_BY_TYPE: list[tuple[type, Any]] = [
    (bytes, lambda o: o.decode()),
    (dt.datetime, lambda o: o.isoformat()),
    (dt.date, lambda o: o.isoformat()),
    (dt.time, lambda o: o.isoformat()),
    (dt.timedelta, lambda o: o.total_seconds()),
    (Decimal, _decimal),
    (uuid.UUID, str),
    (IPv4Address, str),
    (IPv6Address, str),
]


_NO_MATCH = object()


def _custom(obj: Any, custom_encoder: dict[Any, Any] | None) -> Any:
    """A custom encoder's answer (exact type first, then isinstance), or ``_NO_MATCH``."""
    encoders = custom_encoder or {}
    if type(obj) in encoders:
        return encoders[type(obj)](obj)
    for kind, encode in encoders.items():
        if isinstance(obj, kind):
            return encode(obj)
    return _NO_MATCH


def _encode_dict(obj: dict[Any, Any], include: Any, exclude: Any, options: dict[str, Any]) -> Any:
    keys = set(obj)
    if include is not None:
        keys &= set(include)
    if exclude is not None:
        keys -= set(exclude)
    out = {}
    for key, value in obj.items():
        if key not in keys or (value is None and options["exclude_none"]):
            continue
        if options["sqlalchemy_safe"] and isinstance(key, str) and key.startswith("_sa"):
            continue
        out[reference(key, **options)] = reference(value, **options)
    return out


def _scalar(obj: Any) -> Any:
    for kind, encode in _BY_TYPE:
        if type(obj) is kind:
            return encode(obj)
    raise TypeError(f"the reference does not know {type(obj)!r}")


def reference(
    obj: Any,
    include: Any = None,
    exclude: Any = None,
    by_alias: bool = True,
    exclude_none: bool = False,
    custom_encoder: dict[Any, Any] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    options = {
        "by_alias": by_alias,
        "exclude_none": exclude_none,
        "custom_encoder": custom_encoder,
        "sqlalchemy_safe": sqlalchemy_safe,
    }
    custom = _custom(obj, custom_encoder)
    if custom is not _NO_MATCH:
        return custom
    if isinstance(obj, BaseModel):
        dumped = obj.model_dump(
            mode="json",
            include=include,
            exclude=exclude,
            by_alias=by_alias,
            exclude_none=exclude_none,
        )
        # The model's own dump decided the shape: no custom encoders, aliases are done.
        return reference(dumped, exclude_none=exclude_none, sqlalchemy_safe=sqlalchemy_safe)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return reference(dataclasses.asdict(obj), include, exclude, **options)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, PurePosixPath):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float)):
        return obj
    if isinstance(obj, dict):
        return _encode_dict(obj, include, exclude, options)
    if isinstance(obj, (list, tuple, set, frozenset, deque)):
        return [reference(item, include, exclude, **options) for item in obj]
    return _scalar(obj)


# --- generated values ---------------------------------------------------------------------

_TEXT = st.text(max_size=8)
_KEYS = st.one_of(_TEXT, st.sampled_from(["_sa_state", "_sa", "_s", "sa_x", "itemId", "name"]))
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    _TEXT,
    st.sampled_from([*Color, *Size, *Odd]),
)
_TYPED = st.one_of(
    st.binary(max_size=6).filter(lambda b: _utf8(b)),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC])),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.integers(-(10**6), 10**6).map(lambda i: Decimal(i).scaleb(3)),  # a positive exponent
    st.uuids(),
    st.ip_addresses(),
    st.text("abc/", max_size=6).map(PurePosixPath),
)
_HASHABLE = st.one_of(_SCALARS, _TYPED)


def _utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


_ITEMS = st.builds(
    Item,
    name=_TEXT,
    itemId=st.integers(-5, 5),
    price=st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=2),
    tags=st.sets(_TEXT, max_size=3),
    when=st.none() | st.datetimes(),
    color=st.none() | st.sampled_from(Color),
)
_ORDERS = st.builds(
    Order,
    items=st.lists(_ITEMS, max_size=3),
    note=st.none() | _TEXT,
    meta=st.dictionaries(_TEXT, st.integers(), max_size=3),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.lists(children, max_size=3).map(deque),
        st.sets(_HASHABLE, max_size=4),
        st.frozensets(_HASHABLE, max_size=4),
        st.dictionaries(_KEYS, children, max_size=4),
        st.dictionaries(st.sampled_from([*Color, *Size]) | st.integers(0, 3), children, max_size=3),
        st.builds(Point, children, children),
        st.builds(
            Box, _TEXT, st.lists(children, max_size=3), st.dictionaries(_KEYS, children, max_size=3)
        ),
        _ITEMS,
        _ORDERS,
    )


VALUES = st.recursive(st.one_of(_SCALARS, _TYPED), _containers, max_leaves=20)


def _typed(value: Any) -> Any:
    """``value`` with every scalar tagged by its type, so 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_typed(v) for v in value])
    return (type(value).__name__, value)


def _outcome(function: Any, value: Any, options: dict[str, Any]) -> Any:
    try:
        return _typed(function(value, **options))
    except Exception as error:  # the same refusal is the expected answer
        return ("raised", type(error).__name__)


_OPTIONS = st.fixed_dictionaries(
    {
        "by_alias": st.booleans(),
        "exclude_none": st.booleans(),
        "sqlalchemy_safe": st.booleans(),
        "custom_encoder": st.sampled_from(
            [None, {dt.datetime: lambda d: f"dt:{d.year}"}, {Color: lambda c: c.name.upper()}]
        ),
    }
)


@bounded(400)
@given(value=VALUES, options=_OPTIONS)
def test_matches_the_reference(value: Any, options: dict[str, Any]) -> None:
    assert _outcome(jsonable_encoder, value, options) == _outcome(reference, value, options)


@bounded(200)
@given(
    value=st.one_of(st.dictionaries(_KEYS, VALUES, max_size=5), _ORDERS, _ITEMS),
    include=st.none() | st.sets(_KEYS, max_size=3),
    exclude=st.none() | st.sets(_KEYS, max_size=3),
    options=_OPTIONS,
)
def test_include_exclude(value: Any, include: Any, exclude: Any, options: dict[str, Any]) -> None:
    if isinstance(value, BaseModel):  # model_dump takes field names
        fields = ["name", "item_id", "price", "tags", "when", "color", "items", "note", "meta"]
        include = None if include is None else {f for f in fields if hash(f) % 2} | set()
        exclude = None if exclude is None else {fields[len(exclude) % len(fields)]}
    options = {**options, "include": include, "exclude": exclude}
    assert _outcome(jsonable_encoder, value, options) == _outcome(reference, value, options)


def test_generators_and_non_utf8_bytes() -> None:
    assert jsonable_encoder(x for x in (1, "a", None)) == [1, "a", None]
    assert _outcome(jsonable_encoder, b"\xff", {}) == ("raised", "UnicodeDecodeError")
