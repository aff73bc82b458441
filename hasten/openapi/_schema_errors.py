"""Errors people can act on when a type has no JSON Schema (or is not fully defined).

Pydantic reports such a type deep inside its generator, without saying which route uses it.
Generating the whole document is one pass, so when it fails :func:`locate_schema_error` tries
each route's fields alone (only on this error path) to find the route, the field and the type,
and returns an :class:`OpenAPISchemaError` that names them. That error is also an instance of
the Pydantic error behind it (FastAPI raises that one), and its message ends with Pydantic's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.errors import PydanticUserError

from hasten.exceptions import HastenError

from ._fields import SchemaField, generate_definitions, model_fields
from ._route import RouteSchemas, route_schemas

__all__ = ["OpenAPISchemaError", "locate_schema_error"]

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


def _describe(route: Any, schemas: RouteSchemas, field: SchemaField) -> str:
    methods = ", ".join(sorted(getattr(route, "methods", None) or [])) or "WEBHOOK"
    where = f"{_role(schemas, field)} ({_type_name(field.annotation)})"
    path, culprit = _innermost(field)
    if path:
        where += f", field {'.'.join(path)!r} of type {_type_name(culprit)}"
    return f"Cannot generate the OpenAPI schema of {methods} {route.path}: {where}"


class OpenAPISchemaError(HastenError):
    """The OpenAPI document cannot be generated: a type has no JSON Schema, or is not defined.

    Raised as a subclass that is also the Pydantic error behind it (``PydanticUserError`` or one
    of its subclasses), so ``except PydanticUserError`` keeps working; ``message`` and ``code``
    are Pydantic's attributes (``str()`` adds the link to the code's documentation).
    """

    def __init__(self, message: str, *, code: Any = None) -> None:
        RuntimeError.__init__(self, message)
        self.message = message
        self.code = code


_ERROR_CLASSES: dict[type[PydanticUserError], type[OpenAPISchemaError]] = {}


def _schema_error(subject: str, error: PydanticUserError) -> OpenAPISchemaError:
    """``subject`` and what to do about ``error``, as an error of both kinds."""
    if error.code == "class-not-fully-defined":
        advice = (
            " is not fully defined. Define the types it refers to, then call "
            "model_rebuild() on the model."
        )
    else:
        advice = f" has no JSON Schema. {_HINT}"
    cls = type(error)
    combined = _ERROR_CLASSES.get(cls)
    if combined is None:
        name = f"OpenAPI{cls.__name__}"
        attributes = {"__module__": __name__, "__qualname__": name}
        combined = _ERROR_CLASSES[cls] = type(name, (OpenAPISchemaError, cls), attributes)
    return combined(f"{subject}{advice}\n\nPydantic: {error.message}", code=error.code)


def locate_schema_error(routes: Iterable[Any], exc: PydanticUserError) -> OpenAPISchemaError:
    """An error naming the first route (method and path) and type behind ``exc``."""
    for route in routes:
        schemas = route_schemas(route)
        for field in schemas.fields():
            error = _error_of([field])
            if error is not None:
                return _schema_error(_describe(route, schemas, field), error)
    return _schema_error("Cannot generate the OpenAPI document: a type", exc)
