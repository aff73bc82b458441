"""Values whose JSON Schema goes into the document, and the one pass that generates them all.

A :class:`SchemaField` is a named ``FieldInfo`` (a parameter, a request body or a response) in
``validation`` or ``serialization`` mode. :func:`generate_definitions` hands every field and every
model reachable from them to Pydantic's ``GenerateJsonSchema.generate_definitions`` in a single
call, so shared models become one ``components.schemas`` entry, named by Pydantic (with the
``-Input``/``-Output`` split when a model's two modes differ).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, PydanticUndefined

from hasten._plan.fields import model_field_config

from .constants import REF_TEMPLATE

Mode = Literal["validation", "serialization"]

# FieldInfo attributes re-applied with ``Field(...)`` when building a field's adapter, so titles,
# descriptions, defaults, examples and extras show up in its schema.
_CARRIED_ATTRIBUTES = (
    "default", "default_factory", "alias", "alias_priority", "validation_alias",
    "serialization_alias", "title", "field_title_generator", "description", "examples",
    "exclude", "exclude_if", "discriminator", "deprecated", "json_schema_extra", "frozen",
    "validate_default", "repr", "init", "init_var", "kw_only",
)  # fmt: skip


class SchemaGenerator(GenerateJsonSchema):
    """Pydantic's generator, with ``bytes`` described as an octet stream like FastAPI does."""

    def bytes_schema(self, schema: Any) -> JsonSchemaValue:
        config = self._config
        as_base64 = (
            config.ser_json_bytes if self.mode == "serialization" else config.val_json_bytes
        ) == "base64"
        result: dict[str, Any] = {
            "type": "string",
            "contentMediaType": "application/octet-stream",
        }
        if as_base64:
            result["contentEncoding"] = "base64"
        self.update_with_validations(result, schema, self.ValidationsMapping.bytes)
        return result


def _carried(info: FieldInfo) -> dict[str, Any]:
    undefined = PydanticUndefined
    return {
        name: value
        for name in _CARRIED_ATTRIBUTES
        if (value := getattr(info, name, undefined)) is not undefined
    }


def _build_adapter(
    annotation: Any, info: FieldInfo, attributes: dict[str, Any], config: ConfigDict | None
) -> TypeAdapter[Any]:
    """A ``TypeAdapter`` of ``Annotated[annotation, *constraints, Field(**attributes)]``."""
    args = (annotation, *info.metadata, Field(**attributes))
    with warnings.catch_warnings():
        # field-only attributes (alias, default, ...) on a bare TypeAdapter are expected here
        warnings.simplefilter("ignore")
        return TypeAdapter(Annotated[args], config=config)  # type: ignore[valid-type,arg-type]


# Adapters shared by structurally identical fields (same type, constraints, attributes and
# config): large apps repeat the same parameters on many routes, and building an adapter is the
# costly part of generating the document.
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
_ADAPTERS_MAX = 20_000


def _adapter(annotation: Any, info: FieldInfo, config: ConfigDict | None) -> TypeAdapter[Any]:
    attributes = _carried(info)
    try:
        # Values paired with their types: 1 == True == 1.0, but their schemas differ
        # ("default": 1 vs true). Lists, not generators: this runs for every parameter.
        key = (
            annotation,
            tuple([(type(m), m) for m in info.metadata]),
            tuple([(name, (type(value), value)) for name, value in attributes.items()]),
            tuple(sorted((config or {}).items())),
        )
        cached = _ADAPTERS.get(key)
    except TypeError:  # something unhashable: build without sharing
        return _build_adapter(annotation, info, attributes, config)
    if cached is None:
        cached = _build_adapter(annotation, info, attributes, config)
        if cached.pydantic_complete:  # (a type not fully defined yet may be rebuilt later)
            if len(_ADAPTERS) >= _ADAPTERS_MAX:
                _ADAPTERS.clear()
            _ADAPTERS[key] = cached
    return cached


class SchemaField:
    """A named ``FieldInfo`` whose schema goes into the document.

    ``annotation`` is the type the schema describes (constraints in ``info.metadata`` are added);
    ``type_key`` is the declared type, compared to models found inside other fields.
    """

    __slots__ = ("name", "info", "mode", "annotation", "type_key", "config", "_adapter")

    def __init__(
        self,
        name: str,
        info: FieldInfo,
        *,
        mode: Mode = "validation",
        annotation: Any = PydanticUndefined,
        config: ConfigDict | None = None,
    ) -> None:
        self.name = name
        self.info = info
        self.mode: Mode = mode
        self.type_key = info.annotation
        self.annotation = info.annotation if annotation is PydanticUndefined else annotation
        self.config = config
        self._adapter: TypeAdapter[Any] | None = None

    @property
    def adapter(self) -> TypeAdapter[Any]:
        """The field's adapter; made again while its type is not fully defined (a model it uses
        may have been rebuilt since)."""
        adapter = self._adapter
        if adapter is None or not adapter.pydantic_complete:
            adapter = self._adapter = _adapter(self.annotation, self.info, self.config)
        return adapter

    @property
    def core_schema(self) -> CoreSchema:
        return self.adapter.core_schema

    @property
    def field_info(self) -> FieldInfo:
        """The ``FieldInfo`` (FastAPI's ``ModelField`` spelling: cadwyn's changelog reads the
        ``field_info.annotation`` of ``get_fields_from_routes``)."""
        return self.info

    @property
    def default_alias(self) -> str:
        """The name used for the default title: the alias of the field's mode, else its name."""
        info = self.info
        if self.mode == "validation":
            alias = info.validation_alias if isinstance(info.validation_alias, str) else None
        else:
            alias = info.serialization_alias
        return alias or info.alias or self.name

    def __repr__(self) -> str:
        return f"SchemaField({self.name!r}, {self.mode})"


def model_fields(model: type[BaseModel]) -> tuple[SchemaField, ...]:
    """The fields of ``model`` (grouped parameters), in declaration order."""
    return tuple(
        SchemaField(name, info, config=model_field_config(model, info))
        for name, info in model.model_fields.items()
    )


def _is_class(value: Any, parents: type | tuple[type, ...]) -> bool:
    return isinstance(value, type) and issubclass(value, parents)


# --- models reachable from the fields --------------------------------------------------------


def _add_models(annotation: Any, found: dict[type, None]) -> None:
    """Add the models and enums used by ``annotation`` (through generics and model fields)."""
    if _is_class(annotation, BaseModel):
        if annotation in found:
            return
        found[annotation] = None
        for info in annotation.model_fields.values():
            _add_models(info.annotation, found)
    elif _is_class(annotation, Enum):
        found[annotation] = None
    else:
        for arg in get_args(annotation):
            _add_models(arg, found)


def _has_computed_in(annotation: Any, seen: set[type]) -> bool:
    if _is_class(annotation, BaseModel):
        if annotation in seen:
            return False
        seen.add(annotation)
        if annotation.model_computed_fields:
            return True
        return any(_has_computed_in(i.annotation, seen) for i in annotation.model_fields.values())
    return any(_has_computed_in(arg, seen) for arg in get_args(annotation))


def has_computed_fields(core_schema: CoreSchema, annotation: Any) -> bool:
    """Whether serialization adds computed fields (then the output schema must stay separate)."""
    inner = cast(dict[str, Any], core_schema).get("schema", {})
    if isinstance(inner, dict) and inner.get("computed_fields"):
        return True
    return _has_computed_in(annotation, set())


# --- the single generation pass --------------------------------------------------------------

FieldKey = tuple[int, Mode]


def _generation_mode(field: SchemaField, separate: bool) -> Mode:
    """The field's mode, except that without separate schemas only computed fields keep theirs."""
    if separate or field.mode == "validation":
        return field.mode
    return (
        "serialization" if has_computed_fields(field.core_schema, field.type_key) else "validation"
    )


class Definitions:
    """The result of one generation pass: a schema per (adapter, mode) and the definitions."""

    def __init__(
        self, by_key: dict[FieldKey, JsonSchemaValue], definitions: dict[str, Any], separate: bool
    ) -> None:
        self._by_key = by_key
        self.definitions = definitions
        self.separate = separate

    def schema_of(self, field: SchemaField, alias: str | None = None) -> dict[str, Any]:
        """A copy of ``field``'s schema; without a ``$ref`` it gets FastAPI's default title."""
        mode = _generation_mode(field, self.separate)
        schema = dict(self._by_key[(id(field.adapter), mode)])
        if "$ref" not in schema:
            name = alias if alias is not None else field.default_alias
            schema["title"] = field.info.title or name.title().replace("_", " ")
        return schema


def generate_definitions(fields: Sequence[SchemaField], *, separate: bool) -> Definitions:
    """Generate the schema of every field, and the definitions they (and their models) use.

    Fields sharing an adapter (identical declarations) are generated once.
    """
    inputs: list[tuple[Any, Mode, CoreSchema]] = []
    seen: set[FieldKey] = set()
    for field in fields:
        adapter = field.adapter
        key = (id(adapter), _generation_mode(field, separate))
        if key not in seen:
            seen.add(key)
            inputs.append((key[0], key[1], adapter.core_schema))
    model_keys = _model_inputs(fields, separate, inputs)
    generator = SchemaGenerator(ref_template=REF_TEMPLATE)
    by_key, defs = generator.generate_definitions(inputs=inputs)
    for model_key in model_keys:
        by_key.pop(model_key, None)  # type: ignore[call-overload]
    definitions = cast(dict[str, dict[str, Any]], defs)
    for item in definitions.values():
        description = item.get("description")
        if isinstance(description, str):
            item["description"] = description.split("\f")[0]
    return Definitions(by_key, definitions, separate)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return id(value)
    return value


def _model_inputs(
    fields: Sequence[SchemaField], separate: bool, inputs: list[tuple[Any, Mode, CoreSchema]]
) -> list[Any]:
    """Add the reachable models (not already a field's own type) as inputs of their mode."""
    declared: set[Any] = set()
    by_mode: dict[Mode, dict[Any, Any]] = {"validation": {}, "serialization": {}}
    for field in fields:
        type_key = _hashable(field.type_key)
        declared.add(type_key)
        by_mode[field.mode].setdefault(type_key, field.type_key)
    keys: list[Any] = []
    for mode, types in by_mode.items():
        found: dict[type, None] = {}
        for annotation in types.values():
            _add_models(annotation, found)
        for model in found:
            if model in declared:
                continue
            core = TypeAdapter(model).core_schema
            use: Mode = mode if (separate or has_computed_fields(core, model)) else "validation"
            key = ("model", mode, model)
            inputs.append((key, use, core))
            keys.append((key, use))
    return keys
