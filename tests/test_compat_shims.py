"""hasten._compat: the small Pydantic shims FastAPI's tests and plugins import."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Annotated, Any, Optional, Union, cast

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from starlette.datastructures import UploadFile

from hasten import _compat
from hasten._compat import (
    PYDANTIC_VERSION_MINOR_TUPLE,
    Undefined,
    is_uploadfile_sequence_annotation,
    shared,
    v2,
)
from hasten._compat.shared import is_bytes_sequence_annotation


def test_version_tuple_and_undefined() -> None:
    assert len(PYDANTIC_VERSION_MINOR_TUPLE) == 2
    assert PYDANTIC_VERSION_MINOR_TUPLE >= (2, 9)
    assert Undefined is PydanticUndefined
    assert _compat.RequiredParam is PydanticUndefined


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (list[bytes], True),
        (list[str] | list[bytes], True),
        (Union[list[bytes], None], True),  # noqa: UP007
        (list[bytes | None], True),
        (list[str], False),
        (bytes, False),
        (Annotated[list[bytes], "x"], False),
    ],
)
def test_is_bytes_sequence_annotation(annotation: Any, expected: bool) -> None:
    assert is_bytes_sequence_annotation(annotation) is expected


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (list[UploadFile], True),
        (list[str] | list[UploadFile], True),
        (Optional[list[UploadFile]], True),  # noqa: UP045
        (tuple[UploadFile, ...], False),
        (UploadFile, False),
    ],
)
def test_is_uploadfile_sequence_annotation(annotation: Any, expected: bool) -> None:
    assert is_uploadfile_sequence_annotation(annotation) is expected


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (list[int], True),
        (set[str], True),
        (Sequence[int], True),
        (deque, True),
        (Annotated[list[int], "meta"], True),
        (int | list[int], True),
        (str, False),
        (bytes, False),
        (dict[str, int], False),
    ],
)
def test_field_annotation_is_sequence(annotation: Any, expected: bool) -> None:
    assert shared.field_annotation_is_sequence(annotation) is expected


def test_scalar_predicates() -> None:
    class Model(BaseModel):
        x: int

    assert shared.field_annotation_is_scalar(int)
    assert shared.field_annotation_is_scalar(Ellipsis)
    assert not shared.field_annotation_is_scalar(Model)
    assert not shared.field_annotation_is_scalar(dict[str, int])
    assert shared.field_annotation_is_scalar_sequence(list[int])
    assert shared.field_annotation_is_scalar_sequence(Union[list[int], str])  # noqa: UP007
    assert not shared.field_annotation_is_scalar_sequence(list[Model])
    assert not shared.field_annotation_is_scalar_sequence(Union[list[int], Model])  # noqa: UP007
    assert shared.value_is_sequence([1]) and not shared.value_is_sequence("ab")
    assert shared.lenient_issubclass(bool, int) and not shared.lenient_issubclass(list[int], list)
    assert not shared.lenient_issubclass(3, int)


def test_model_field_default_and_required() -> None:
    required = v2.ModelField(name="foo", field_info=FieldInfo(annotation=str))
    assert required.default is Undefined and required.required
    optional = v2.ModelField(name="x", field_info=FieldInfo(annotation=int, default=3, alias="X"))
    assert optional.default == 3 and not optional.required
    assert optional.alias == "X" and optional.name == "x"
    assert v2.ModelField(name="y", field_info=FieldInfo(annotation=int)).alias == "y"


def test_model_field_validate_and_serialize() -> None:
    field = v2.ModelField(name="items", field_info=FieldInfo(annotation=list[int]))
    assert field.validate(["1", 2]) == ([1, 2], [])
    value, errors = field.validate(["a"], loc=("query", "items"))
    assert value is None
    assert errors[0]["loc"] == ("query", "items", 0)
    assert errors[0]["type"] == "int_parsing"
    assert field.serialize([1, 2]) == [1, 2]
    assert field.serialize_json([1, 2]) == b"[1,2]"
    assert hash(field) == id(field)


@pytest.mark.parametrize(
    "annotation",
    [list[str] | None, Optional[list[str]], Union[None, list[str]]],  # noqa: UP007, UP045
)
def test_serialize_sequence_value_with_optional_list(annotation: Any) -> None:
    field = v2.ModelField(name="items", field_info=FieldInfo(annotation=cast(Any, annotation)))
    result = v2.serialize_sequence_value(field=field, value=("a", "b"))
    assert result == ["a", "b"] and isinstance(result, list)


def test_serialize_sequence_value_builds_the_annotated_container() -> None:
    field = v2.ModelField(name="s", field_info=FieldInfo(annotation=set[int]))
    assert v2.serialize_sequence_value(field=field, value=[1, 1, 2]) == {1, 2}
    scalar = v2.ModelField(name="n", field_info=FieldInfo(annotation=int))
    with pytest.raises(TypeError):
        v2.serialize_sequence_value(field=scalar, value=[1])


def test_missing_field_error() -> None:
    assert v2.get_missing_field_error(("body", "name")) == {
        "type": "missing",
        "loc": ("body", "name"),
        "msg": "Field required",
        "input": None,
    }
