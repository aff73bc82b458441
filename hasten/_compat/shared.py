"""Annotation predicates over Pydantic v2 / typing, the names FastAPI keeps in ``_compat.shared``."""

from __future__ import annotations

import types
import warnings
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import is_dataclass
from typing import Annotated, Any, TypeGuard, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.version import VERSION as PYDANTIC_VERSION
from starlette.datastructures import UploadFile

_T = TypeVar("_T")

PYDANTIC_VERSION_MINOR_TUPLE: tuple[int, ...] = tuple(
    int(part) for part in PYDANTIC_VERSION.split(".")[:2]
)

sequence_annotation_to_type: dict[Any, type[Any]] = {
    Sequence: list,
    list: list,
    tuple: tuple,
    set: set,
    frozenset: frozenset,
    deque: deque,
}
"""The concrete container built for each sequence annotation."""

sequence_types: tuple[type[Any], ...] = tuple(sequence_annotation_to_type)


def lenient_issubclass(
    cls: Any, class_or_tuple: type[_T] | tuple[type[_T], ...] | None
) -> TypeGuard[type[_T]]:
    """``issubclass`` that answers ``False`` for non-classes and generic aliases."""
    if not isinstance(cls, type) or isinstance(cls, types.GenericAlias):
        return False
    try:
        return issubclass(cls, class_or_tuple)  # type: ignore[arg-type]
    except TypeError:  # pragma: no cover - e.g. typing special forms
        return False


def _is_union(origin: Any) -> bool:
    return origin is Union or origin is types.UnionType


def _strip_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _plain_sequence(annotation: Any) -> bool:
    return not lenient_issubclass(annotation, (str, bytes)) and lenient_issubclass(
        annotation, sequence_types
    )


def field_annotation_is_sequence(annotation: Any) -> bool:
    """``list[int]``, ``tuple[str, ...]``, ``set[X] | None`` … (not ``str``/``bytes``)."""
    annotation = _strip_annotated(annotation)
    origin = get_origin(annotation)
    if _is_union(origin):
        return any(field_annotation_is_sequence(arg) for arg in get_args(annotation))
    return _plain_sequence(annotation) or _plain_sequence(origin)


def value_is_sequence(value: Any) -> bool:
    """A list/tuple/set/… value, but not a string."""
    return isinstance(value, sequence_types) and not isinstance(value, (str, bytes))


def _complex_class(annotation: Any) -> bool:
    if lenient_issubclass(annotation, (BaseModel, Mapping, UploadFile)):
        return True
    return _plain_sequence(annotation) or is_dataclass(annotation)


def field_annotation_is_complex(annotation: Any) -> bool:
    """Models, mappings, sequences, dataclasses, uploads: things a query string can't hold."""
    annotation = _strip_annotated(annotation)
    origin = get_origin(annotation)
    if _is_union(origin):
        return any(field_annotation_is_complex(arg) for arg in get_args(annotation))
    if _complex_class(annotation) or _complex_class(origin):
        return True
    return hasattr(origin, "__pydantic_core_schema__") or hasattr(
        origin, "__get_pydantic_core_schema__"
    )


def field_annotation_is_scalar(annotation: Any) -> bool:
    """Not complex (``...`` counts as scalar so ``tuple[int, ...]`` works)."""
    return annotation is Ellipsis or not field_annotation_is_complex(annotation)


def field_annotation_is_scalar_sequence(annotation: Any) -> bool:
    """A sequence of scalars (``list[int]``), possibly in a union with scalars."""
    annotation = _strip_annotated(annotation)
    if _is_union(get_origin(annotation)):
        found = False
        for arg in get_args(annotation):
            if field_annotation_is_scalar_sequence(arg):
                found = True
            elif not field_annotation_is_scalar(arg):
                return False
        return found
    if not field_annotation_is_sequence(annotation):
        return False
    return all(field_annotation_is_scalar(arg) for arg in get_args(annotation))


def _is_or_contains(annotation: Any, cls: type[Any]) -> bool:
    if lenient_issubclass(annotation, cls):
        return True
    if _is_union(get_origin(annotation)):
        return any(lenient_issubclass(arg, cls) for arg in get_args(annotation))
    return False


def is_bytes_or_nonable_bytes_annotation(annotation: Any) -> bool:
    """``bytes`` or a union with ``bytes`` in it (``bytes | None``)."""
    return _is_or_contains(annotation, bytes)


def is_uploadfile_or_nonable_uploadfile_annotation(annotation: Any) -> bool:
    """``UploadFile`` or a union with ``UploadFile`` in it."""
    return _is_or_contains(annotation, UploadFile)


def _sequence_of(annotation: Any, item_check: Callable[[Any], bool]) -> bool:
    if _is_union(get_origin(annotation)):
        return any(_sequence_of(arg, item_check) for arg in get_args(annotation))
    if not field_annotation_is_sequence(annotation):
        return False
    return all(item_check(arg) for arg in get_args(annotation))


def is_bytes_sequence_annotation(annotation: Any) -> bool:
    """``list[bytes]`` (or a union holding one)."""
    return _sequence_of(annotation, is_bytes_or_nonable_bytes_annotation)


def is_uploadfile_sequence_annotation(annotation: Any) -> bool:
    """``list[UploadFile]`` (or a union holding one)."""
    return _sequence_of(annotation, is_uploadfile_or_nonable_uploadfile_annotation)


def _pydantic_v1_base() -> type[Any] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pydantic import v1
    except ImportError:  # pragma: no cover
        return None
    return v1.BaseModel  # type: ignore[no-any-return]


def is_pydantic_v1_model_instance(obj: Any) -> bool:
    """Is ``obj`` an instance of a ``pydantic.v1`` model (no longer supported)?"""
    base = _pydantic_v1_base()
    return base is not None and isinstance(obj, base)


def is_pydantic_v1_model_class(cls: Any) -> bool:
    """Is ``cls`` a ``pydantic.v1`` model class?"""
    base = _pydantic_v1_base()
    return base is not None and lenient_issubclass(cls, base)


def annotation_is_pydantic_v1(annotation: Any) -> bool:
    """Does the annotation use a ``pydantic.v1`` model (directly, in a union, or as items)?"""
    if _is_or_contains_v1(annotation):
        return True
    if field_annotation_is_sequence(annotation):
        return any(annotation_is_pydantic_v1(arg) for arg in get_args(annotation))
    return False


def _is_or_contains_v1(annotation: Any) -> bool:
    if is_pydantic_v1_model_class(annotation):
        return True
    if _is_union(get_origin(annotation)):
        return any(is_pydantic_v1_model_class(arg) for arg in get_args(annotation))
    return False
