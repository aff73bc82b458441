"""``RouteOptions``: the options of a path operation, declared once.

``add_api_route``, the ``@app.get(...)``-style decorators and ``include_router`` all pass
these through to ``APIRoute`` (whose constructor keeps FastAPI's explicit signature).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute
from typing_extensions import TypedDict

from ..datastructures import DefaultPlaceholder
from ..params import Depends
from ..types import IncEx

__all__ = ["COPIED_ON_INCLUDE", "RouteOptions"]


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
