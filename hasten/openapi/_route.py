"""What the document needs from one route: its parameters, body, responses and security.

The request body and the response fields are made from what the route compiled when it was
declared (FastAPI fixes them then too), once, and kept on the route object with the values they
were made from (changed in place, they are made again). Parameters and security come from
walking ``route.dependant`` each time (:mod:`._params`): FastAPI documents dependencies a
library adds to it later. Their schema fields are kept while the walk finds the same
parameters and parameter models. Nothing is kept in this module.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic.fields import FieldInfo

from hasten.datastructures import DefaultPlaceholder

from ._body import BodyField, json_body
from ._fields import SchemaField
from ._forms import form_body, has_form_layout
from ._params import DependencyData, OpenAPIParam, collect_dependencies, operation_params


def request_body(route: Any) -> BodyField | None:
    """The body field of ``route``, from its compiled body parameters."""
    body = route.body_params_flat
    if not body:
        return None
    embed = route.embed_body_fields
    if has_form_layout(body, embed):
        return form_body(route.unique_id, body, embed)
    return json_body(route.unique_id, body, embed)


# --- responses -------------------------------------------------------------------------------


def response_class_of(route: Any) -> Any:
    cls = route.response_class
    return cls.value if isinstance(cls, DefaultPlaceholder) else cls


def _serialization_field(name: str, annotation: Any) -> SchemaField:
    return SchemaField(name, FieldInfo(annotation=annotation), mode="serialization")


@dataclass
class RouteSchemas:
    """The schema fields of one route."""

    body: BodyField | None
    response: SchemaField | None
    stream_item: SchemaField | None
    extra_responses: dict[Any, SchemaField]
    dependencies: DependencyData
    params: list[OpenAPIParam]
    has_params: bool

    def fields(self) -> Iterator[SchemaField]:
        if self.body is not None:
            yield self.body.schema_field
        if self.response is not None:
            yield self.response
        yield from self.extra_responses.values()
        if self.stream_item is not None:
            yield self.stream_item
        for param in self.params:
            yield param.schema_field


class _Kept:
    """What a route keeps between documents (the ``_KEPT`` attribute), each part with the
    values it was made from, compared by identity."""

    __slots__ = ("declared", "body", "response", "stream_item", "extra", "sources", "params")

    def __init__(self, route: Any, declared: list[Any]) -> None:
        self.declared = declared
        uid = route.unique_id
        model = route.response_model
        stream_type = getattr(route, "stream_item_type", None)
        self.body = request_body(route)
        self.response = _serialization_field(f"Response_{uid}", model) if model else None
        self.stream_item = (
            _serialization_field(f"StreamItem_{uid}", stream_type) if stream_type else None
        )
        self.extra = {
            code: _serialization_field(f"Response_{code}_{uid}", spec["model"])
            for code, spec in (route.responses or {}).items()
            if isinstance(spec, dict) and spec.get("model")
        }
        self.sources: list[Any] | None = None
        self.params: tuple[list[OpenAPIParam], bool] = ([], False)


_KEPT = "_hasten_openapi"


def _declared(route: Any) -> list[Any]:
    """The declared values the body and response fields are made from."""
    return [
        route.body_params_flat,
        route.embed_body_fields,
        route.unique_id,
        route.response_model,
        getattr(route, "stream_item_type", None),
        route.responses,
    ]


def _same(kept: list[Any], now: list[Any]) -> bool:
    return len(kept) == len(now) and all(map(operator.is_, kept, now))


def route_schemas(route: Any, memo: dict[int, RouteSchemas] | None = None) -> RouteSchemas:
    """The route's schema fields: made again only from what changed since the last document.

    ``memo`` holds the routes already seen while making one document (by ``id``: the routes
    outlive it).
    """
    owner = getattr(route, "effective_route", route)  # a route context: the served route
    if memo is not None and id(owner) in memo:
        return memo[id(owner)]
    declared = _declared(owner)
    kept = getattr(owner, _KEPT, None)
    if not isinstance(kept, _Kept) or not _same(kept.declared, declared):
        kept = _Kept(owner, declared)
        try:
            setattr(owner, _KEPT, kept)
        except AttributeError:  # a route class with slots: nothing kept
            pass
    deps = collect_dependencies(owner.dependant)
    sources = deps.sources()
    if kept.sources is None or not _same(kept.sources, sources):
        kept.sources, kept.params = sources, operation_params(deps)
    params, has_params = kept.params
    schemas = RouteSchemas(
        kept.body, kept.response, kept.stream_item, kept.extra, deps, params, has_params
    )
    if memo is not None:
        memo[id(owner)] = schemas
    return schemas


def iter_api_routes(routes: Sequence[Any]) -> Iterator[Any]:
    """The routes that are ``APIRoute``s (websocket and plain Starlette routes are skipped).

    When routing provides route contexts (a route as seen through the routers that include it),
    those are yielded for API routes, so paths and options are the effective ones.
    """
    from hasten import routing

    api_route: Any = routing.APIRoute
    iter_contexts = getattr(routing, "iter_route_contexts", None)
    if iter_contexts is None:
        yield from (route for route in routes if isinstance(route, api_route))
        return
    for context in iter_contexts(routes):
        if isinstance(getattr(context, "original_route", context), api_route):
            yield context
