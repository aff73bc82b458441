"""FastAPI's semi-private ``fastapi.dependencies.utils`` helpers that libraries import.

fastapi-pagination, titiler-core, cadwyn, litellm and langgraph-api take these from FastAPI to
add dependencies to built routes and to document parameters. Each keeps FastAPI 0.165's
signature and result, built on Hasten's analysis (``hasten._plan``). Hasten's request path
does not call them.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from pydantic import BaseModel, create_model

from .. import params
from .._compat.shared import lenient_issubclass as lenient_issubclass
from .._compat.v2 import ModelField
from .._plan.analysis import get_dependant
from .._plan.build import flat_body_params
from .._plan.dependencies import cache_key
from .._plan.fields import ParamField
from ..exceptions import InvalidDeclarationError
from ..utils import create_model_field
from .models import Dependant

__all__ = [
    "_get_body_field",
    "_get_flat_body_params",
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


# A parameter model's fields as ModelFields, the same objects on every call (FastAPI's helpers
# key schemas by field), made again when ``model_rebuild`` replaces the model's fields.
_MODEL_FIELDS: WeakKeyDictionary[type[BaseModel], tuple[Any, list[ModelField]]] = (
    WeakKeyDictionary()
)


def _model_fields(model: type[BaseModel]) -> list[ModelField]:
    source = model.__pydantic_fields__
    cached = _MODEL_FIELDS.get(model)
    if cached is None or cached[0] is not source:
        cached = (source, [ModelField(info, name) for name, info in source.items()])
        _MODEL_FIELDS[model] = cached
    return cached[1]


def _flatten(fields: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for field in fields:
        model = _param_model(field)
        flat += [field] if model is None else _model_fields(model)
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
