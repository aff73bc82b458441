"""The request-body schema of forms that mix form models with other form fields.

A form model's fields are keys of the form itself, so the ``Body_<id>`` schema is not an object
of parameters: the plain fields become ``properties`` and each model becomes one ``allOf``
condition. An optional model may be absent, described as "none of its keys" (or, when the model
accepts extra keys, as an empty form).
"""

from __future__ import annotations

from copy import copy, deepcopy
from functools import partial
from typing import Annotated, Any, cast, get_args

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    GetJsonSchemaHandler,
    GetPydanticSchema,
    create_model,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from hasten._plan.fields import ParamField

from ._fields import SchemaField, model_fields
from ._route import BodyField, _body_marker, _form_models, param_aliases


def _form_model_schema(
    model: type[BaseModel], core_schema: CoreSchema, handler: GetJsonSchemaHandler
) -> JsonSchemaValue:
    """The model's schema with properties named by the keys the form is read with.

    When a field's first request key differs from the schema's property name (or a required
    field has several keys), the model's schema is inlined with those names: required fields
    with several keys become "one of these keys is present" conditions.
    """
    schema = handler(core_schema)
    resolved = handler.resolve_ref_schema(schema)
    properties = resolved.get("properties", {})
    required = resolved.get("required", [])
    renames: dict[str, list[str]] = {}
    for item in model_fields(model):
        va = item.info.validation_alias
        property_name = va.choices[0] if isinstance(va, AliasChoices) else item.default_alias
        keys = [alias for alias, _ in param_aliases(item.info, item.name, False, item.config)]
        if (
            isinstance(property_name, str)
            and property_name in properties
            and (keys[0] != property_name or (len(keys) > 1 and property_name in required))
        ):
            renames[property_name] = keys
    if not renames:
        return schema
    inlined = deepcopy(resolved)
    inlined["properties"] = {
        renames.get(name, [name])[0]: value for name, value in inlined["properties"].items()
    }
    inlined["required"] = []
    for name in required:
        keys = renames.get(name, [name])
        if len(keys) == 1:
            inlined["required"].append(keys[0])
        else:
            inlined.setdefault("allOf", []).append({"anyOf": [{"required": [k]} for k in keys]})
    return inlined


def _absent(models: list[type[BaseModel]]) -> dict[str, Any]:
    """A schema matching a form where none of the models' fields was sent."""
    if any(m.model_config.get("extra") in ("allow", "forbid") for m in models):
        return {"maxProperties": 0}
    names = sorted(
        {
            alias
            for model in models
            for item in model_fields(model)
            for alias, _ in param_aliases(item.info, item.name, False, item.config)
        }
    )
    return {"not": {"anyOf": [{"required": [name]} for name in names]}} if names else {}


def _reshape(body: list[ParamField], schema: dict[str, Any]) -> None:
    """``json_schema_extra`` of the body model: turn ``field_<i>`` properties into the form."""
    by_index = schema.pop("properties")
    schema.pop("required", None)
    properties: dict[str, Any] = {}
    required: list[str] = []
    conditions: list[dict[str, Any]] = []
    for index, param in enumerate(body):
        part = by_index[f"field_{index}"]
        models = _form_models(param)
        if not models:
            alias = param_aliases(param.field_info, param.name)[0][0]
            if alias in properties:
                conditions.append({"properties": {alias: part}})
            else:
                properties[alias] = part
            if param.field_info.is_required() and alias not in required:
                required.append(alias)
            continue
        part.pop("default", None)
        if type(None) in get_args(param.field_info.annotation):
            part["anyOf"] = [c for c in part["anyOf"] if c.get("type") != "null"]
            absent = _absent(models)
            if param.field_info.is_required():
                conditions.append({"not": absent})
            else:
                part = {"anyOf": [absent, part]}
        conditions.append(part)
    if properties:
        schema["properties"] = properties
    if required:
        schema["required"] = required
    schema["allOf"] = conditions


def _single_model(param: ParamField) -> type[BaseModel] | None:
    models = _form_models(param)
    return models[0] if len(models) == 1 else None


def build_form_body(route: Any, body: list[ParamField], embed: bool) -> BodyField:
    """The body field of a form with form models (embedded, or one optional model)."""
    definitions: dict[str, Any] = {}
    for index, param in enumerate(body):
        info = copy(param.field_info)
        model = _single_model(param)
        if model is not None:
            hook = GetPydanticSchema(get_pydantic_json_schema=partial(_form_model_schema, model))
            wrapped: Any = Annotated[model, hook]
            info.annotation = wrapped if info.annotation is model else wrapped | None
        key = f"field_{index}"
        info.alias = info.validation_alias = info.serialization_alias = key
        info.title = info.title or param.name.replace("_", " ").title()
        definitions[key] = (info.annotation, info)
    config = ConfigDict(json_schema_extra=cast(Any, partial(_reshape, body)))
    model_cls = create_model(f"Body_{route.unique_id}", __config__=config, **definitions)
    if not embed:
        first = body[0]
        info = copy(first.field_info)
        info.annotation = model_cls
        info.metadata = []
        info.discriminator = None
        return BodyField(SchemaField(first.name, info), info, first.field_info.is_required())
    marker = _body_marker(body)
    marker.annotation = model_cls
    return BodyField(SchemaField("body", marker), marker, marker.is_required())
