"""``Path()``, ``Query()``, ``Header()``, ``Cookie()``, ``Body()``, ``Form()``, ``File()``,
``Depends()`` and ``Security()``: declare where a parameter comes from and how it validates.

Every function accepts Pydantic's field options (``alias``, ``title``, ``gt``, ``min_length``,
``pattern``, ``examples``, ``openapi_examples``, ``include_in_schema``, ...) and nothing else:
an unknown or misspelled keyword raises Python's ``TypeError`` when the marker is created, as
FastAPI's explicit signatures do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import AliasChoices, AliasPath, Discriminator
from pydantic_core import PydanticUndefined
from typing_extensions import TypedDict, Unpack

from . import params

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query", "Security"]


class FieldOptions(TypedDict, total=False):
    """The field options every parameter function accepts."""

    default_factory: Callable[[], Any] | None
    alias: str | None
    alias_priority: int | None
    validation_alias: str | AliasPath | AliasChoices | None
    serialization_alias: str | None
    title: str | None
    description: str | None
    gt: float | None
    ge: float | None
    lt: float | None
    le: float | None
    min_length: int | None
    max_length: int | None
    pattern: str | re.Pattern[str] | None
    regex: str | None
    discriminator: str | Discriminator | None
    strict: bool | None
    validate_default: bool | None
    union_mode: Literal["smart", "left_to_right"] | None
    fail_fast: bool | None
    multiple_of: float | None
    allow_inf_nan: bool | None
    max_digits: int | None
    decimal_places: int | None
    examples: list[Any] | None
    example: Any | None
    openapi_examples: dict[str, Any] | None
    deprecated: Any
    include_in_schema: bool
    json_schema_extra: dict[str, Any] | Callable[[dict[str, Any]], None] | None


def _check(name: str, **layout: Any) -> Callable[..., None]:
    check: Callable[..., None] = params.keyword_check(
        name, "default", params.option_names(annotation=False, **layout)
    )
    return check


_CHECKS = {
    "Path": _check("Path"),
    "Query": _check("Query"),
    "Header": _check("Header", after_aliases=("convert_underscores",)),
    "Cookie": _check("Cookie"),
    "Body": _check("Body", first=("embed", "media_type")),
    "Form": _check("Form", first=("media_type",)),
    "File": _check("File", first=("media_type",)),
}


def Path(default: Any = ..., **options: Unpack[FieldOptions]) -> Any:
    """A path parameter: ``item_id: Annotated[int, Path(ge=1)]``."""
    _CHECKS["Path"](**options)
    return params.Path(default, **options)


def Query(default: Any = PydanticUndefined, **options: Unpack[FieldOptions]) -> Any:
    """A query parameter: ``q: Annotated[str | None, Query(max_length=50)] = None``."""
    _CHECKS["Query"](**options)
    return params.Query(default, **options)


def Header(
    default: Any = PydanticUndefined,
    *,
    convert_underscores: bool = True,
    **options: Unpack[FieldOptions],
) -> Any:
    """A header parameter: ``user_agent: Annotated[str | None, Header()] = None``."""
    _CHECKS["Header"](**options)
    return params.Header(default, convert_underscores=convert_underscores, **options)


def Cookie(default: Any = PydanticUndefined, **options: Unpack[FieldOptions]) -> Any:
    """A cookie parameter: ``session: Annotated[str | None, Cookie()] = None``."""
    _CHECKS["Cookie"](**options)
    return params.Cookie(default, **options)


def Body(
    default: Any = PydanticUndefined,
    *,
    embed: bool | None = None,
    media_type: str = "application/json",
    **options: Unpack[FieldOptions],
) -> Any:
    """A body value; ``embed=True`` expects ``{"name": value}`` even for one parameter."""
    _CHECKS["Body"](**options)
    return params.Body(default, embed=embed, media_type=media_type, **options)


def Form(
    default: Any = PydanticUndefined,
    *,
    media_type: str = "application/x-www-form-urlencoded",
    **options: Unpack[FieldOptions],
) -> Any:
    """A form field (URL-encoded or multipart)."""
    _CHECKS["Form"](**options)
    return params.Form(default, media_type=media_type, **options)


def File(
    default: Any = PydanticUndefined,
    *,
    media_type: str = "multipart/form-data",
    **options: Unpack[FieldOptions],
) -> Any:
    """An uploaded file: ``file: Annotated[bytes, File()]`` or ``file: UploadFile``."""
    _CHECKS["File"](**options)
    return params.File(default, media_type=media_type, **options)


def Depends(
    dependency: Callable[..., Any] | None = None,
    *,
    use_cache: bool = True,
    scope: Literal["function", "request", "app"] | None = None,
    max_concurrency: int | None = None,
) -> Any:
    """Declare a dependency; its return value (or ``yield`` value) is passed in.

    ``scope="app"`` (a Hasten extension) makes it once per application, at startup, and
    closes it at shutdown (see docs/dependencies-app-scope.md).
    """
    return params.Depends(
        dependency=dependency, use_cache=use_cache, scope=scope, max_concurrency=max_concurrency
    )


def Security(
    dependency: Callable[..., Any] | None = None,
    *,
    scopes: Sequence[str] | None = None,
    use_cache: bool = True,
) -> Any:
    """A dependency that also requires OAuth2 ``scopes`` (see ``SecurityScopes``)."""
    return params.Security(dependency=dependency, scopes=scopes, use_cache=use_cache)
