"""Questions about annotations, asked at startup only (never per request)."""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import decimal
import enum
import types
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Annotated, Any, Generic, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from starlette.datastructures import UploadFile as StarletteUploadFile

_SEQUENCE_TYPES: tuple[type, ...] = (list, set, frozenset, tuple, deque)
_UNIONS: tuple[Any, ...] = (Union, types.UnionType)
#: Class attributes by which a generic tells Pydantic how to validate it.
_SCHEMA_HOOKS = ("__pydantic_core_schema__", "__get_pydantic_core_schema__")


def is_subclass(cls: Any, parents: type | tuple[type, ...]) -> bool:
    """``issubclass`` that answers False for non-classes and generic aliases."""
    try:
        return isinstance(cls, type) and issubclass(cls, parents)
    except TypeError:
        return False


def _origin(annotation: Any) -> Any:
    """``typing.get_origin``, answered at once for a class: only ``Generic`` has one."""
    if isinstance(annotation, type) and annotation is not Generic:
        return None
    return get_origin(annotation)


def strip_annotated(annotation: Any) -> Any:
    """``Annotated[T, ...]`` → ``T`` (repeatedly)."""
    while _origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def union_args(annotation: Any) -> tuple[Any, ...] | None:
    """The members of a ``Union``/``X | Y``, or None when it is not a union."""
    if _origin(annotation) in _UNIONS:
        return get_args(annotation)
    return None


def _is_sequence_class(cls: Any) -> bool:
    if not isinstance(cls, type):  # no origin (None), an alias: not a class at all
        return False
    return not is_subclass(cls, (str, bytes)) and is_subclass(cls, _SEQUENCE_TYPES)


def is_sequence(annotation: Any) -> bool:
    """A list/set/tuple-like annotation (also inside Optional/Union/Annotated)."""
    annotation = strip_annotated(annotation)
    members = union_args(annotation)
    if members is not None:
        return any(is_sequence(arg) for arg in members)
    return _is_sequence_class(annotation) or _is_sequence_class(_origin(annotation))


def _is_complex_class(cls: Any) -> bool:
    return (
        is_subclass(cls, (BaseModel, Mapping, StarletteUploadFile))
        or _is_sequence_class(cls)
        or dataclasses.is_dataclass(cls)
    )


def is_complex(annotation: Any) -> bool:
    """Models, mappings, sequences, dataclasses, files: things that are not one scalar."""
    annotation = strip_annotated(annotation)
    members = union_args(annotation)
    if members is not None:
        return any(is_complex(arg) for arg in members)
    if _is_complex_class(annotation):
        return True
    origin = _origin(annotation)  # a parametrized generic: judged by its class
    return _is_complex_class(origin) or any(hasattr(origin, hook) for hook in _SCHEMA_HOOKS)


def is_scalar(annotation: Any) -> bool:
    """The opposite of :func:`is_complex` (``...`` counts as scalar for ``tuple[int, ...]``)."""
    return annotation is Ellipsis or not is_complex(annotation)


def is_scalar_sequence(annotation: Any) -> bool:
    """``list[int]``, ``set[str] | None``: a sequence of scalars (query/header lists).

    A union qualifies when one member is such a sequence and every other one is a scalar
    (``list[int] | None``, ``list[int] | int``).
    """
    annotation = strip_annotated(annotation)
    members = union_args(annotation)
    if members is not None:
        lists = [is_scalar_sequence(arg) for arg in members]
        return any(lists) and all(
            ok or is_scalar(arg) for ok, arg in zip(lists, members, strict=True)
        )
    if not is_sequence(annotation):
        return False
    return all(map(is_scalar, get_args(annotation)))  # a bare ``list``: no arguments, True


def _any_member(annotation: Any, check: Any) -> bool:
    annotation = strip_annotated(annotation)
    members = union_args(annotation)
    if members is not None:
        return any(check(strip_annotated(arg)) for arg in members)
    return bool(check(annotation))


def is_upload_file(annotation: Any) -> bool:
    """``UploadFile`` or ``UploadFile | None``."""
    return _any_member(annotation, lambda t: is_subclass(t, StarletteUploadFile))


def is_bytes(annotation: Any) -> bool:
    """``bytes`` or ``bytes | None``."""
    return _any_member(annotation, lambda t: is_subclass(t, bytes))


def _sequence_of(annotation: Any, check: Any) -> bool:
    def one(t: Any) -> bool:
        if not _is_sequence_class(_origin(t)):
            return False
        args = get_args(t)
        return bool(args) and check(strip_annotated(args[0]))

    return _any_member(annotation, one)


def is_upload_file_sequence(annotation: Any) -> bool:
    """``list[UploadFile]`` (optionally in a union)."""
    return _sequence_of(annotation, is_upload_file)


def is_bytes_sequence(annotation: Any) -> bool:
    """``list[bytes]`` (optionally in a union)."""
    return _sequence_of(annotation, is_bytes)


def model_type(annotation: Any) -> type[BaseModel] | None:
    """The Pydantic model class of ``Model`` / ``Model | None``, else None."""
    annotation = strip_annotated(annotation)
    if is_subclass(annotation, BaseModel):
        return annotation  # type: ignore[no-any-return]
    members = union_args(annotation)
    if members is None:
        return None
    models = [m for m in members if is_subclass(m, BaseModel)]
    rest = [m for m in members if m is not type(None) and not is_subclass(m, BaseModel)]
    return models[0] if len(models) == 1 and not rest else None


def form_models(annotation: Any) -> list[type[BaseModel]]:
    """The models of a form parameter typed as a model or a union of models."""
    annotation = strip_annotated(annotation)
    if is_subclass(annotation, BaseModel):
        return [annotation]
    members = union_args(annotation)
    if members is None:
        return []
    models = [m for m in members if is_subclass(strip_annotated(m), BaseModel)]
    rest = [m for m in members if m is not type(None) and m not in models]
    return [] if rest else [strip_annotated(m) for m in models]


def is_optional(annotation: Any) -> bool:
    """Whether ``None`` is one of the members of the annotation."""
    members = union_args(strip_annotated(annotation))
    return members is not None and type(None) in members


def uses_pydantic_v1(annotation: Any) -> bool:
    """Whether a ``pydantic.v1`` model appears anywhere in the annotation."""
    import sys

    v1 = sys.modules.get("pydantic.v1")
    if v1 is None:  # no v1 model can exist unless pydantic.v1 was imported
        return False
    if is_subclass(annotation, v1.BaseModel):
        return True
    return any(uses_pydantic_v1(arg) for arg in get_args(annotation))


_STREAM_ORIGINS = {
    collections.abc.AsyncIterable,
    collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator,
    collections.abc.Iterable,
    collections.abc.Iterator,
    collections.abc.Generator,
}


# Classes every Pydantic version validates: an annotation made only of these (through unions,
# ``Annotated`` and the containers below) needs no schema check at declaration.
_KNOWN_LEAVES: frozenset[Any] = frozenset(
    {
        Any, None, type(None), int, float, str, bool, bytes, decimal.Decimal, uuid.UUID,
        datetime.datetime, datetime.date, datetime.time, datetime.timedelta,
    }
)  # fmt: skip
_KNOWN_CONTAINERS: frozenset[Any] = frozenset(
    {list, set, frozenset, tuple, dict, deque, collections.abc.Sequence, collections.abc.Mapping}
)


def needs_schema_check(annotation: Any) -> bool:
    """Whether Pydantic might fail to build a schema for ``annotation``.

    False for annotations made only of well-known parts (scalars, enums, Pydantic models,
    types that define their own schema, and lists/dicts/unions of those); True otherwise,
    e.g. for a plain class, a dataclass or a type this function does not recognise.
    """
    annotation = strip_annotated(annotation)
    origin = _origin(annotation)
    if origin is None:
        return not _known_leaf(annotation)
    if origin is Literal:
        return False
    if origin not in _UNIONS and origin not in _KNOWN_CONTAINERS:
        return True
    return any(arg is not Ellipsis and needs_schema_check(arg) for arg in get_args(annotation))


def _known_leaf(annotation: Any) -> bool:
    try:
        if annotation in _KNOWN_LEAVES:
            return True
    except TypeError:  # unhashable
        return False
    if not isinstance(annotation, type):
        return False
    return (
        issubclass(annotation, (BaseModel, enum.Enum, StarletteUploadFile))
        or hasattr(annotation, "__get_pydantic_core_schema__")
        or annotation in _KNOWN_CONTAINERS
    )


def stream_item_type(annotation: Any) -> Any:
    """``X`` of ``AsyncIterator[X]``/``Iterable[X]``/…; ``Any`` when bare; None otherwise."""
    if _origin(annotation) in _STREAM_ORIGINS:
        args = get_args(annotation)
        return args[0] if args else Any
    return None
