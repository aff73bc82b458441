"""FastAPI's ``fastapi.dependencies.utils`` names, answered by Hasten's engine.

These are for code written against FastAPI's helpers (and FastAPI's own tests). Hasten's
request path does not call them: routes run compiled plans (``hasten._plan``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from starlette.datastructures import FormData

from .._plan import analysis
from .._plan.body import EmbeddedBody, FormBody, SingleBody
from .._plan.body import _read_bytes as _read_file_bytes
from .._plan.build import flat_body_params as _flat_body_params
from .._plan.build import should_embed as _should_embed_body_fields
from .._plan.fields import ParamField
from .._plan.forms import (
    ensure_multipart_is_installed,
    multipart_incorrect_install_error,
    multipart_not_installed_error,
)
from .._plan.validate import Missing, ModelParamValidator, ParamsValidator
from . import _solving
from ._solving import SolvedDependency as SolvedDependency
from ._solving import solve_dependencies as solve_dependencies
from .models import Dependant

__all__ = [
    "_read_file_bytes",
    "_should_embed_body_fields",
    "ensure_multipart_is_installed",
    "get_dependant",
    "get_flat_body_params",
    "get_typed_annotation",
    "get_typed_return_annotation",
    "get_typed_signature",
    "multipart_incorrect_install_error",
    "multipart_not_installed_error",
    "request_body_to_args",
    "request_params_to_args",
    "solve_dependencies",
    "SolvedDependency",
]

get_dependant = analysis.get_dependant


def get_typed_annotation(annotation: Any, globalns: dict[str, Any]) -> Any:
    """Evaluate a string annotation in ``globalns`` (``None`` for ``"None"``)."""
    return analysis._eval(annotation, globalns)


def get_typed_signature(call: Callable[..., Any]) -> Any:
    """``inspect.Signature`` of ``call`` with string annotations evaluated."""
    import inspect

    return inspect.Signature(analysis.typed_parameters(call))


def get_typed_return_annotation(call: Callable[..., Any]) -> Any:
    """The evaluated return annotation of ``call``, or None."""
    return analysis.typed_return_annotation(call)


def get_flat_body_params(dependant: Dependant) -> list[ParamField]:
    """Body parameters of the whole dependency graph."""
    return _flat_body_params(dependant)


def request_params_to_args(
    fields: Sequence[ParamField], received_params: Any
) -> tuple[dict[str, Any], list[Any]]:
    """Validate path/query/header/cookie ``fields`` against a received mapping."""
    values: dict[str, Any] = {}
    errors: list[Any] = []
    if not fields:
        return values, errors
    plain = [f for f in fields if f.group_model is None or f.json_field]
    if plain:
        ParamsValidator(plain[0].location, plain).run(received_params, values, errors)
    for field in fields:
        if field not in plain:
            ModelParamValidator(field).run(received_params, values, errors)
    return values, errors


async def request_body_to_args(
    body_fields: list[ParamField], received_body: Any, embed_body_fields: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate body ``fields`` against a received JSON value or form."""
    values: dict[str, Any] = {}
    errors: list[Any] = []
    body = Missing if received_body is None else received_body
    validator: Any
    if isinstance(received_body, FormData):
        validator = FormBody(body_fields)
    elif len(body_fields) == 1 and not embed_body_fields:
        validator = SingleBody(body_fields[0])
    else:
        validator = EmbeddedBody(body_fields)
    await validator.run(body, values, errors)
    return values, errors


_solving.UTILS["module"] = sys.modules[__name__]  # a replaced solve_dependencies is honoured


# FastAPI 0.165 helpers libraries import (scripts/ecosystem census).
from ._ecosystem import (  # noqa: E402, F401
    _get_body_field,
    _get_flat_body_params,
    _get_form_model,
    _get_form_models,
    _get_multidict_value,
    _get_param_aliases,
    _is_form_model_supplied,
    _normalize_form_model,
    get_cached_model_fields,
    get_flat_params,
    get_parameterless_sub_dependant,
    get_validation_alias,
    lenient_issubclass,
)
