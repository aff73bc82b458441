"""The request-body schema of forms that mix form models with other form fields.

A form model's fields are keys of the form itself, so the ``Body_<id>`` schema is not an object
of parameters: the plain fields become ``properties`` and each model becomes one ``allOf``
condition. An optional model may be absent, described as "none of its keys" (or, when the model
accepts extra keys, as an empty form).
"""

from __future__ import annotations

from collections.abc import Sequence
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

from hasten._plan import typeinfo
from hasten._plan.fields import ParamField, model_keys

from ._body import BodyField, embedded
from ._fields import SchemaField, model_fields


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
    for item, model_key in zip(model_fields(model), model_keys(model), strict=True):
        va = item.info.validation_alias
        property_name = va.choices[0] if isinstance(va, AliasChoices) else item.default_alias
        keys = [alias for alias, _ in model_key.pairs]
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
        {alias for model in models for key in model_keys(model) for alias, _ in key.pairs}
    )
    return {"not": {"anyOf": [{"required": [name]} for name in names]}} if names else {}


class _FormLayout:
    """The pieces of a form's schema, collected parameter by parameter.

    Plain fields become ``properties`` (a second field with the same key becomes a condition
    instead); each form model becomes one ``allOf`` condition.
    """

    def __init__(self) -> None:
        self.properties: dict[str, Any] = {}
        self.required: list[str] = []
        self.conditions: list[dict[str, Any]] = []

    def add_field(self, key: str, part: dict[str, Any], is_required: bool) -> None:
        if key in self.properties:
            self.conditions.append({"properties": {key: part}})
        else:
            self.properties[key] = part
        if is_required and key not in self.required:
            self.required.append(key)

    def add_models(
        self, param: ParamField, models: list[type[BaseModel]], part: dict[str, Any]
    ) -> None:
        part.pop("default", None)
        info = param.field_info
        if type(None) not in get_args(info.annotation):
            self.conditions.append(part)
            return
        # ``Model | None``: the model's schema without the null branch, or "none of its keys".
        part["anyOf"] = [branch for branch in part["anyOf"] if branch.get("type") != "null"]
        absent = _absent(models)
        if info.is_required():
            self.conditions += [{"not": absent}, part]
        else:
            self.conditions.append({"anyOf": [absent, part]})

    def write(self, schema: dict[str, Any]) -> None:
        if self.properties:
            schema["properties"] = self.properties
        if self.required:
            schema["required"] = self.required
        schema["allOf"] = self.conditions


def _reshape(body: Sequence[ParamField], schema: dict[str, Any]) -> None:
    """``json_schema_extra`` of the body model: turn ``field_<i>`` properties into the form."""
    by_index = schema.pop("properties")
    schema.pop("required", None)
    layout = _FormLayout()
    for index, param in enumerate(body):
        part = by_index[f"field_{index}"]
        if param.form_models:
            layout.add_models(param, param.form_models, part)
        else:
            layout.add_field(param.keys[0][0], part, param.field_info.is_required())
    layout.write(schema)


def _single_model(param: ParamField) -> type[BaseModel] | None:
    models = param.form_models
    return models[0] if len(models) == 1 else None


def has_form_layout(body: Sequence[ParamField], embed: bool) -> bool:
    """Whether the body is a form whose models' fields are its keys, besides other fields
    (embedded) or as one optional model: then :func:`form_body` describes it."""
    with_models = [p for p in body if p.form_models]
    return bool(with_models) and (
        embed or any(typeinfo.is_optional(p.field_info.annotation) for p in with_models)
    )


def form_body(unique_id: str, body: Sequence[ParamField], embed: bool) -> BodyField:
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
    model_cls = create_model(f"Body_{unique_id}", __config__=config, **definitions)
    if not embed:
        first = body[0]
        info = copy(first.field_info)
        info.annotation = model_cls
        info.metadata = []
        info.discriminator = None
        return BodyField(SchemaField(first.name, info), info, first.field_info.is_required())
    return embedded(model_cls, body)
