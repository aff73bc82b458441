"""Pydantic v2 helpers under the names FastAPI keeps in ``_compat.v2``.

Only the pieces user code, tests and libraries reach for: ``ModelField`` (a named ``FieldInfo``
with a ``TypeAdapter``), ``serialize_sequence_value``, ``get_missing_field_error``, the
``Undefined`` sentinel, and the schema helpers ``get_definitions``,
``get_flat_models_from_fields`` and ``get_model_name_map``. Hasten's engine does not use ``ModelField`` on the request path.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from enum import Enum
from functools import cached_property
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from weakref import WeakKeyDictionary

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic import PydanticSchemaGenerationError as PydanticSchemaGenerationError
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticUndefined
from pydantic_core import Url as Url
from pydantic_core.core_schema import (
    with_info_plain_validator_function as with_info_plain_validator_function,
)
from typing_extensions import TypedDict, Unpack

from hasten._compat.shared import lenient_issubclass, sequence_annotation_to_type, sequence_types
from hasten._plan.fields import field_info_adapter, model_field_config
from hasten.types import IncEx, UnionType

__all__ = [
    "ModelField",
    "PydanticSchemaGenerationError",
    "RequiredParam",
    "Undefined",
    "Url",
    "get_definitions",
    "get_cached_model_fields",
    "get_flat_models_from_fields",
    "get_missing_field_error",
    "get_model_name_map",
    "has_computed_fields",
    "schema_mode",
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


# -- FastAPI's schema helpers (titiler-core and cadwyn build OpenAPI fragments with them; Hasten's
# own document generation, hasten.openapi, does not use them) ----------------------------------

_REF_TEMPLATE = "#/components/schemas/{model}"
_UNSAFE = re.compile(r"[^a-zA-Z0-9.\-_]")
Mode = Literal["validation", "serialization"]


def _add_annotation(annotation: Any, known: set[Any]) -> None:
    """Add the models and enums inside a generic annotation (``list[Item]``, ``X | None``)."""
    if get_origin(annotation) is None:
        return
    for arg in get_args(annotation):
        if lenient_issubclass(arg, (BaseModel, Enum)):
            if arg not in known:
                known.add(arg)
                if lenient_issubclass(arg, BaseModel):
                    _add_model(arg, known)
        else:
            _add_annotation(arg, known)


def _add_type(annotation: Any, known: set[Any]) -> None:
    if lenient_issubclass(annotation, BaseModel):
        if annotation not in known:
            known.add(annotation)
            _add_model(annotation, known)
    elif lenient_issubclass(annotation, Enum):
        known.add(annotation)
    else:
        _add_annotation(annotation, known)


def _add_model(model: type[BaseModel], known: set[Any]) -> None:
    for info in model.model_fields.values():
        _add_type(info.annotation, known)


def get_flat_models_from_fields(fields: Sequence[Any], known_models: set[Any]) -> set[Any]:
    """Add every model and enum the fields' types reach to ``known_models``; return it."""
    for field in fields:
        _add_type(field.field_info.annotation, known_models)
    return known_models


def get_model_name_map(unique_models: set[Any]) -> dict[Any, str]:
    """Each model (or enum) mapped to its schema name (its ``__name__``, unsafe characters as
    ``_``); of two models with the same name, one keeps it."""
    by_name = {_UNSAFE.sub("_", model.__name__): model for model in unique_models}
    return {model: name for name, model in by_name.items()}


def _adapter(field: Any) -> TypeAdapter[Any]:
    adapter = getattr(field, "_type_adapter", None)
    if isinstance(adapter, TypeAdapter):
        return adapter
    return field_info_adapter(field.field_info)


def _computed_in(annotation: Any, seen: set[Any]) -> bool:
    """Whether a model reachable from ``annotation`` has computed fields."""
    if lenient_issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        seen.add(annotation)
        if annotation.model_computed_fields:
            return True
        return any(_computed_in(f.annotation, seen) for f in annotation.model_fields.values())
    return any(_computed_in(arg, seen) for arg in get_args(annotation))


def has_computed_fields(field: Any) -> bool:
    """Whether serializing the field adds computed fields (its output schema differs)."""
    inner = _adapter(field).core_schema.get("schema", {})
    if isinstance(inner, dict) and inner.get("computed_fields"):
        return True  # (a dataclass's computed fields)
    return _computed_in(field.field_info.annotation, set())


def schema_mode(field: Any, separate_input_output_schemas: bool) -> Mode:
    """The mode a field's schema is generated (and looked up) in."""
    mode: Mode = getattr(field, "mode", "validation")
    if separate_input_output_schemas or has_computed_fields(field):
        return mode
    return "validation"


def get_definitions(
    *,
    fields: Sequence[Any],
    model_name_map: dict[Any, str],
    separate_input_output_schemas: bool = True,
) -> tuple[dict[tuple[Any, Mode], JsonSchemaValue], dict[str, dict[str, Any]]]:
    """The JSON schema of each field, keyed by ``(field, mode)`` (the mode it was generated
    in: see `schema_mode`), and the component schemas they refer to
    (``#/components/schemas/<Model>``). The models the fields reach (other than the fields'
    own types) get an entry too, under a field named after the model.

    ``model_name_map`` is accepted for FastAPI's signature; names come from Pydantic, as in
    FastAPI 0.165.
    """
    declared = {f.field_info.annotation for f in fields}
    reached: list[Any] = []
    for mode in ("validation", "serialization"):
        own = [f for f in fields if getattr(f, "mode", "validation") == mode]
        for model in get_flat_models_from_fields(own, known_models=set()):
            if model not in declared:
                reached.append(ModelField(FieldInfo(annotation=model), model.__name__, mode))
    inputs = [
        (field, schema_mode(field, separate_input_output_schemas), _adapter(field).core_schema)
        for field in [*fields, *reached]
    ]
    generator = GenerateJsonSchema(ref_template=_REF_TEMPLATE)
    mapping, definitions = generator.generate_definitions(inputs=inputs)
    for schema in definitions.values():
        description = schema.get("description")
        if isinstance(description, str):
            schema["description"] = description.split("\f")[0]
    return mapping, dict(definitions)  # type: ignore[arg-type]


# Each model's fields as ModelFields, the same objects on every call (FastAPI's helpers key
# schemas by field), made again when ``model_rebuild`` replaces the model's fields.
_MODEL_FIELDS: WeakKeyDictionary[type[BaseModel], tuple[Any, list[ModelField]]] = (
    WeakKeyDictionary()
)


def get_cached_model_fields(model: type[BaseModel]) -> list[ModelField]:
    """``model``'s fields as ``ModelField``s, in declaration order, each carrying the model's
    config where it applies to that field (not for fields typed as a model, dict or dataclass).

    The same list is returned for a model until its fields change.
    """
    source = model.__pydantic_fields__
    cached = _MODEL_FIELDS.get(model)
    if cached is None or cached[0] is not source:
        fields = [
            ModelField(info, name, config=model_field_config(model, info))
            for name, info in source.items()
        ]
        cached = (source, fields)
        _MODEL_FIELDS[model] = cached
    return cached[1]
