"""Pydantic v2 helpers under the names FastAPI keeps in ``_compat.v2``.

Only the pieces user code and tests reach for: ``ModelField`` (a named ``FieldInfo`` with a
``TypeAdapter``), ``serialize_sequence_value``, ``get_missing_field_error`` and the
``Undefined`` sentinel. Hasten's engine does not use ``ModelField`` on the request path.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import cached_property
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic import PydanticSchemaGenerationError as PydanticSchemaGenerationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_core import Url as Url
from pydantic_core.core_schema import (
    with_info_plain_validator_function as with_info_plain_validator_function,
)
from typing_extensions import TypedDict, Unpack

from hasten._compat._schemas import get_definitions as get_definitions
from hasten._compat._schemas import get_flat_models_from_fields as get_flat_models_from_fields
from hasten._compat._schemas import get_model_name_map as get_model_name_map
from hasten._compat.shared import sequence_annotation_to_type, sequence_types
from hasten.types import IncEx, UnionType

__all__ = [
    "ModelField",
    "PydanticSchemaGenerationError",
    "RequiredParam",
    "Undefined",
    "Url",
    "get_definitions",
    "get_flat_models_from_fields",
    "get_missing_field_error",
    "get_model_name_map",
    "serialize_sequence_value",
    "with_info_plain_validator_function",
]

Undefined: Any = PydanticUndefined
RequiredParam: Any = PydanticUndefined


class _DumpOptions(TypedDict, total=False):
    """The options ``ModelField.serialize``/``serialize_json`` pass through to Pydantic."""

    include: IncEx | None
    exclude: IncEx | None
    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool


def _annotated_type(field_info: FieldInfo) -> Any:
    """The field as one ``Annotated`` type a ``TypeAdapter`` can take.

    The constraints stay in the metadata; every other attribute (alias, title, default …) goes
    into a fresh ``Field(...)``, so the old ``FieldInfo``'s metadata is not applied twice.
    """
    parts = field_info.asdict()
    attributes = {
        name: value for name, value in parts["attributes"].items() if value is not PydanticUndefined
    }
    args = (parts["annotation"], *parts["metadata"], Field(**attributes))
    return Annotated[args]  # type: ignore[valid-type]


class ModelField:
    """A named field: its ``FieldInfo`` plus a ``TypeAdapter`` to validate/serialize it."""

    def __init__(
        self,
        field_info: FieldInfo,
        name: str,
        mode: Literal["validation", "serialization"] = "validation",
        config: ConfigDict | None = None,
    ) -> None:
        self.field_info = field_info
        self.name = name
        self.mode = mode
        self.config = config

    @cached_property
    def _type_adapter(self) -> TypeAdapter[Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unused field-only metadata (e.g. alias)
            return TypeAdapter(_annotated_type(self.field_info), config=self.config)

    @property
    def alias(self) -> str:
        return self.field_info.alias if self.field_info.alias is not None else self.name

    @property
    def validation_alias(self) -> str | None:
        alias = self.field_info.validation_alias
        return alias if isinstance(alias, str) and alias else None

    @property
    def serialization_alias(self) -> str | None:
        return self.field_info.serialization_alias or None

    @property
    def required(self) -> bool:
        return self.field_info.is_required()

    @property
    def default(self) -> Any:
        return self.get_default()

    @property
    def type_(self) -> Any:
        return self.field_info.annotation

    def get_default(self) -> Any:
        """The default value (calling ``default_factory``), or ``Undefined`` if required."""
        if self.field_info.is_required():
            return Undefined
        return self.field_info.get_default(call_default_factory=True)

    def validate(
        self, value: Any, values: dict[str, Any] | None = None, *, loc: tuple[int | str, ...] = ()
    ) -> tuple[Any, list[dict[str, Any]]]:
        """``(value, [])`` when valid, else ``(None, errors)`` with ``loc`` prefixed."""
        try:
            return self._type_adapter.validate_python(value, from_attributes=True), []
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            return None, [{**err, "loc": (*loc, *err["loc"])} for err in errors]  # type: ignore[typeddict-item]

    def serialize(
        self,
        value: Any,
        *,
        mode: Literal["json", "python"] = "json",
        **options: Unpack[_DumpOptions],
    ) -> Any:
        """Dump an already validated value to Python/JSON-compatible data.

        Options: ``include``, ``exclude``, ``by_alias`` (default ``True``), ``exclude_unset``,
        ``exclude_defaults``, ``exclude_none``.
        """
        options.setdefault("by_alias", True)
        return self._type_adapter.dump_python(value, mode=mode, **options)

    def serialize_json(self, value: Any, **options: Unpack[_DumpOptions]) -> bytes:
        """Dump an already validated value straight to JSON bytes (same options)."""
        options.setdefault("by_alias", True)
        return self._type_adapter.dump_json(value, **options)

    def __repr__(self) -> str:
        return f"ModelField(name={self.name!r}, type={self.field_info.annotation!r})"

    def __hash__(self) -> int:
        return id(self)  # each field is its own key (e.g. in a field → schema map)


def serialize_sequence_value(*, field: ModelField, value: Any) -> Sequence[Any]:
    """Build the container the field's annotation asks for (``list``, ``set``, ``tuple`` …)."""
    annotation = field.field_info.annotation
    origin = get_origin(annotation) or annotation
    if origin is Union or origin is UnionType:
        not_none = [arg for arg in get_args(annotation) if arg is not type(None)]
        origin = get_origin(not_none[0]) or not_none[0]
    if not (isinstance(origin, type) and issubclass(origin, sequence_types)):
        raise TypeError(f"{annotation!r} is not a sequence annotation")
    return sequence_annotation_to_type[origin](value)  # type: ignore[no-any-return]


def get_missing_field_error(loc: tuple[int | str, ...]) -> dict[str, Any]:
    """The ``"Field required"`` error dict for ``loc`` (with ``input: None``)."""
    error = ValidationError.from_exception_data(
        "Field required", [{"type": "missing", "loc": loc, "input": {}}]
    ).errors(include_url=False)[0]
    return {**error, "input": None}
