"""Small helpers shared by routing and OpenAPI generation (FastAPI's ``fastapi.utils`` names)."""

from __future__ import annotations

import re
import warnings
from typing import Any, Literal

from pydantic.fields import FieldInfo

from hasten._compat.shared import annotation_is_pydantic_v1
from hasten._compat.v2 import ModelField, PydanticSchemaGenerationError, Undefined
from hasten.datastructures import DefaultPlaceholder, DefaultType
from hasten.exceptions import FastAPIDeprecationWarning, HastenError, PydanticV1NotSupportedError

APIRoute = Any  # hasten.routing.APIRoute (routing imports this module, not the reverse)

__all__ = [
    "create_model_field",
    "deep_dict_update",
    "generate_operation_id_for_path",
    "generate_unique_id",
    "get_path_param_names",
    "get_value_or_default",
    "is_body_allowed_for_status_code",
]

# Response keys OpenAPI allows besides concrete status codes: they may always carry a body.
_STATUS_PATTERNS = frozenset({"default", "1XX", "2XX", "3XX", "4XX", "5XX"})
_NO_BODY_STATUSES = frozenset({204, 205, 304})
_PATH_PARAM = re.compile(r"{(.*?)}")
_NON_WORD = re.compile(r"\W")

_INVALID_RESPONSE_TYPE = (
    "Invalid args for response field! Hint: check that {type_} is a valid Pydantic field type. "
    "If you are using a return type annotation that is not a valid Pydantic field "
    "(e.g. Union[Response, dict, None]) you can disable generating the response model from "
    "the type annotation with the path operation decorator parameter response_model=None. "
    "Read more: https://fastapi.tiangolo.com/tutorial/response-model/"
)


_PYDANTIC_V1_MODEL = (
    "pydantic.v1 models are no longer supported by FastAPI. Please update the response model "
    "{type_!r}."
)


def is_body_allowed_for_status_code(status_code: int | str | None) -> bool:
    """Whether a response with this status may have a body (not 1xx, 204, 205 or 304)."""
    if status_code is None or status_code in _STATUS_PATTERNS:
        return True
    code = int(status_code)
    return code >= 200 and code not in _NO_BODY_STATUSES


def get_path_param_names(path: str) -> set[str]:
    """The names between braces in a path template: ``"/a/{x}/{y:path}"`` → ``{"x", "y:path"}``."""
    return set(_PATH_PARAM.findall(path))


def create_model_field(
    name: str,
    type_: Any,
    default: Any = Undefined,
    field_info: FieldInfo | None = None,
    alias: str | None = None,
    mode: Literal["validation", "serialization"] = "validation",
) -> ModelField:
    """A ``ModelField`` for ``type_``; raises ``FastAPIError`` when Pydantic cannot handle it.

    ``field_info`` wins over ``default`` and ``alias``. The field's ``TypeAdapter`` is built
    here, so a type Pydantic cannot validate fails where it is declared, not on a request.
    """
    if annotation_is_pydantic_v1(type_):
        raise PydanticV1NotSupportedError(_PYDANTIC_V1_MODEL.format(type_=type_))
    field = ModelField(
        field_info=field_info or FieldInfo(annotation=type_, default=default, alias=alias),
        name=name,
        mode=mode,
    )
    try:
        field._type_adapter  # noqa: B018
    except PydanticSchemaGenerationError:
        raise HastenError(_INVALID_RESPONSE_TYPE.format(type_=type_)) from None
    return field


def generate_operation_id_for_path(*, name: str, path: str, method: str) -> str:
    """Deprecated: the old operation-id scheme, ``<name><path>_<method>`` with ``\\W`` → ``_``."""
    warnings.warn(
        message="fastapi.utils.generate_operation_id_for_path() was deprecated, "
        "it is not used internally, and will be removed soon",
        category=FastAPIDeprecationWarning,
        stacklevel=2,
    )
    return f"{_NON_WORD.sub('_', name + path)}_{method.lower()}"


def generate_unique_id(route: APIRoute) -> str:
    """The default operation id: ``<name><path_format>_<first method>``, non-word chars → ``_``."""
    if not route.methods:
        raise HastenError(f"Route {route.path!r} has no methods to build an operation id from")
    method = next(iter(route.methods)).lower()
    return f"{_NON_WORD.sub('_', route.name + route.path_format)}_{method}"


def deep_dict_update(main_dict: dict[Any, Any], update_dict: dict[Any, Any]) -> None:
    """Merge ``update_dict`` into ``main_dict`` in place: dicts recursively, lists concatenated."""
    for key, new in update_dict.items():
        old = main_dict.get(key, _MISSING)
        if isinstance(old, dict) and isinstance(new, dict):
            deep_dict_update(old, new)
        elif isinstance(old, list) and isinstance(new, list):
            main_dict[key] = old + new
        else:
            main_dict[key] = new


_MISSING: Any = object()


def get_value_or_default(
    first_item: DefaultPlaceholder | DefaultType,
    *extra_items: DefaultPlaceholder | DefaultType,
) -> DefaultPlaceholder | DefaultType:
    """The first argument that is not a ``DefaultPlaceholder``, else the first argument."""
    for item in (first_item, *extra_items):
        if not isinstance(item, DefaultPlaceholder):
            return item
    return first_item
