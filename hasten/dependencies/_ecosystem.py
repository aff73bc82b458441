"""FastAPI's semi-private ``fastapi.dependencies.utils`` helpers that libraries import.

fastapi-pagination, titiler-core, cadwyn, litellm and langgraph-api take these from FastAPI to
add dependencies to built routes, to document parameters and (cadwyn) to hand form models'
bodies back to FastAPI's handler. Each keeps FastAPI 0.165's
signature and result, built on Hasten's analysis (``hasten._plan``). Hasten's request path
does not call them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Json, create_model
from starlette.datastructures import FormData, Headers, ImmutableMultiDict

from .. import params
from .._compat.shared import lenient_issubclass as lenient_issubclass
from .._compat.v2 import get_cached_model_fields
from .._plan import typeinfo
from .._plan.analysis import get_dependant
from .._plan.body import FormModelReader, form_value
from .._plan.build import flat_body_params
from .._plan.dependencies import cache_key
from .._plan.fields import ParamField, request_aliases
from .._plan.validate import Missing, fetch
from ..exceptions import InvalidDeclarationError
from ..utils import create_model_field
from .models import Dependant

__all__ = [
    "_get_body_field",
    "_get_flat_body_params",
    "_get_form_model",
    "_get_form_models",
    "_get_multidict_value",
    "_get_param_aliases",
    "_is_form_model_supplied",
    "_normalize_form_model",
    "get_cached_model_fields",
    "get_flat_params",
    "get_parameterless_sub_dependant",
    "get_validation_alias",
    "lenient_issubclass",
]


def get_parameterless_sub_dependant(*, depends: params.Depends, path: str) -> Dependant:
    """The ``Dependant`` of a ``Depends(...)`` given in ``dependencies=[...]`` (no parameter
    receives its value), with a ``Security``'s scopes as its own."""
    if not callable(depends.dependency):
        raise InvalidDeclarationError("A parameter-less dependency must have a callable dependency")
    scopes = list(depends.scopes) if isinstance(depends, params.Security) and depends.scopes else []
    return get_dependant(
        path=path,
        call=depends.dependency,
        scope=depends.scope,
        concurrency=depends._concurrency,
        own_oauth_scopes=scopes,
    )


def _get_flat_body_params(dependant: Dependant) -> list[ParamField]:
    """The body parameters of the whole graph: a dependant's own before its sub-dependencies',
    depth first, in declaration order."""
    return flat_body_params(dependant)


def _param_model(field: Any) -> type[BaseModel] | None:
    """The model whose fields stand for ``field`` (``Annotated[Filters, Query()]``)."""
    if isinstance(field, ParamField):
        return None if field.json_field else field.group_model
    return None


def _flatten(fields: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for field in fields:
        model = _param_model(field)
        flat += [field] if model is None else get_cached_model_fields(model)
    return flat


def get_flat_params(dependant: Dependant) -> list[Any]:
    """The path, query, header and cookie parameters of the whole graph, in that order (each
    dependency counted once, as the engine caches it); a parameter model gives its fields."""
    groups: dict[str, list[Any]] = {"path": [], "query": [], "header": [], "cookie": []}
    seen: list[Any] = []
    stack = [dependant]
    while stack:
        current = stack.pop()
        key = cache_key(current)
        if key in seen:
            continue
        seen.append(key)
        groups["path"] += current.path_params
        groups["query"] += current.query_params
        groups["header"] += current.header_params
        groups["cookie"] += current.cookie_params
        stack.extend(reversed(current.dependencies))
    return [field for group in groups.values() for field in _flatten(group)]


def get_validation_alias(field: Any) -> str:
    """The name a field is validated under: its validation alias, else its alias."""
    return getattr(field, "validation_alias", None) or field.alias


def _body_marker(body_params: list[Any], model: type[BaseModel]) -> params.Body:
    """The ``Body``/``Form``/``File`` marker of the combined ``body`` field."""
    infos = [p.field_info for p in body_params]
    cls: type[params.Body] = params.Body
    if any(isinstance(i, params.File) for i in infos):
        cls = params.File
    elif any(isinstance(i, params.Form) for i in infos):
        cls = params.Form
    options: dict[str, Any] = {"alias": "body", "annotation": model}
    if not any(i.is_required() for i in infos):
        options["default"] = None
    if cls is not params.File:
        media_types = [i.media_type for i in infos if isinstance(i, cls)]
        if cls is params.Form and "multipart/form-data" in media_types:
            options["media_type"] = "multipart/form-data"
        elif len(set(media_types)) == 1:
            options["media_type"] = media_types[0]
    return cls(**options)


def _get_body_field(*, body_params: list[Any], name: str, embed_body_fields: bool) -> Any:
    """The field standing for a route's whole request body (for its OpenAPI schema and to tell
    form from JSON): None without body parameters, the single parameter when the body is not
    embedded, else a ``body`` field whose type is a ``Body_<name>`` model of all of them.

    Requests are not validated with it: each body parameter is.
    """
    if not body_params:
        return None
    if not embed_body_fields:
        return body_params[0]
    definitions: dict[str, Any] = {
        p.name: (p.field_info.annotation, p.field_info) for p in body_params
    }
    model = create_model(f"Body_{name}", **definitions)
    marker = _body_marker(body_params, model)
    return create_model_field(name="body", type_=model, alias="body", field_info=marker)


def _get_param_aliases(field: Any, *, convert_underscores: bool = False) -> list[tuple[str, str]]:
    """A field's (validation alias, request key) pairs, in the order a request is searched.

    Its validation alias (else alias) first, or each plain name of an ``AliasChoices``; the
    field name too when its config validates by name (alone when not by alias).
    ``convert_underscores`` turns the underscores of an unaliased header name into hyphens.
    """
    config = getattr(field, "config", None)
    alias = get_validation_alias(field)
    pairs = request_aliases(
        field.name, field.field_info, alias, config, convert=convert_underscores
    )
    return list(pairs)


def _is_json_field(field: Any) -> bool:
    if isinstance(field, ParamField):
        return field.json_field
    return any(type(item) is Json for item in field.field_info.metadata)


def _get_multidict_value(field: Any, values: Any, alias: str) -> Any:
    """The raw value of ``field`` under ``alias`` in a request mapping, or ``Undefined``.

    A list field takes every value of a multi-mapping (query, headers, form); in form data
    empty strings and empty file inputs count as absent, and an empty list is absent too,
    so that the default is applied when the field is validated.
    """
    sequence = typeinfo.is_sequence(field.field_info.annotation)
    many = sequence and not _is_json_field(field)
    if isinstance(values, FormData):
        value = form_value(values, alias, many)
    else:
        value = fetch(values, alias, many, isinstance(values, (ImmutableMultiDict, Headers)))
    if value is not Missing and sequence and len(value) == 0:
        return Missing
    return value


def _get_form_models(field: Any) -> list[type[BaseModel]]:
    """The model(s) a form parameter is read into from the whole form: its model type
    (``Model`` or ``Model | None``), or each model of a union of models; else []."""
    if isinstance(field, ParamField):
        return list(field.form_models)
    info = field.field_info
    if not isinstance(info, params.Form) or getattr(info, "embed", False):
        return []
    if _is_json_field(field):
        return []
    return typeinfo.form_models(info.annotation)


def _get_form_model(field: Any) -> type[BaseModel] | None:
    """The single model a form parameter is read into, or None (also for a union of models)."""
    models = _get_form_models(field)
    return models[0] if len(models) == 1 else None


def _is_form_model_supplied(model: type[BaseModel], received_body: FormData) -> bool:
    """Whether a form holds anything for ``model`` (empty values count): one of its fields'
    names, or any entry at all when the model allows or forbids extra fields.

    An optional form model that is not supplied gets its default instead of being validated.
    """
    return FormModelReader(model).supplied(received_body)


def _normalize_form_model(value: Any, *, model: type[BaseModel]) -> Any:
    """A dict body read again as form data for ``model`` (each model of a union of form
    models is validated from it this way): a list stands for repeated entries, a field takes
    its first non-empty alias, empty strings leave the default; explicit None and empty lists
    are kept. Anything but a dict comes back unchanged."""
    return FormModelReader(model).normalize(value)
