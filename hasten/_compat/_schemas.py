"""FastAPI's schema helpers of ``fastapi._compat`` (``get_definitions`` and the model walks).

Libraries that build OpenAPI fragments themselves (titiler-core, cadwyn) call these with the
fields they collected; Hasten's own OpenAPI generation (``hasten.openapi``) does not use them.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from hasten._compat.shared import lenient_issubclass

__all__ = ["get_definitions", "get_flat_models_from_fields", "get_model_name_map"]

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
    info = field.field_info
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # field-only metadata (alias) on an Annotated type
        annotated: Any = Annotated[info.annotation, info]
        return TypeAdapter(annotated)


def get_definitions(
    *,
    fields: Sequence[Any],
    model_name_map: dict[Any, str],
    separate_input_output_schemas: bool = True,
) -> tuple[dict[tuple[Any, Mode], JsonSchemaValue], dict[str, dict[str, Any]]]:
    """The JSON schema of each field, keyed by ``(field, mode)``, and the component schemas
    they refer to (``#/components/schemas/<Model>``).

    ``model_name_map`` is accepted for FastAPI's signature; names come from Pydantic, as in
    FastAPI 0.165. Without separate input/output schemas every field is generated in
    validation mode.
    """
    inputs = []
    for field in fields:
        mode: Mode = getattr(field, "mode", "validation")
        if not separate_input_output_schemas:
            mode = "validation"
        inputs.append(((field, mode), mode, _adapter(field).core_schema))
    generator = GenerateJsonSchema(ref_template=_REF_TEMPLATE)
    by_key, definitions = generator.generate_definitions(inputs=inputs)
    for schema in definitions.values():
        description = schema.get("description")
        if isinstance(description, str):
            schema["description"] = description.split("\f")[0]
    mapping = {key: value for (key, _mode), value in by_key.items()}
    if not separate_input_output_schemas:  # answer the field's own mode too
        for field in fields:
            own: Mode = getattr(field, "mode", "validation")
            mapping.setdefault((field, own), mapping[(field, "validation")])
    return mapping, dict(definitions)  # type: ignore[arg-type]
