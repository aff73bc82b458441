"""An operation's parameters and security requirements, read from the route's dependency graph.

The graph is walked each time a document is made (a library may add dependencies to
``route.dependant`` after the route was declared; FastAPI documents them), visiting each
dependency once per cache key, the engine's own key (``_plan.dependencies.cache_key``).
Request keys come from the engine's alias rules (``_plan.fields``): the parameter's own
``keys``, or ``model_keys`` for the fields of a parameter model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from hasten._plan.dependant import Dependant
from hasten._plan.dependencies import cache_key, security_scheme
from hasten._plan.fields import ParamField, model_keys, primary_alias, request_aliases

from ._fields import SchemaField, model_fields

LOCATIONS = ("path", "query", "header", "cookie")


@dataclass
class DependencyData:
    """The parameters and security schemes of a route's whole dependency graph."""

    params: dict[str, list[ParamField]] = field(
        default_factory=lambda: {loc: [] for loc in LOCATIONS}
    )
    security: list[tuple[Any, list[str]]] = field(default_factory=list)

    def sources(self) -> list[Any]:
        """What the documented parameters are made from: each parameter, and the fields of its
        model (``model_rebuild`` replaces them), compared by identity."""
        found: list[Any] = []
        for location in LOCATIONS:
            for param in self.params[location]:
                model = group_model_of(param)
                found += (param, None if model is None else model.__pydantic_fields__)
        return found


def _calls_repeat(root: Dependant) -> bool:
    """Whether two dependants of the graph have equal calls (stops at the first repeat).

    Cache keys start with the call, so only then can two of them be equal.
    """
    calls: list[Any] = []
    stack = [root]
    while stack:
        dependant = stack.pop()
        if dependant.call in calls:  # (identity, then ==, as keys are compared)
            return True
        calls.append(dependant.call)
        stack.extend(dependant.dependencies)
    return False


def collect_dependencies(root: Dependant) -> DependencyData:
    """Walk the graph depth first, in declaration order, visiting each cache key once."""
    data = DependencyData()
    keyed = bool(root.dependencies) and _calls_repeat(root)  # else every key is new
    seen: list[Any] = []  # compared by equality, like the engine's cache (keys may not hash)
    stack: list[tuple[Dependant, list[str], bool]] = [(root, [], True)]
    while stack:
        dependant, inherited, is_root = stack.pop()
        if keyed:
            key = cache_key(dependant)
            if key in seen:
                continue
            seen.append(key)
        params = data.params
        params["path"] += dependant.path_params
        params["query"] += dependant.query_params
        params["header"] += dependant.header_params
        params["cookie"] += dependant.cookie_params
        added = [s for s in dependant.oauth_scopes if s not in inherited]
        scopes = inherited + added if added else inherited  # (lists never changed later)
        scheme = None if is_root else security_scheme(dependant)
        if scheme is not None:
            data.security.append((scheme, scopes))
        stack.extend((sub, scopes, False) for sub in reversed(dependant.dependencies))
    return data


@dataclass
class OpenAPIParam:
    """One entry of an operation's ``parameters``: where it is, its names and schema field."""

    location: str
    name: str  # the key in the request
    alias: str  # used for the schema's default title
    schema_field: SchemaField
    info: FieldInfo
    required: bool


def group_model_of(param: ParamField) -> type[BaseModel] | None:
    """The model whose fields become parameters (``Annotated[Filters, Query()]``)."""
    return None if param.json_field else param.group_model


def operation_params(data: DependencyData) -> tuple[list[OpenAPIParam], bool]:
    """The documented parameters, and whether the route has any parameter at all."""
    result: list[OpenAPIParam] = []
    any_param = False
    for location in LOCATIONS:
        for parent in data.params[location]:
            any_param = True
            if not getattr(parent.field_info, "include_in_schema", True):
                continue
            result.extend(_expand(location, parent))
    return result, any_param


def _converts(location: str, info: FieldInfo) -> bool:
    """Whether a header's underscores become hyphens in its documented name."""
    return location == "header" and getattr(info, "convert_underscores", True)


def _expand(location: str, parent: ParamField) -> Iterator[OpenAPIParam]:
    parent_info = parent.field_info
    model = group_model_of(parent)
    if model is None:
        keys = parent.keys
        if _converts(location, parent_info):
            alias = primary_alias(parent_info, parent.name)
            keys = request_aliases(parent.name, parent_info, alias, None, convert=True)
        alias, request = keys[0]
        schema_field = SchemaField(parent.name, parent_info)
        yield OpenAPIParam(location, request, alias, schema_field, parent_info, parent.required)
        return
    optional_group = parent_info.annotation is not model and not parent.required
    convert = _converts(location, parent_info)
    item_keys = model_keys(model, headers=location == "header", convert=convert)
    for item, item_key in zip(model_fields(model), item_keys, strict=True):
        alias, request = item_key.pairs[0]
        required = item.info.is_required() and not optional_group
        yield OpenAPIParam(location, request, alias, item, item.info, required)
