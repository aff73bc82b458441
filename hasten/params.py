"""Parameter markers: where a value comes from (path, query, header, cookie, body, form, file)
and how it is validated. ``Depends``/``Security`` mark dependencies.

They are ``pydantic.fields.FieldInfo`` subclasses, so every Pydantic constraint works.
The functions in ``param_functions`` (re-exported at the top level) create them.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .concurrency import _DependencyConcurrency
from .datastructures import _Unset
from .exceptions import FastAPIDeprecationWarning, InvalidDeclarationError

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
# Deprecation warnings point at the first frame outside the marker modules (the user's line).
_OWN_FILES = frozenset(
    os.path.join(os.path.dirname(__file__), name) for name in ("params.py", "param_functions.py")
)

# The keyword options of the markers, in FastAPI's signature order: ``default_factory``,
# then ``annotation`` (classes only), the marker's own options, the aliases, then the rest.
_ALIAS_KEYS = ("alias", "alias_priority", "validation_alias", "serialization_alias")
_OTHER_KEYS = (
    "title", "description", "gt", "ge", "lt", "le", "min_length", "max_length", "pattern",
    "regex", "discriminator", "strict", "validate_default", "union_mode", "fail_fast",
    "multiple_of", "allow_inf_nan", "max_digits", "decimal_places", "examples", "example",
    "openapi_examples", "deprecated", "include_in_schema", "json_schema_extra",
)  # fmt: skip


def option_names(
    *, annotation: bool, first: tuple[str, ...] = (), after_aliases: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The keyword options of one marker (class or function), in FastAPI's order."""
    head = ("default_factory", "annotation") if annotation else ("default_factory",)
    return (*head, *first, *_ALIAS_KEYS, *after_aliases, *_OTHER_KEYS)


def keyword_check(qualname: str, positional: str, keywords: tuple[str, ...]) -> Any:
    """A do-nothing function named ``qualname`` taking exactly these parameters.

    The markers accept their options as ``**options``; calling this function with them makes
    Python itself reject an unknown or misspelled one, with the ``TypeError`` (and, on
    Python 3.13+, the "Did you mean" hint) that FastAPI's explicit signatures give.
    The names come from the constants above, never from user input.
    """
    params = [f"{positional}=None", "*", *(f"{name}=None" for name in keywords)]
    namespace: dict[str, Any] = {}
    exec(f"def check({', '.join(params)}):\n    return None\n", namespace)
    check = namespace["check"]
    check.__name__ = qualname.partition(".")[0]
    check.__qualname__ = qualname
    return check


class ParamTypes(Enum):
    """The request location of a non-body parameter."""

    query = "query"
    header = "header"
    path = "path"
    cookie = "cookie"


def _user_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside this module and ``param_functions``."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename in _OWN_FILES:
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


def _field_kwargs(default: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Turn marker options into ``FieldInfo`` keyword arguments (FastAPI's rules)."""
    if options.get("example", _Unset) is not _Unset:
        warnings.warn(
            "`example` has been deprecated, please use `examples` instead",
            category=FastAPIDeprecationWarning,
            stacklevel=_user_stacklevel(),
        )
    regex = options.get("regex")
    if regex is not None:
        warnings.warn(
            "`regex` has been deprecated, please use `pattern` instead",
            category=FastAPIDeprecationWarning,
            stacklevel=_user_stacklevel(),
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


def _init_check(name: str, **layout: Any) -> Any:
    return staticmethod(keyword_check(f"{name}.__init__", "default", option_names(**layout)))


class Param(FieldInfo):  # type: ignore[misc]
    """A parameter read from the path, query string, headers or cookies."""

    in_: ParamTypes
    _check = _init_check("Param", annotation=True)

    def __init__(self, default: Any = Undefined, **options: Any) -> None:
        self._check(**options)
        self.example = options.get("example", _Unset)
        self.include_in_schema: bool = options.get("include_in_schema", True)
        self.openapi_examples: dict[str, Any] | None = options.get("openapi_examples")
        super().__init__(**_field_kwargs(default, options))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.default})"


class Path(Param):  # type: ignore[misc]
    """A path parameter (always required)."""

    in_ = ParamTypes.path
    _check = _init_check("Path", annotation=True)

    def __init__(self, default: Any = ..., **options: Any) -> None:
        self._check(**options)  # an unknown option is reported first, as by a signature
        if default is not ...:
            raise InvalidDeclarationError("Path parameters cannot have a default value")
        super().__init__(default, **options)


class Query(Param):  # type: ignore[misc]
    """A query-string parameter."""

    in_ = ParamTypes.query
    _check = _init_check("Query", annotation=True)


class Header(Param):  # type: ignore[misc]
    """A header parameter; ``_`` in the name becomes ``-`` unless ``convert_underscores=False``."""

    in_ = ParamTypes.header
    _check = _init_check("Header", annotation=True, after_aliases=("convert_underscores",))

    def __init__(
        self, default: Any = Undefined, *, convert_underscores: bool = True, **options: Any
    ) -> None:
        self.convert_underscores = convert_underscores
        super().__init__(default, **options)


class Cookie(Param):  # type: ignore[misc]
    """A cookie parameter."""

    in_ = ParamTypes.cookie
    _check = _init_check("Cookie", annotation=True)


class Body(FieldInfo):  # type: ignore[misc]
    """A value read from the request body (JSON by default)."""

    _check = _init_check("Body", annotation=True, first=("embed", "media_type"))

    def __init__(
        self,
        default: Any = Undefined,
        *,
        embed: bool | None = None,
        media_type: str = "application/json",
        **options: Any,
    ) -> None:
        self._check(**options)
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

    _check = _init_check("Form", annotation=True, first=("media_type",))

    def __init__(
        self,
        default: Any = Undefined,
        *,
        media_type: str = "application/x-www-form-urlencoded",
        **options: Any,
    ) -> None:
        self._check(**options)  # before Body's own keywords (``embed``) could accept it
        super().__init__(default, media_type=media_type, **options)


class File(Form):  # type: ignore[misc]
    """An uploaded file of a multipart form."""

    _check = _init_check("File", annotation=True, first=("media_type",))

    def __init__(
        self, default: Any = Undefined, *, media_type: str = "multipart/form-data", **options: Any
    ) -> None:
        super().__init__(default, media_type=media_type, **options)


@dataclass(frozen=True)
class Depends:
    """Declares a dependency: Hasten calls ``dependency`` and passes its result."""

    dependency: Callable[..., Any] | None = None
    use_cache: bool = True
    scope: Literal["function", "request", "app"] | None = None
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
