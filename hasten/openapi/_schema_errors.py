"""Errors people can act on when a type has no JSON Schema.

Pydantic reports such a type deep inside its generator, without saying which route uses it.
Generating the whole document is one pass, so when it fails :func:`locate_schema_error` tries
each route's fields alone (only on this error path) to find the route, the field and the type,
and returns a ``HastenError`` that names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.errors import PydanticUserError

from hasten.exceptions import HastenError

from ._fields import SchemaField, generate_definitions, model_fields
from ._route import RouteSchemas, route_schemas

__all__ = ["locate_schema_error"]

_HINT = (
    "Give the type a schema (for example Annotated[T, WithJsonSchema({...})]), "
    "or leave the route out of the document with include_in_schema=False."
)


def _error_of(fields: Sequence[SchemaField]) -> PydanticUserError | None:
    try:
        generate_definitions(fields, separate=True)
    except PydanticUserError as exc:
        return exc
    return None


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__qualname__
    return repr(annotation).replace("typing.", "")


def _role(schemas: RouteSchemas, field: SchemaField) -> str:
    """How the route uses ``field``: its request body, a parameter, a response model…"""
    if schemas.body is not None and field is schemas.body.schema_field:
        return f"the request body {field.name!r}"
    if field is schemas.response:
        return "the response model"
    if field is schemas.stream_item:
        return "the stream item type"
    for code, extra in schemas.extra_responses.items():
        if field is extra:
            return f"the model of response {code}"
    for param in schemas.params:
        if field is param.schema_field:
            return f"the {param.location} parameter {param.name!r}"
    return f"the field {field.name!r}"


def _innermost(field: SchemaField) -> tuple[list[str], Any]:
    """The path of model fields down to the first one without a schema, and that type."""
    path: list[str] = []
    annotation = field.annotation
    while isinstance(annotation, type) and issubclass(annotation, BaseModel):
        failing = next((f for f in model_fields(annotation) if _error_of([f]) is not None), None)
        if failing is None:
            break
        path.append(failing.name)
        annotation = failing.annotation
    return path, annotation


def _describe(route: Any, schemas: RouteSchemas, field: SchemaField, exc: Exception) -> str:
    methods = ", ".join(sorted(getattr(route, "methods", None) or [])) or "WEBHOOK"
    where = f"{_role(schemas, field)} ({_type_name(field.annotation)})"
    path, culprit = _innermost(field)
    if path:
        where += f", field {'.'.join(path)!r} of type {_type_name(culprit)}"
    reason = str(exc).split("\n")[0]
    return (
        f"Cannot generate the OpenAPI schema of {methods} {route.path}: {where} has no JSON "
        f"Schema (Pydantic: {reason}). {_HINT}"
    )


def locate_schema_error(routes: Iterable[Any], exc: PydanticUserError) -> HastenError:
    """A ``HastenError`` naming the first route (method and path) and type behind ``exc``."""
    for route in routes:
        schemas = route_schemas(route)
        for field in schemas.fields():
            error = _error_of([field])
            if error is not None:
                return HastenError(_describe(route, schemas, field, error))
    reason = str(exc).split("\n")[0]
    return HastenError(f"Cannot generate the OpenAPI document (Pydantic: {reason}). {_HINT}")
