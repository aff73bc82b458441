"""``RouteOptions``: the options of a path operation, declared once, merged through one table.

``APIRoute``, ``add_api_route``, ``api_route`` and the ``@app.get(...)``-style decorators take
these as ``**options``; :data:`SIGNATURES` says which each accepts, in FastAPI's order, and
:func:`keyword_checker` turns that into the method's signature and its ``TypeError``s.

Settings of the levels around a route (the router it is declared on, an ``include_router``
call, the including router...) merge into its options with :func:`merge_options`, one level at
a time from the route outwards, by the rules of :data:`MERGED`: lists are joined (outer level
first), ``responses`` updated (inner wins), ``deprecated`` is either's, ``include_in_schema``
both's, the ``Default(...)`` placeholders give way to the first level that sets a value, and
the body-size limit is the innermost one set.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, cast

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from typing_extensions import TypedDict

from .._body_limit import first_limit
from .._form_limits import combine
from ..datastructures import Default, DefaultPlaceholder
from ..params import Depends
from ..types import IncEx
from ..utils import generate_unique_id, get_value_or_default

__all__ = [
    "COPIED_ON_INCLUDE",
    "DEFAULTS",
    "MERGED",
    "AppRouteOptions",
    "MethodOptions",
    "RouterRouteOptions",
    "WebSocketDeclaration",
    "SIGNATURES",
    "RouteDeclaration",
    "RouteOptions",
    "keyword_checker",
    "merge_options",
    "with_defaults",
]


class _Options(TypedDict, total=False):
    """The options every way of declaring a path operation accepts (FastAPI's meaning)."""

    # what the endpoint's result becomes
    response_class: type[Response] | DefaultPlaceholder
    response_model: Any
    status_code: int | None
    response_model_by_alias: bool
    response_model_include: IncEx | None
    response_model_exclude: IncEx | None
    response_model_exclude_defaults: bool
    response_model_exclude_none: bool
    response_model_exclude_unset: bool
    # which requests reach it, and what they run first
    dependencies: Sequence[Depends] | None
    max_body_size: int | None
    form_limits: Any
    # how the OpenAPI document shows it
    name: str | None
    generate_unique_id_function: Callable[[Any], str] | DefaultPlaceholder
    operation_id: str | None
    include_in_schema: bool
    deprecated: bool | None
    summary: str | None
    tags: list[str | Enum] | None
    description: str | None
    responses: dict[int | str, dict[str, Any]] | None
    response_description: str
    openapi_extra: dict[str, Any] | None


class MethodOptions(_Options, total=False):
    """The options of ``@app.get(...)``, ``@router.post(...)``... (the method is given)."""

    callbacks: list[BaseRoute] | None


class AppRouteOptions(_Options, total=False):
    """The options of an app's ``add_api_route`` and ``api_route``."""

    methods: set[str] | list[str] | None


class RouterRouteOptions(MethodOptions, AppRouteOptions, total=False):
    """The options of ``APIRouter.api_route``."""


class RouteOptions(RouterRouteOptions, total=False):
    """The options of ``APIRouter.add_api_route``: all of a path operation's."""

    strict_content_type: bool | DefaultPlaceholder


class RouteDeclaration(RouteOptions, total=False):
    """``APIRoute``'s options: a path operation's, plus where overrides are looked up."""

    dependency_overrides_provider: Any


class WebSocketDeclaration(TypedDict, total=False):
    """``APIWebSocketRoute``'s options."""

    name: str | None
    dependencies: Sequence[Depends] | None
    dependency_overrides_provider: Any


#: Each option's default when a call leaves it out (FastAPI's, the same in every signature).
DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(RouteDeclaration.__annotations__),
    **dict.fromkeys(("response_model_exclude_defaults", "response_model_exclude_none"), False),
    "response_model_exclude_unset": False, "response_model_by_alias": True,
    "include_in_schema": True, "response_description": "Successful Response",
    "response_model": Default(None), "response_class": Default(JSONResponse),
    "generate_unique_id_function": Default(generate_unique_id),
    "strict_content_type": Default(True), "route_class_override": None,
    "prefix": "", "default_response_class": Default(JSONResponse),
}  # fmt: skip

# The keyword-only parameters of each public method, in FastAPI 0.165's order. Runs shared by
# several signatures are spelled once, in capitals, and expanded by ``_expand``.
_RUNS = {
    "FIRST": "response_model status_code tags dependencies summary description"
    " response_description responses deprecated",
    "SHAPING": "operation_id response_model_include response_model_exclude"
    " response_model_by_alias response_model_exclude_unset response_model_exclude_defaults"
    " response_model_exclude_none include_in_schema response_class",
    "LIMITS": "max_body_size form_limits",
}
_SPECS = {
    "route": "FIRST name methods SHAPING dependency_overrides_provider callbacks openapi_extra"
    " generate_unique_id_function strict_content_type LIMITS",
    "router.add_api_route": "FIRST methods SHAPING name route_class_override callbacks"
    " openapi_extra generate_unique_id_function strict_content_type LIMITS",
    "router.api_route": "FIRST methods SHAPING name callbacks openapi_extra"
    " generate_unique_id_function LIMITS",
    "method": "FIRST SHAPING name callbacks openapi_extra generate_unique_id_function LIMITS",
    "app.add_api_route": "FIRST methods SHAPING name openapi_extra generate_unique_id_function"
    " LIMITS",
    "router.include_router": "prefix tags dependencies default_response_class responses"
    " callbacks deprecated include_in_schema generate_unique_id_function LIMITS",
    "websocket": "name dependencies dependency_overrides_provider",
    "app.include_router": "prefix tags dependencies responses deprecated include_in_schema"
    " default_response_class callbacks generate_unique_id_function LIMITS",
}


def _expand(spec: str) -> tuple[str, ...]:
    return tuple(word for part in spec.split() for word in _RUNS.get(part, part).split())


#: ``kind -> names``: the keyword options ``APIRoute`` (``"route"``), ``APIRouter``'s
#: ``add_api_route``/``api_route``/``include_router``, the method decorators (``"method"``:
#: ``get``, ``post``... of routers and apps) and the app's ``add_api_route``/``api_route``/
#: ``include_router`` accept.
SIGNATURES: dict[str, tuple[str, ...]] = {kind: _expand(spec) for kind, spec in _SPECS.items()}


_OTHER_HINTS = {
    "route_class_override": "type[APIRoute] | None",
    "prefix": "str",
    "default_response_class": "type[Response]",
}


def _annotation(name: str) -> Any:
    if name in _OTHER_HINTS:
        return _OTHER_HINTS[name]
    hint = RouteDeclaration.__annotations__[name]
    return getattr(hint, "__forward_arg__", hint)  # the text as written


@functools.cache
def keyword_checker(qualname: str, leading: tuple[str, ...], kind: str) -> Callable[..., None]:
    """A do-nothing function named ``qualname``: ``leading`` parameters, then ``kind``'s options.

    Public methods take their options as ``**options``; calling this function with the same
    arguments first makes Python itself reject a missing argument or an unknown keyword, with
    the ``TypeError`` FastAPI's explicit signatures give (on 3.13+ with its "Did you mean"
    hint). Its ``inspect.signature`` (names, order, defaults) is the method's
    ``__signature__``. The names come from the tables above, never from user input.
    """
    names = SIGNATURES[kind]
    source = f"def check({', '.join(leading)}, *, {', '.join(names)}):\n    return None\n"
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    check: Any = namespace["check"]
    check.__code__ = check.__code__.replace(
        co_name=qualname.rpartition(".")[2], co_qualname=qualname
    )
    check.__name__ = qualname.rpartition(".")[2]
    check.__qualname__ = qualname
    check.__kwdefaults__ = {name: DEFAULTS[name] for name in names}
    check.__annotations__ = {name: _annotation(name) for name in names}
    return cast("Callable[..., None]", check)


def with_defaults(kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Every option of ``kind``: those given, and the defaults of the others."""
    return {name: options.get(name, DEFAULTS[name]) for name in SIGNATURES[kind]}


# Options an included route keeps as they are (the others merge with the include's settings).
COPIED_ON_INCLUDE = (
    "status_code", "summary", "description", "response_description",
    "methods", "operation_id", "response_model_include", "response_model_exclude",
    "response_model_by_alias", "response_model_exclude_unset", "response_model_exclude_defaults",
    "response_model_exclude_none", "name", "openapi_extra",
)  # fmt: skip


def _joined(outer: Any, inner: Any) -> list[Any]:
    return [*(outer or []), *(inner or [])]


def _updated(outer: Any, inner: Any) -> dict[Any, Any]:
    return {**(outer or {}), **(inner or {})}


def _either(outer: Any, inner: Any) -> Any:
    return inner or outer


def _both(outer: Any, inner: Any) -> Any:
    return inner and outer


def _set_value(outer: Any, inner: Any) -> Any:
    return get_value_or_default(inner, outer)


def _innermost_limit(outer: Any, inner: Any) -> Any:
    return first_limit(inner, outer)


def _form_limits(outer: Any, inner: Any) -> Any:
    return combine(outer or {}, inner or {})


# option -> (its value when the route does not give it, how a level's setting merges into it)
MERGED: dict[str, tuple[Any, Callable[[Any, Any], Any]]] = {
    "tags": (None, _joined),
    "dependencies": (None, _joined),
    "callbacks": (None, _joined),
    "responses": (None, _updated),
    "deprecated": (None, _either),
    "include_in_schema": (True, _both),
    "response_class": (Default(JSONResponse), _set_value),
    "generate_unique_id_function": (Default(generate_unique_id), _set_value),
    "strict_content_type": (Default(True), _set_value),
    "max_body_size": (None, _innermost_limit),
    "form_limits": (None, _form_limits),
}


def merge_options(level: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with the settings of the level around them (``level``) merged in."""
    merged = dict(options)
    for name, value in level.items():
        default, rule = MERGED[name]
        merged[name] = rule(value, options.get(name, default))
    return merged


def publish_signature(function: Any, checker: Callable[..., None]) -> None:
    """Show ``checker``'s parameters (FastAPI's, with defaults) as ``function``'s signature."""
    function.__signature__ = inspect.signature(checker)


# The options APIRoute normalizes; it keeps the others as given (ROUTE_KEPT).
_ROUTE_NORMALIZED = {
    "response_model", "status_code", "tags", "dependencies", "description", "responses",
    "name", "methods", "form_limits",
}  # fmt: skip
ROUTE_KEPT = tuple(name for name in SIGNATURES["route"] if name not in _ROUTE_NORMALIZED)

# The router settings APIRouter keeps as given.
ROUTER_KEPT = (
    "prefix", "deprecated", "include_in_schema", "dependency_overrides_provider", "route_class",
    "default_response_class", "generate_unique_id_function", "strict_content_type",
    "max_body_size",
)  # fmt: skip

# A router's settings that apply to the routes declared on it, as its attributes name them
# (and ``default_response_class``, which is the routes' ``response_class``).
ROUTER_SETTINGS = (
    "tags", "dependencies", "responses", "deprecated", "include_in_schema", "callbacks",
    "generate_unique_id_function", "strict_content_type", "max_body_size",
)  # fmt: skip
