"""Parameter markers: where a value comes from (path, query, header, cookie, body, form, file)
and how it is validated. ``Depends``/``Security`` mark dependencies.

They are ``pydantic.fields.FieldInfo`` subclasses, so every Pydantic constraint works.
The functions in ``param_functions`` (re-exported at the top level) create them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .concurrency import _DependencyConcurrency
from .datastructures import _Unset
from .exceptions import FastAPIDeprecationWarning

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Header",
    "Param",
    "ParamTypes",
    "Path",
    "Query",
    "Security",
]

Undefined: Any = PydanticUndefined

# Keyword arguments passed to FieldInfo only when the user gave them.
_FIELD_KEYS = (
    "default_factory", "alias", "alias_priority", "validation_alias", "serialization_alias",
    "title", "description", "discriminator", "strict", "validate_default", "union_mode",
    "fail_fast", "multiple_of", "allow_inf_nan", "max_digits", "decimal_places", "examples",
    "deprecated", "json_schema_extra", "annotation",
)  # fmt: skip
_CONSTRAINT_KEYS = ("gt", "ge", "lt", "le", "min_length", "max_length")


class ParamTypes(Enum):
    """The request location of a non-body parameter."""

    query = "query"
    header = "header"
    path = "path"
    cookie = "cookie"


def _field_kwargs(default: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Turn marker options into ``FieldInfo`` keyword arguments (FastAPI's rules)."""
    if options.get("example", _Unset) is not _Unset:
        warnings.warn(
            "`example` has been deprecated, please use `examples` instead",
            category=FastAPIDeprecationWarning,
            stacklevel=5,
        )
    regex = options.get("regex")
    if regex is not None:
        warnings.warn(
            "`regex` has been deprecated, please use `pattern` instead",
            category=FastAPIDeprecationWarning,
            stacklevel=5,
        )
    alias = options.get("alias", _Unset)
    if options.get("serialization_alias", _Unset) in (_Unset, None) and isinstance(alias, str):
        options["serialization_alias"] = alias
    if options.get("validation_alias", _Unset) in (_Unset, None):
        options["validation_alias"] = alias
    kwargs: dict[str, Any] = {"default": default}
    for key in _FIELD_KEYS:
        value = options.get(key, _Unset)
        if value is not _Unset:
            kwargs[key] = value
    for key in _CONSTRAINT_KEYS:
        value = options.get(key)
        if value is not None:
            kwargs[key] = value
    pattern = options.get("pattern") or regex
    if pattern is not None:
        kwargs["pattern"] = pattern
    return kwargs


class Param(FieldInfo):  # type: ignore[misc]
    """A parameter read from the path, query string, headers or cookies."""

    in_: ParamTypes

    def __init__(self, default: Any = Undefined, **options: Any) -> None:
        self.example = options.get("example", _Unset)
        self.include_in_schema: bool = options.get("include_in_schema", True)
        self.openapi_examples: dict[str, Any] | None = options.get("openapi_examples")
        super().__init__(**_field_kwargs(default, options))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.default})"


class Path(Param):  # type: ignore[misc]
    """A path parameter (always required)."""

    in_ = ParamTypes.path

    def __init__(self, default: Any = ..., **options: Any) -> None:
        if default is not ...:
            raise AssertionError("Path parameters cannot have a default value")
        super().__init__(default, **options)


class Query(Param):  # type: ignore[misc]
    """A query-string parameter."""

    in_ = ParamTypes.query


class Header(Param):  # type: ignore[misc]
    """A header parameter; ``_`` in the name becomes ``-`` unless ``convert_underscores=False``."""

    in_ = ParamTypes.header

    def __init__(
        self, default: Any = Undefined, *, convert_underscores: bool = True, **options: Any
    ) -> None:
        self.convert_underscores = convert_underscores
        super().__init__(default, **options)


class Cookie(Param):  # type: ignore[misc]
    """A cookie parameter."""

    in_ = ParamTypes.cookie


class Body(FieldInfo):  # type: ignore[misc]
    """A value read from the request body (JSON by default)."""

    def __init__(
        self,
        default: Any = Undefined,
        *,
        embed: bool | None = None,
        media_type: str = "application/json",
        **options: Any,
    ) -> None:
        self.embed = embed
        self.media_type = media_type
        self.example = options.get("example", _Unset)
        self.include_in_schema: bool = options.get("include_in_schema", True)
        self.openapi_examples: dict[str, Any] | None = options.get("openapi_examples")
        super().__init__(**_field_kwargs(default, options))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.default})"


class Form(Body):  # type: ignore[misc]
    """A field of an URL-encoded or multipart form."""

    def __init__(
        self,
        default: Any = Undefined,
        *,
        media_type: str = "application/x-www-form-urlencoded",
        **options: Any,
    ) -> None:
        super().__init__(default, media_type=media_type, **options)


class File(Form):  # type: ignore[misc]
    """An uploaded file of a multipart form."""

    def __init__(
        self, default: Any = Undefined, *, media_type: str = "multipart/form-data", **options: Any
    ) -> None:
        super().__init__(default, media_type=media_type, **options)


@dataclass(frozen=True)
class Depends:
    """Declares a dependency: Hasten calls ``dependency`` and passes its result."""

    dependency: Callable[..., Any] | None = None
    use_cache: bool = True
    scope: Literal["function", "request"] | None = None
    max_concurrency: int | None = field(default=None, kw_only=True)
    _concurrency: _DependencyConcurrency | None = field(default=None, repr=False, kw_only=True)

    def __post_init__(self) -> None:
        limit = self.max_concurrency
        if limit is None:
            object.__setattr__(self, "_concurrency", None)
            return
        if type(limit) is not int or limit < 1:
            raise ValueError("max_concurrency must be a positive integer or None")
        if self._concurrency is None or self._concurrency.max_concurrency != limit:
            object.__setattr__(self, "_concurrency", _DependencyConcurrency(limit))


@dataclass(frozen=True)
class Security(Depends):
    """A dependency that also declares OAuth2 ``scopes``."""

    scopes: Sequence[str] | None = None
