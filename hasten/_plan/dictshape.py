"""A response model's fields as a typed dict: validate and dump dicts without model instances.

A route whose response model is a plain Pydantic model ``M`` (or ``list[M]``) and whose
endpoint returns dicts validates each dict into an ``M`` only to serialize it at once. When
``M`` is plain — fields without validators or serializers of their own, no computed fields,
no model validators or serializers, extra keys ignored — a typed dict with the same fields,
aliases and config validates the same dicts into the same values and dumps them to the same
JSON, without creating an instance (Pydantic builds a typed dict several times faster). Only
``exclude_unset``/``exclude_defaults``/``include``/``exclude``, which depend on instances or
field sets, keep the model. Anything the typed dict refuses goes the model's way.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import SchemaSerializer, SchemaValidator, core_schema

__all__ = ["dict_shaped"]

#: model-field keys that a typed-dict field takes as they are.
_FIELD_KEYS = ("validation_alias", "serialization_alias", "serialization_exclude", "metadata")


def dict_shaped(schema: Any) -> tuple[SchemaValidator, SchemaSerializer, bool] | None:
    """``(validator, serializer, is_list)`` of the typed-dict twin of ``schema`` (a model's
    core schema, or a list of one), or None when the twin could differ from the model."""
    is_list = schema.get("type") == "list" and "items_schema" in schema
    model = schema["items_schema"] if is_list else schema
    if is_list and set(schema) - {"type", "items_schema"}:
        return None  # length constraints, a serializer of the list: keep the model
    twin = _typed_dict(model)
    if twin is None:
        return None
    shaped = core_schema.list_schema(twin) if is_list else twin
    return SchemaValidator(shaped), SchemaSerializer(shaped), is_list


def _typed_dict(model: Any) -> Any:
    if model.get("type") != "model" or model.get("root_model"):
        return None
    if model.get("post_init") or model.get("custom_init") or "serialization" in model:
        return None
    config: Any = dict(model.get("config") or {})
    if config.get("extra_fields_behavior", "ignore") != "ignore":
        return None
    fields_schema = model.get("schema", {})
    if fields_schema.get("type") != "model-fields" or fields_schema.get("computed_fields"):
        return None
    if fields_schema.get("extra_behavior", "ignore") != "ignore" or fields_schema.get(
        "extras_schema"
    ):
        return None
    fields: dict[str, Any] = {}
    for name, field in fields_schema["fields"].items():
        if field.get("type") != "model-field" or field.get("frozen") or not _plain(field["schema"]):
            return None
        inner = field["schema"]
        optional = inner.get("type") == "default"
        extra = {key: field[key] for key in _FIELD_KEYS if key in field}
        fields[name] = core_schema.typed_dict_field(inner, required=not optional, **extra)
    return core_schema.typed_dict_schema(
        fields, extra_behavior="ignore", strict=fields_schema.get("strict"), config=config or None
    )


def _plain(schema: Any) -> bool:
    """No user function anywhere in ``schema`` (validators, serializers, default factories:
    a refused dict goes the model's way, and they must run once) and no references to
    definitions elsewhere."""
    if isinstance(schema, dict):
        kind = schema.get("type")
        if isinstance(kind, str) and (kind.startswith("function") or kind.startswith("definition")):
            return False
        if kind in ("model", "dataclass", "custom-error", "json-or-python", "lax-or-strict"):
            return kind == "model" and _typed_dict(schema) is not None  # a nested plain model
        if "default_factory" in schema:  # user code: it must run once, as the model runs it
            return False
        serialization = schema.get("serialization")
        if isinstance(serialization, dict) and serialization.get("type", "").startswith("function"):
            return False
        return all(_plain(value) for key, value in schema.items() if key not in ("metadata", "cls"))
    if isinstance(schema, (list, tuple)):
        return all(_plain(item) for item in schema)
    return True
