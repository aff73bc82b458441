"""FastAPI's ``_get_openapi_dependency_data`` and ``_get_openapi_operation_parameters``.

titiler-core documents query parameters of its own dependency lists with these; Hasten's
document generation uses ``hasten.openapi._params`` (the same rules, read from the engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from hasten._compat.v2 import schema_mode
from hasten._plan.dependant import Dependant
from hasten._plan.dependencies import cache_key, security_scheme
from hasten._plan.fields import primary_alias, request_aliases
from hasten.datastructures import _Unset
from hasten.dependencies._ecosystem import _flatten, _param_model
from hasten.encoders import jsonable_encoder

__all__ = [
    "_OpenAPIDependencyData",
    "_get_openapi_dependency_data",
    "_get_openapi_operation_parameters",
]

_LOCATIONS = ("path", "query", "header", "cookie")


@dataclass
class _OpenAPIDependencyData:
    """The parameters of a dependency graph by location, and its security dependencies with
    the OAuth scopes that apply to each."""

    path_params: list[Any] = field(default_factory=list)
    query_params: list[Any] = field(default_factory=list)
    header_params: list[Any] = field(default_factory=list)
    cookie_params: list[Any] = field(default_factory=list)
    security_dependencies: list[tuple[Dependant, list[str]]] = field(default_factory=list)


def _get_openapi_dependency_data(dependant: Dependant) -> _OpenAPIDependencyData:
    """Walk the graph depth first, each dependency (by cache key) once."""
    data = _OpenAPIDependencyData()
    seen: list[Any] = []
    stack: list[tuple[Dependant, list[str], bool]] = [(dependant, [], True)]
    while stack:
        current, inherited, is_root = stack.pop()
        key = cache_key(current)
        if key in seen:
            continue
        seen.append(key)
        for location in _LOCATIONS:
            getattr(data, f"{location}_params").extend(getattr(current, f"{location}_params"))
        scopes = inherited + [s for s in current.oauth_scopes if s not in inherited]
        if not is_root and security_scheme(current) is not None:
            data.security_dependencies.append((current, scopes))
        stack.extend((sub, scopes, False) for sub in reversed(current.dependencies))
    return data


def _flat(parent: Any) -> tuple[list[Any], bool]:
    """The fields a parameter documents (a parameter model's fields), and whether the model
    is optional (its fields then are not required)."""
    model = _param_model(parent)
    optional = (
        model is not None
        and parent.field_info.annotation is not model
        and not parent.field_info.is_required()
    )
    return _flatten([parent]), optional


def _names(field: Any, location: str, parent: Any) -> tuple[str, str]:
    """(alias for the schema title, name in the request) of one documented field."""
    info = field.field_info
    convert = location == "header" and getattr(
        info, "convert_underscores", getattr(parent.field_info, "convert_underscores", True)
    )
    alias = primary_alias(info, field.name)
    return request_aliases(field.name, info, alias, None, convert=bool(convert))[0]


def _schema(field: Any, mapping: dict[Any, Any], separate: bool, alias: str) -> dict[str, Any]:
    schema = dict(mapping[(field, schema_mode(field, separate))])
    if "$ref" not in schema:
        schema["title"] = field.field_info.title or alias.title().replace("_", " ")
    return schema


def _get_openapi_operation_parameters(
    *,
    dependency_data: _OpenAPIDependencyData,
    model_name_map: dict[Any, str],
    field_mapping: dict[tuple[Any, Literal["validation", "serialization"]], dict[str, Any]],
    separate_input_output_schemas: bool = True,
) -> list[dict[str, Any]]:
    """The ``parameters`` entries of an operation: schemas from ``field_mapping`` (as made by
    ``get_definitions``), with description, examples and ``deprecated`` from each field."""
    result: list[dict[str, Any]] = []
    for location in _LOCATIONS:
        for parent in getattr(dependency_data, f"{location}_params"):
            if not getattr(parent.field_info, "include_in_schema", True):
                continue
            fields, optional = _flat(parent)
            for item in fields:
                result.append(
                    _parameter(
                        item,
                        location,
                        parent,
                        optional,
                        field_mapping,
                        separate_input_output_schemas,
                    )
                )
    return result


def _parameter(
    item: Any, location: str, parent: Any, optional: bool, mapping: dict[Any, Any], separate: bool
) -> dict[str, Any]:
    info = item.field_info
    alias, name = _names(item, location, parent)
    entry: dict[str, Any] = {
        "name": name,
        "in": location,
        "required": info.is_required() and not optional,
        "schema": _schema(item, mapping, separate, alias),
    }
    if info.description:
        entry["description"] = info.description
    examples = getattr(info, "openapi_examples", None)
    example = getattr(info, "example", None)  # (a plain FieldInfo has none: FastAPI gives null)
    if examples:
        entry["examples"] = jsonable_encoder(examples)
    elif example is not _Unset:
        entry["example"] = jsonable_encoder(example)
    if getattr(info, "deprecated", None):
        entry["deprecated"] = True
    return entry
