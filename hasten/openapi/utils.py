"""``get_openapi``: the OpenAPI 3.1 document of a list of routes, identical to FastAPI's.

The work happens in three steps:

1. every ``APIRoute`` (and its callbacks, and the webhooks) is turned into schema fields
   (:mod:`._route`, kept on each route);
2. all schemas are generated in one Pydantic pass (:mod:`._fields`), which names the shared
   definitions;
3. each operation is laid out by hand (:mod:`._operations`) and the document is validated with
   the :class:`~hasten.openapi.models.OpenAPI` model, then dumped without ``None`` values.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from pydantic.errors import PydanticUserError
from starlette.routing import BaseRoute

from hasten.encoders import jsonable_encoder
from hasten.exceptions import FastAPIDeprecationWarning
from hasten.utils import generate_operation_id_for_path

from .._routing.context import RouteContext, effective_routes
from . import _operations
from ._dependency_data import _get_openapi_dependency_data as _get_openapi_dependency_data
from ._dependency_data import (
    _get_openapi_operation_parameters as _get_openapi_operation_parameters,
)
from ._fields import generate_definitions
from ._operations import (
    generate_operation_summary,
    get_openapi_operation_metadata,
    status_code_ranges,
    validation_error_definition,
    validation_error_response_definition,
)
from ._route import RouteSchemas, iter_api_routes, route_schemas
from ._schema_errors import locate_schema_error
from .models import OpenAPI

__all__ = [
    "generate_operation_id",
    "generate_operation_summary",
    "get_fields_from_routes",
    "get_openapi",
    "get_openapi_operation_metadata",
    "status_code_ranges",
    "validation_error_definition",
    "validation_error_response_definition",
]


def generate_operation_id(*, route: Any, method: str) -> str:
    """Deprecated: the operation id of FastAPI's first releases."""
    warnings.warn(
        message="fastapi.openapi.utils.generate_operation_id() was deprecated, "
        "it is not used internally, and will be removed soon",
        category=FastAPIDeprecationWarning,
        stacklevel=2,
    )
    if route.operation_id:
        return str(route.operation_id)
    return generate_operation_id_for_path(name=route.name, path=route.path_format, method=method)


def _documented_routes(routes: Sequence[Any]) -> list[Any]:
    """The API routes in the schema, followed (recursively) by their callbacks."""
    found: list[Any] = []
    for route in iter_api_routes(routes):
        if not route.include_in_schema:
            continue
        if route.callbacks:
            found.extend(_documented_routes(route.callbacks))
        found.append(route)
    return found


def get_fields_from_routes(
    routes: Sequence[BaseRoute], memo: dict[int, RouteSchemas] | None = None
) -> list[Any]:
    """The schema fields (bodies, responses, parameters) of the documented routes."""
    documented = _documented_routes(routes)
    return [f for route in documented for f in route_schemas(route, memo).fields()]


def _info(
    title: str,
    version: str,
    summary: str | None,
    description: str | None,
    terms_of_service: str | None,
    contact: dict[str, Any] | None,
    license_info: dict[str, Any] | None,
) -> dict[str, Any]:
    entries = {
        "title": title,
        "version": version,
        "summary": summary,
        "description": description,
        "termsOfService": terms_of_service,
        "contact": contact,
        "license": license_info,
    }
    return _without_empty(entries, keep={"title", "version"})


def _without_empty(entries: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    """``entries`` in their order, minus the empty values of keys not in ``keep``."""
    return {key: value for key, value in entries.items() if value or key in keep}


def get_openapi(
    *,
    # the ``info`` object
    title: str,
    version: str,
    summary: str | None = None,
    description: str | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, str | Any] | None = None,
    license_info: dict[str, str | Any] | None = None,
    # what the document describes
    routes: Sequence[BaseRoute | RouteContext],
    webhooks: Sequence[BaseRoute | RouteContext] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, str | Any]] | None = None,
    external_docs: dict[str, Any] | None = None,
    # how it is written
    openapi_version: str = "3.1.0",
    separate_input_output_schemas: bool = True,
) -> dict[str, Any]:
    """Build the OpenAPI document (a JSON-ready dict) for ``routes`` and ``webhooks``.

    Every argument is keyword-only; empty optional parts are left out of the document.
    """
    info = _info(title, version, summary, description, terms_of_service, contact, license_info)
    routes, webhooks = effective_routes(routes), effective_routes(webhooks or [])
    memo: dict[int, RouteSchemas] = {}  # each route's schema fields, for this document
    fields = get_fields_from_routes([*routes, *webhooks], memo)
    try:
        defs = generate_definitions(fields, separate=separate_input_output_schemas)
    except PydanticUserError as exc:  # a type without a JSON Schema: say which route has it
        raise locate_schema_error(_documented_routes([*routes, *webhooks]), exc) from None
    builder = _operations.DocumentBuilder(defs, memo)
    paths = builder.paths_of(routes)
    webhook_paths = builder.paths_of(webhooks)
    schemas = {**defs.definitions, **builder.extra_definitions}
    components = _without_empty(
        {"securitySchemes": builder.security_schemes, "schemas": dict(sorted(schemas.items()))},
        keep=set(),
    )
    output: dict[str, Any] = {
        "openapi": openapi_version,
        "info": info,
        "servers": servers,
        "components": components,
        "paths": paths,
        "webhooks": webhook_paths,
        "tags": tags,
        "externalDocs": external_docs,
    }
    output = _without_empty(output, keep={"openapi", "info", "paths"})
    document = OpenAPI(**output)
    return jsonable_encoder(document, by_alias=True, exclude_none=True)  # type: ignore[no-any-return]
