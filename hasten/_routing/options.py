"""``RouteOptions``: the options of a path operation, declared once, merged through one table.

``add_api_route``, the ``@app.get(...)``-style decorators and ``include_router`` all pass
these through to ``APIRoute`` (whose constructor keeps FastAPI's explicit signature).

Settings of the levels around a route (the router it is declared on, an ``include_router``
call, the including router...) merge into its options with :func:`merge_options`, one level at
a time from the route outwards, by the rules of :data:`MERGED`: lists are joined (outer level
first), ``responses`` updated (inner wins), ``deprecated`` is either's, ``include_in_schema``
both's, the ``Default(...)`` placeholders give way to the first level that sets a value, and
the body-size limit is the innermost one set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from typing_extensions import TypedDict

from .._body_limit import first_limit
from .._form_limits import combine
from ..datastructures import Default, DefaultPlaceholder
from ..params import Depends
from ..types import IncEx
from ..utils import generate_unique_id, get_value_or_default

__all__ = ["COPIED_ON_INCLUDE", "MERGED", "RouteOptions", "merge_options"]


class RouteOptions(TypedDict, total=False):
    """Keyword options of a path operation (FastAPI's names, types and meaning)."""

    response_model: Any
    status_code: int | None
    tags: list[str | Enum] | None
    dependencies: Sequence[Depends] | None
    summary: str | None
    description: str | None
    response_description: str
    responses: dict[int | str, dict[str, Any]] | None
    deprecated: bool | None
    methods: set[str] | list[str] | None
    operation_id: str | None
    response_model_include: IncEx | None
    response_model_exclude: IncEx | None
    response_model_by_alias: bool
    response_model_exclude_unset: bool
    response_model_exclude_defaults: bool
    response_model_exclude_none: bool
    include_in_schema: bool
    response_class: type[Response] | DefaultPlaceholder
    name: str | None
    callbacks: list[BaseRoute] | None
    openapi_extra: dict[str, Any] | None
    generate_unique_id_function: Callable[[Any], str] | DefaultPlaceholder
    strict_content_type: bool | DefaultPlaceholder
    max_body_size: int | None
    form_limits: Any


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
