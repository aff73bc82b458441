"""Type aliases shared across Hasten (the names FastAPI exposes in ``fastapi.types``)."""

from __future__ import annotations

import types
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar, Union

from pydantic import BaseModel
from pydantic.main import IncEx as IncEx

__all__ = ["DecoratedCallable", "DependencyCacheKey", "IncEx", "ModelNameMap", "UnionType"]

DecoratedCallable = TypeVar("DecoratedCallable", bound=Callable[..., Any])
"""A function returned unchanged by a decorator such as ``@app.get(...)``."""

UnionType: Any = getattr(types, "UnionType", Union)
"""The origin of ``X | Y`` annotations."""

ModelNameMap = dict[type[BaseModel] | type[Enum], str]
"""Maps each model or enum to the name it gets in the OpenAPI ``components``."""

DependencyCacheKey = tuple[Callable[..., Any] | None, tuple[str, ...], str]
"""``(callable, sorted security scopes, scope)``: identifies one cached dependency value."""
