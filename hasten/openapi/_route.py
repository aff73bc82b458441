"""What the document needs from one route: its parameters, body, responses and security.

Everything here is derived from the route's analysed ``Dependant`` once and cached per route
(weakly, so routes that go away take their schema fields with them).
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, create_model
from pydantic.fields import FieldInfo

from hasten import params
from hasten._plan import typeinfo
from hasten._plan.build import should_embed
from hasten._plan.fields import ParamField
from hasten.datastructures import DefaultPlaceholder
from hasten.dependencies.models import Dependant

from ._fields import SchemaField, model_fields

_LOCATIONS = ("path", "query", "header", "cookie")


# --- dependency graph ------------------------------------------------------------------------


def _unwrap(call: Any) -> Any:
    while isinstance(call, partial):
        call = call.func
    return inspect.unwrap(call) if callable(call) else call


def security_scheme_of(dependant: Dependant) -> Any | None:
    """The ``SecurityBase`` instance a dependant calls, if it is a security scheme."""
    from hasten.security.base import SecurityBase

    call = dependant.call
    if call is None:
        return None
    unwrapped = _unwrap(call)
    return unwrapped if isinstance(unwrapped, SecurityBase) else None


def _uses_scopes(dependant: Dependant, memo: dict[int, bool]) -> bool:
    key = id(dependant)
    if key not in memo:
        memo[key] = bool(
            dependant.own_oauth_scopes
            or dependant.security_scopes_param_name is not None
            or security_scheme_of(dependant) is not None
            or any(_uses_scopes(sub, memo) for sub in dependant.dependencies)
        )
    return memo[key]


def _is_generator(call: Any) -> bool:
    target = _unwrap(call)
    if inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target):
        return True
    if inspect.isclass(target):
        return False
    dunder = getattr(target, "__call__", None)  # noqa: B004
    unwrapped = _unwrap(dunder) if dunder is not None else None
    return inspect.isgeneratorfunction(unwrapped) or inspect.isasyncgenfunction(unwrapped)


def _dedupe_key(dependant: Dependant, scopes: list[str], memo: dict[int, bool]) -> Any:
    """FastAPI's dependency cache key: the call, its scopes (if it uses any) and its scope."""
    used = tuple(sorted(set(dependant.oauth_scopes))) if _uses_scopes(dependant, memo) else ()
    scope = dependant.scope or ("request" if _is_generator(dependant.call) else "")
    return (_Identity(dependant.call), used, scope)


class _Identity:
    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.obj is self.obj


@dataclass
class DependencyData:
    """The parameters and security schemes of a route's whole dependency graph."""

    params: dict[str, list[ParamField]] = field(
        default_factory=lambda: {loc: [] for loc in _LOCATIONS}
    )
    security: list[tuple[Any, list[str]]] = field(default_factory=list)


def collect_dependencies(root: Dependant) -> DependencyData:
    """Walk the graph depth first, in declaration order, visiting each cache key once."""
    data = DependencyData()
    seen: set[Any] = set()
    memo: dict[int, bool] = {}
    stack: list[tuple[Dependant, list[str], bool]] = [(root, [], True)]
    while stack:
        dependant, inherited, is_root = stack.pop()
        key = _dedupe_key(dependant, inherited, memo)
        if key in seen:
            continue
        seen.add(key)
        data.params["path"].extend(dependant.path_params)
        data.params["query"].extend(dependant.query_params)
        data.params["header"].extend(dependant.header_params)
        data.params["cookie"].extend(dependant.cookie_params)
        scopes = list(inherited)
        scopes.extend(s for s in dependant.oauth_scopes if s not in scopes)
        scheme = None if is_root else security_scheme_of(dependant)
        if scheme is not None:
            data.security.append((scheme, scopes))
        stack.extend((sub, scopes, False) for sub in reversed(dependant.dependencies))
    return data


# --- parameters ------------------------------------------------------------------------------


@dataclass
class OpenAPIParam:
    """One entry of an operation's ``parameters``: where it is, its names and schema field."""

    location: str
    name: str  # the key in the request
    alias: str  # used for the schema's default title
    schema_field: SchemaField
    info: FieldInfo
    required: bool


_PARAM_FIELDS: dict[int, tuple[ParamField, SchemaField]] = {}


def _schema_field_of(param: ParamField) -> SchemaField:
    cached = _PARAM_FIELDS.get(id(param))
    if cached is not None and cached[0] is param:
        return cached[1]
    if len(_PARAM_FIELDS) > 50_000:
        _PARAM_FIELDS.clear()
    made = SchemaField(param.name, param.field_info)
    _PARAM_FIELDS[id(param)] = (param, made)
    return made


def _declared_alias(info: FieldInfo, name: str) -> str:
    """The parameter's validation alias, else its alias, else its name."""
    va = info.validation_alias
    if isinstance(va, str) and va:
        return va
    return info.alias or name


def param_aliases(
    info: FieldInfo, name: str, convert: bool = False, config: ConfigDict | None = None
) -> list[tuple[str, str]]:
    """(validation alias, request key) pairs of a parameter, in preference order."""
    alias = _declared_alias(info, name)
    request = alias.replace("_", "-") if convert and alias == name else alias
    va = info.validation_alias
    if isinstance(info, params.Path) or isinstance(va, AliasPath):
        return [(alias, request)]
    pairs = [(alias, request)]
    if isinstance(va, AliasChoices):
        if any(isinstance(choice, AliasPath) for choice in va.choices):
            return pairs
        pairs = [(str(choice), str(choice)) for choice in va.choices]
    config = config or {}
    by_name = config.get("validate_by_name", config.get("populate_by_name", False))
    if config.get("validate_by_alias") is False or by_name:
        request_name = name.replace("_", "-") if convert else name
        if config.get("validate_by_alias") is False:
            return [(name, request_name)]
        if name not in [a for a, _ in pairs]:
            pairs.append((name, request_name))
    return pairs


def _names(info: FieldInfo, name: str, convert: bool, config: ConfigDict | None) -> tuple[str, str]:
    """(alias for the title, name in the request) of a parameter."""
    return param_aliases(info, name, convert, config)[0]


def _is_json(param: ParamField) -> bool:
    return bool(getattr(param, "json_field", False))


def group_model_of(param: ParamField) -> type[BaseModel] | None:
    """The model whose fields become parameters (``Annotated[Filters, Query()]``)."""
    info = param.field_info
    annotation: Any = info.annotation
    model: type[BaseModel] | None = None
    if isinstance(info, (params.Query, params.Header, params.Cookie)):
        model = typeinfo.model_type(annotation)
    elif typeinfo.is_subclass(annotation, BaseModel):
        model = annotation
    if model is None or _is_json(param):
        return None
    return model


def operation_params(data: DependencyData) -> tuple[list[OpenAPIParam], bool]:
    """The documented parameters, and whether the route has any parameter at all."""
    result: list[OpenAPIParam] = []
    any_param = False
    for location in _LOCATIONS:
        for parent in data.params[location]:
            any_param = True
            if not getattr(parent.field_info, "include_in_schema", True):
                continue
            result.extend(_expand(location, parent))
    return result, any_param


def _expand(location: str, parent: ParamField) -> Iterator[OpenAPIParam]:
    parent_info = parent.field_info
    model = group_model_of(parent)
    if model is None:
        convert = location == "header" and getattr(parent_info, "convert_underscores", True)
        alias, request = _names(parent_info, parent.name, convert, None)
        yield OpenAPIParam(
            location, request, alias, _schema_field_of(parent), parent_info, parent.required
        )
        return
    optional_group = parent_info.annotation is not model and not parent.required
    for item in model_fields(model):
        convert = location == "header" and getattr(
            item.info, "convert_underscores", getattr(parent_info, "convert_underscores", True)
        )
        alias, request = _names(item.info, item.name, convert, item.config)
        required = item.info.is_required() and not optional_group
        yield OpenAPIParam(location, request, alias, item, item.info, required)


# --- request body ----------------------------------------------------------------------------


def flat_body_params(route: Any) -> list[ParamField]:
    flat = getattr(route, "body_params_flat", None)
    if flat is not None:
        return list(flat)
    found: list[ParamField] = []
    stack: list[Dependant] = [route.dependant]
    while stack:
        dependant = stack.pop()
        found.extend(dependant.body_params)
        stack.extend(reversed(dependant.dependencies))
    return found


def _form_models(param: ParamField) -> list[type[BaseModel]]:
    info = param.field_info
    if not isinstance(info, params.Form) or _is_json(param):
        return []
    return typeinfo.form_models(info.annotation)


def _body_marker(body: Sequence[ParamField]) -> FieldInfo:
    """The ``Body``/``Form``/``File`` marker of the combined ``Body_<id>`` field."""
    infos = [p.field_info for p in body]
    required = any(p.required for p in body)
    default = ... if required else None
    if any(isinstance(i, params.File) for i in infos):
        return params.File(default, alias="body")
    cls: type[params.Body] = (
        params.Form if any(isinstance(i, params.Form) for i in infos) else params.Body
    )
    media_types = [i.media_type for i in infos if isinstance(i, cls)]
    options: dict[str, Any] = {"alias": "body"}
    if cls is params.Form and "multipart/form-data" in media_types:
        options["media_type"] = "multipart/form-data"
    elif len(set(media_types)) == 1:
        options["media_type"] = media_types[0]
    return cls(default, **options)


def _body_model(name: str, body: Sequence[ParamField]) -> type[BaseModel]:
    definitions: dict[str, Any] = {p.name: (p.field_info.annotation, p.field_info) for p in body}
    return cast(type[BaseModel], create_model(name, **definitions))


@dataclass
class BodyField:
    schema_field: SchemaField
    info: FieldInfo
    required: bool


def _build_body(route: Any) -> BodyField | None:
    body = flat_body_params(route)
    if not body:
        return None
    embed = should_embed(list(body))
    nullable_form = any(
        _form_models(p) and typeinfo.is_optional(p.field_info.annotation) for p in body
    )
    if any(_form_models(p) for p in body) and (embed or nullable_form):
        from ._forms import build_form_body

        return build_form_body(route, body, embed)
    first = body[0]
    if not embed:
        return BodyField(_schema_field_of(first), first.field_info, first.required)
    model = _body_model(f"Body_{route.unique_id}", body)
    marker = _body_marker(body)
    marker.annotation = model
    return BodyField(SchemaField("body", marker), marker, marker.is_required())


# --- responses -------------------------------------------------------------------------------


def response_class_of(route: Any) -> Any:
    cls = route.response_class
    return cls.value if isinstance(cls, DefaultPlaceholder) else cls


def _serialization_field(name: str, annotation: Any) -> SchemaField:
    return SchemaField(name, FieldInfo(annotation=annotation), mode="serialization")


@dataclass
class RouteSchemas:
    """The schema fields of one route, built once."""

    body: BodyField | None
    response: SchemaField | None
    stream_item: SchemaField | None
    extra_responses: dict[Any, SchemaField]
    dependencies: DependencyData
    params: list[OpenAPIParam]
    has_params: bool

    def fields(self) -> Iterator[SchemaField]:
        if self.body is not None:
            yield self.body.schema_field
        if self.response is not None:
            yield self.response
        yield from self.extra_responses.values()
        if self.stream_item is not None:
            yield self.stream_item
        for param in self.params:
            yield param.schema_field


def _build(route: Any) -> RouteSchemas:
    uid = route.unique_id
    model = route.response_model
    response = _serialization_field(f"Response_{uid}", model) if model else None
    stream_type = getattr(route, "stream_item_type", None)
    stream = _serialization_field(f"StreamItem_{uid}", stream_type) if stream_type else None
    extra = {
        code: _serialization_field(f"Response_{code}_{uid}", spec["model"])
        for code, spec in (route.responses or {}).items()
        if isinstance(spec, dict) and spec.get("model")
    }
    deps = collect_dependencies(route.dependant)
    plist, has_params = operation_params(deps)
    return RouteSchemas(_build_body(route), response, stream, extra, deps, plist, has_params)


# id(route) -> (weak reference to the route, stamp, schemas). Routes define ``__eq__`` (so they
# are unhashable); the weak reference's callback drops the entry when the route goes away.
_CACHE: dict[int, tuple[weakref.ref[Any], Any, RouteSchemas]] = {}


def route_schemas(route: Any) -> RouteSchemas:
    """The route's schema fields, cached while its dependant and response model stay the same."""
    anchor = getattr(route, "original_route", route)  # a route context: cache on its route
    stamp = (id(route.dependant), id(route.response_model), route.unique_id)
    key = id(anchor)
    cached = _CACHE.get(key)
    if cached is not None and cached[0]() is anchor and cached[1] == stamp:
        return cached[2]
    built = _build(route)
    try:
        ref = weakref.ref(anchor, partial(_drop, key))
    except TypeError:  # not weak-referenceable: do not cache
        return built
    _CACHE[key] = (ref, stamp, built)
    return built


def _drop(key: int, ref: weakref.ref[Any]) -> None:
    entry = _CACHE.get(key)
    if entry is not None and entry[0] is ref:
        del _CACHE[key]


def iter_api_routes(routes: Sequence[Any]) -> Iterator[Any]:
    """The routes that are ``APIRoute``s (websocket and plain Starlette routes are skipped).

    When routing provides route contexts (a route as seen through the routers that include it),
    those are yielded for API routes, so paths and options are the effective ones.
    """
    from hasten import routing

    api_route: Any = routing.APIRoute
    iter_contexts = getattr(routing, "iter_route_contexts", None)
    if iter_contexts is None:
        yield from (route for route in routes if isinstance(route, api_route))
        return
    for context in iter_contexts(routes):
        if isinstance(getattr(context, "original_route", context), api_route):
            yield context
