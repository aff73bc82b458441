"""The request body of an operation, from the body parameters the route compiled.

``route.body_params_flat`` and ``route.embed_body_fields`` are the engine's: the body is one
parameter's schema, or (embedded) a ``Body_<unique id>`` model of all of them. Forms with form
models have their own layout (:mod:`._forms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel, create_model
from pydantic.fields import FieldInfo

from hasten import params
from hasten._plan.fields import ParamField

from ._fields import SchemaField


@dataclass
class BodyField:
    """The schema field of a request body, its marker (media type, examples) and whether the
    body is required."""

    schema_field: SchemaField
    info: FieldInfo
    required: bool


def body_marker(body: Sequence[ParamField]) -> FieldInfo:
    """The ``Body``/``Form``/``File`` marker of the combined ``Body_<id>`` field."""
    infos = [p.field_info for p in body]
    default = ... if any(p.required for p in body) else None
    if any(isinstance(i, params.File) for i in infos):
        return params.File(default, alias="body")
    is_form = any(isinstance(i, params.Form) for i in infos)
    cls: type[params.Body] = params.Form if is_form else params.Body
    media_types = [i.media_type for i in infos if isinstance(i, cls)]
    options: dict[str, Any] = {"alias": "body"}
    if is_form and "multipart/form-data" in media_types:
        options["media_type"] = "multipart/form-data"
    elif len(set(media_types)) == 1:
        options["media_type"] = media_types[0]
    return cls(default, **options)


def embedded(model: type[BaseModel], body: Sequence[ParamField]) -> BodyField:
    """The body as one object, ``model``, under the combined marker."""
    marker = body_marker(body)
    marker.annotation = model
    return BodyField(SchemaField("body", marker), marker, marker.is_required())


def json_body(unique_id: str, body: Sequence[ParamField], embed: bool) -> BodyField:
    """A body without form models: the single parameter's schema, or the embedding model."""
    if not embed:
        first = body[0]
        return BodyField(
            SchemaField(first.name, first.field_info), first.field_info, first.required
        )
    definitions: dict[str, Any] = {p.name: (p.field_info.annotation, p.field_info) for p in body}
    return embedded(cast(type[BaseModel], create_model(f"Body_{unique_id}", **definitions)), body)
