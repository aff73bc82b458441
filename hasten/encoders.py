"""``jsonable_encoder``: turn any object into data that ``json.dumps`` accepts.

Dispatch goes by exact type first (``str``, ``int``, ``dict``, ``list`` …), so the common
case costs one dict lookup; the slower ``isinstance`` ladder only runs for other objects.
Results are the same as FastAPI's ``jsonable_encoder``.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
from collections import defaultdict, deque
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
)
from pathlib import Path, PurePath
from re import Pattern
from types import GeneratorType
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from pydantic.networks import AnyUrl, NameEmail
from pydantic.types import SecretBytes, SecretStr
from pydantic_core import PydanticUndefinedType
from pydantic_core import Url as Url

from hasten._compat.shared import is_pydantic_v1_model_instance
from hasten.exceptions import PydanticV1NotSupportedError
from hasten.types import IncEx

__all__ = [
    "ENCODERS_BY_TYPE",
    "decimal_encoder",
    "encoders_by_class_tuples",
    "generate_encoders_by_class_tuples",
    "isoformat",
    "jsonable_encoder",
]

try:  # deprecated in Pydantic v2, still encoded for backwards compatibility
    from pydantic.color import Color
except ImportError:  # pragma: no cover

    class Color:  # type: ignore[no-redef]
        """Placeholder when ``pydantic.color`` is gone."""


try:
    from pydantic_extra_types.color import Color as ExtraColor  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover

    class ExtraColor:  # type: ignore[no-redef]
        """Placeholder when ``pydantic-extra-types`` is not installed."""


def isoformat(o: datetime.date | datetime.time) -> str:
    """ISO 8601 text of a date, datetime or time."""
    return o.isoformat()


def decimal_encoder(dec_value: Decimal) -> int | float:
    """A ``Decimal`` without fractional exponent becomes an ``int``, any other a ``float``.

    ``Decimal("1")`` → ``1``, ``Decimal("1.0")`` → ``1.0``, ``Decimal("NaN")`` → ``nan``.
    """
    exponent = dec_value.as_tuple().exponent
    return int(dec_value) if isinstance(exponent, int) and exponent >= 0 else float(dec_value)


def _decode_bytes(o: bytes) -> str:
    return o.decode()


def _total_seconds(o: datetime.timedelta) -> float:
    return o.total_seconds()


def _enum_value(o: Enum) -> Any:
    return o.value


def _pattern_text(o: Pattern[Any]) -> Any:
    return o.pattern


# The types each encoder serves. The groups are listed in the order the subclass fallback
# (``encoders_by_class_tuples``) tries them: bytes, text, ISO dates, durations, decimals, enums,
# containers, regular expressions.
_ENCODED_AS_TEXT: tuple[type[Any], ...] = (
    Color,
    ExtraColor,
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
    NameEmail,
    Path,
    SecretBytes,
    SecretStr,
    UUID,
    Url,
    AnyUrl,
)
_ENCODED_AS_LIST: tuple[type[Any], ...] = (frozenset, deque, GeneratorType, set)
_ENCODER_GROUPS: tuple[tuple[Callable[[Any], Any], tuple[type[Any], ...]], ...] = (
    (_decode_bytes, (bytes,)),
    (str, _ENCODED_AS_TEXT),
    (isoformat, (datetime.date, datetime.datetime, datetime.time)),
    (_total_seconds, (datetime.timedelta,)),
    (decimal_encoder, (Decimal,)),
    (_enum_value, (Enum,)),
    (list, _ENCODED_AS_LIST),
    (_pattern_text, (Pattern,)),
)

ENCODERS_BY_TYPE: dict[type[Any], Callable[[Any], Any]] = {
    type_: encoder for encoder, types in _ENCODER_GROUPS for type_ in types
}
"""Encoder per type, used by exact type and then (via ``encoders_by_class_tuples``) by subclass.

Add an entry to teach every ``jsonable_encoder`` call a new type; ``custom_encoder`` does the same
for a single call.
"""


def generate_encoders_by_class_tuples(
    type_encoder_map: dict[Any, Callable[[Any], Any]],
) -> dict[Callable[[Any], Any], tuple[Any, ...]]:
    """Group a ``{type: encoder}`` map into ``{encoder: (type, ...)}`` for ``isinstance``."""
    grouped: defaultdict[Callable[[Any], Any], tuple[Any, ...]] = defaultdict(tuple)
    for type_, encoder in type_encoder_map.items():
        grouped[encoder] = (*grouped[encoder], type_)
    return grouped


encoders_by_class_tuples = generate_encoders_by_class_tuples(ENCODERS_BY_TYPE)

_SEQUENCE_TYPES = (list, set, frozenset, GeneratorType, tuple, deque)
_PRIMITIVES = frozenset({str, int, float, bool, type(None)})
# Exact types no earlier rule can claim, so ENCODERS_BY_TYPE can be consulted first.
_LEAF_TYPES = frozenset(
    {datetime.date, datetime.datetime, datetime.time, datetime.timedelta, Decimal, UUID, bytes}
)
_UNSET: Any = object()


def _clean_json(data: Any, exclude_none: bool, sqlalchemy_safe: bool) -> Any:
    """Re-walk ``model_dump(mode="json")`` output: drop ``_sa*`` keys and (opt.) ``None`` values."""
    if type(data) is dict:
        return {
            key: _clean_json(value, exclude_none, sqlalchemy_safe)
            for key, value in data.items()
            if not (sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa"))
            and not (exclude_none and value is None)
        }
    if type(data) is list:
        return [_clean_json(item, exclude_none, sqlalchemy_safe) for item in data]
    return data


class _Encoder:
    """The options of one ``jsonable_encoder`` call, shared by the whole recursion."""

    __slots__ = (
        "by_alias",
        "custom",
        "exclude_defaults",
        "exclude_none",
        "exclude_unset",
        "sqlalchemy_safe",
    )

    def __init__(
        self,
        by_alias: bool,
        exclude_unset: bool,
        exclude_defaults: bool,
        exclude_none: bool,
        custom: dict[Any, Callable[[Any], Any]],
        sqlalchemy_safe: bool,
    ) -> None:
        self.by_alias = by_alias
        self.exclude_unset = exclude_unset
        self.exclude_defaults = exclude_defaults
        self.exclude_none = exclude_none
        self.custom = custom
        self.sqlalchemy_safe = sqlalchemy_safe

    def encode(self, obj: Any, include: Any, exclude: Any) -> Any:
        if self.custom:
            result = self.encode_custom(obj)
            if result is not _UNSET:
                return result
        cls = type(obj)
        if cls in _PRIMITIVES:
            return obj
        # Containers are walked in loops here, one frame per level (a comprehension or a
        # helper call adds one), so deep input recurses no deeper than FastAPI's encoder.
        if cls is dict:
            if include is None and exclude is None:  # encode_dict, inlined
                encoded: dict[Any, Any] = {}
                drop_sa, drop_none = self.sqlalchemy_safe, self.exclude_none
                for key, value in obj.items():
                    if (drop_none and value is None) or (
                        drop_sa and isinstance(key, str) and key.startswith("_sa")
                    ):
                        continue
                    encoded[self.encode(key, None, None)] = self.encode(value, None, None)
                return encoded
            return self.encode_dict(obj, include, exclude)
        if cls is list or cls is tuple:
            items: list[Any] = []
            for item in obj:
                items.append(self.encode(item, include, exclude))
            return items
        if cls in _LEAF_TYPES:
            leaf_encoder = ENCODERS_BY_TYPE.get(cls)
            if leaf_encoder is not None:
                return leaf_encoder(obj)
        return self.encode_other(obj, include, exclude)

    def encode_custom(self, obj: Any) -> Any:
        encoder = self.custom.get(type(obj))
        if encoder is not None:
            return encoder(obj)
        for encoder_type, encoder in self.custom.items():
            if isinstance(obj, encoder_type):
                return encoder(obj)
        return _UNSET

    def encode_dict(self, obj: dict[Any, Any], include: Any, exclude: Any) -> dict[Any, Any]:
        allowed: Any = None
        if include is not None or exclude is not None:
            allowed = set(obj) if include is None else set(obj) & set(include)
            if exclude is not None:
                allowed -= set(exclude)
        drop_sa, drop_none = self.sqlalchemy_safe, self.exclude_none
        encoded: dict[Any, Any] = {}
        for key, value in obj.items():
            if drop_sa and isinstance(key, str) and key.startswith("_sa"):
                continue
            if (drop_none and value is None) or (allowed is not None and key not in allowed):
                continue
            encoded[self.encode(key, None, None)] = self.encode(value, None, None)
        return encoded

    def encode_model(self, obj: BaseModel, include: Any, exclude: Any) -> Any:
        data = obj.model_dump(
            mode="json",
            include=include,
            exclude=exclude,
            by_alias=self.by_alias,
            exclude_unset=self.exclude_unset,
            exclude_none=self.exclude_none,
            exclude_defaults=self.exclude_defaults,
        )
        return _clean_json(data, self.exclude_none, self.sqlalchemy_safe)

    def encode_other(self, obj: Any, include: Any, exclude: Any) -> Any:
        if isinstance(obj, BaseModel):
            return self.encode_model(obj, include, exclude)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return self.encode(dataclasses.asdict(obj), include, exclude)
        if isinstance(obj, Enum):
            return obj.value
        if isinstance(obj, PurePath):
            return str(obj)
        if isinstance(obj, (str, int, float)):
            return obj
        if isinstance(obj, PydanticUndefinedType):
            return None
        if isinstance(obj, dict):
            return self.encode_dict(obj, include, exclude)
        if isinstance(obj, _SEQUENCE_TYPES):
            return [self.encode(item, include, exclude) for item in obj]
        encoder = ENCODERS_BY_TYPE.get(type(obj))
        if encoder is not None:
            return encoder(obj)
        for encoder, classes in encoders_by_class_tuples.items():
            if isinstance(obj, classes):
                return encoder(obj)
        return self.encode(_as_mapping(obj), include, exclude)


def _as_mapping(obj: Any) -> Any:
    """Last resort: ``dict(obj)``, else ``vars(obj)``; ``ValueError([errors])`` if both fail."""
    if is_pydantic_v1_model_instance(obj):
        raise PydanticV1NotSupportedError(
            f"pydantic.v1 models are no longer supported by FastAPI. Please update the model {obj!r}."
        )
    errors: list[Exception] = []
    try:
        return dict(obj)
    except Exception as exc:
        errors.append(exc)
    try:
        return vars(obj)
    except Exception as exc:
        errors.append(exc)
        raise ValueError(errors) from exc


def jsonable_encoder(
    obj: Any,
    include: IncEx | None = None,
    exclude: IncEx | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: dict[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    """Convert ``obj`` into JSON-compatible data (dicts, lists, str, int, float, bool, None).

    ``include``/``exclude``/``by_alias``/``exclude_*`` act like Pydantic's ``model_dump``
    options (and filter the keys of a top-level dict); ``custom_encoder`` maps types to
    functions tried before anything else; ``sqlalchemy_safe`` drops keys starting with ``_sa``.
    """
    if type(obj) in _PRIMITIVES and not custom_encoder:
        return obj
    include_keys: Any = include
    if include is not None and not isinstance(include, (set, dict)):
        include_keys = set(include)
    exclude_keys: Any = exclude
    if exclude is not None and not isinstance(exclude, (set, dict)):
        exclude_keys = set(exclude)
    encoder = _Encoder(
        by_alias,
        exclude_unset,
        exclude_defaults,
        exclude_none,
        custom_encoder or {},
        sqlalchemy_safe,
    )
    return encoder.encode(obj, include_keys, exclude_keys)


_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


_SAFE_DEPTH = 100
_TOO_DEEP = "..."


def _json_safe(data: Any, depth: int = 0) -> Any:
    """``data`` with what strict JSON cannot carry replaced: a copy, for error bodies.

    Non-finite floats become the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; lone
    surrogates (``"\\ud800"`` in a JSON string) become U+FFFD, as undecodable bytes in a URL
    do; bytes are decoded with U+FFFD for what is not UTF-8. Containers are walked (tuples and
    sets become lists) down to 100 levels; deeper ones become ``"..."``. Any other value is
    left to ``jsonable_encoder``.
    """
    if isinstance(data, str):
        return _LONE_SURROGATE.sub("\ufffd", data)
    if isinstance(data, float):
        return data if math.isfinite(data) else _NON_FINITE.get(data, "NaN")
    if isinstance(data, dict | list | tuple | set | frozenset):
        if depth >= _SAFE_DEPTH:
            return _TOO_DEEP
        if isinstance(data, dict):
            out: dict[Any, Any] = {}
            for key, value in data.items():
                out[_json_safe(key, depth + 1)] = _json_safe(value, depth + 1)
            return out
        items = []
        for value in data:
            items.append(_json_safe(value, depth + 1))
        return items
    if isinstance(data, bytes | bytearray):
        return _LONE_SURROGATE.sub("\ufffd", bytes(data).decode("utf-8", "replace"))
    return data
