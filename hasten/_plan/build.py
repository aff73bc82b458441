"""Compile a route's declaration into a ``CompiledRoute`` (startup only)."""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import TypeAdapter
from pydantic.errors import PydanticSchemaGenerationError

from .. import params
from ..exceptions import DeclarationError, EndpointContext, PydanticV1NotSupportedError
from . import stream, typeinfo
from .body import SingleBody, json_mode_safe
from .calls import ASYNC, ASYNC_GEN, GEN, call_kind
from .dependant import Dependant
from .dependencies import Node
from .fields import ParamField
from .handler import OBSERVER, CompiledRoute, read_form, read_json
from .respond import (
    ResponseOptions,
    default_response_args,
    direct_body,
    dump_options,
    json_response_patched,
    make_writer,
)
from .runner import choose_steps


def flat_body_params(dependant: Dependant) -> list[ParamField]:
    """Body parameters of the whole graph, depth first, in declaration order.

    A dependant's own body parameters come before those of its sub-dependencies, and each
    sub-dependency's (with everything below it) before the next one's.
    """
    found = list(dependant.body_params)
    for sub in dependant.dependencies:
        found += flat_body_params(sub)
    return found


def should_embed(fields: list[ParamField]) -> bool:
    """FastAPI's rule for whether body parameters are keys of one JSON object."""
    if not fields:
        return False
    if len({f.name for f in fields}) > 1:
        return True
    first = fields[0]
    if first.form_models and any(
        not f.form_models or f.type_annotation is not first.type_annotation for f in fields[1:]
    ):
        return True
    if getattr(first.field_info, "embed", None):
        return True
    return isinstance(first.field_info, params.Form) and not first.form_models


def body_kind(fields: list[ParamField], embed: bool) -> str | None:
    """None (no body), "json" or "form"."""
    if not fields:
        return None
    if not embed:
        return "form" if isinstance(fields[0].field_info, params.Form) else "json"
    return "form" if any(isinstance(f.field_info, params.Form) for f in fields) else "json"


def endpoint_context(call: Any) -> EndpointContext:
    """Where the endpoint is defined, for validation error messages."""
    ctx = EndpointContext()
    try:
        func = inspect.unwrap(call)
        ctx["file"] = inspect.getsourcefile(func) or ""
        code = getattr(func, "__code__", None)
        # The first line of the definition, decorators included: what getsourcelines() gives,
        # without reading and tokenizing the source file.
        ctx["line"] = code.co_firstlineno if code is not None else inspect.getsourcelines(func)[1]
    except (TypeError, OSError):
        pass
    ctx["function"] = getattr(call, "__name__", type(call).__name__)
    return ctx


def response_adapter(model: Any, param: str | None = None) -> TypeAdapter[Any] | None:
    """The serializer of a response model; a ``DeclarationError`` for a model without one.

    The route declaring the model names itself in front of the message (``declaring()``);
    ``param`` says which of its options held the model when it is not ``response_model``.
    """
    if not model:
        return None
    reject_pydantic_v1(model)
    try:
        return TypeAdapter(model)
    except (PydanticSchemaGenerationError, TypeError) as exc:
        raise DeclarationError(
            f"Invalid args for response field! Hint: check that {model} is a valid Pydantic"
            " field type. If you are using a return type annotation that is not a valid"
            " Pydantic field (e.g. Union[Response, dict, None]) you can disable generating"
            " the response model from the type annotation with the path operation decorator"
            " parameter response_model=None. Read more: https://fastapi.tiangolo.com/tutorial/response-model/",
            param=param,
        ) from exc


def reject_pydantic_v1(model: Any) -> None:
    """Raise ``PydanticV1NotSupportedError`` for a ``pydantic.v1`` model."""
    if typeinfo.uses_pydantic_v1(model):
        raise PydanticV1NotSupportedError(
            "pydantic.v1 models are no longer supported by FastAPI."
            f" Please update the response model {model!r}."
        )


def _stream_writer(route: Any, opts: ResponseOptions) -> Any:
    """How a generator endpoint's items are sent, or None for ordinary endpoints."""
    kind = call_kind(route.endpoint)
    if kind < GEN:
        return None
    is_async = kind == ASYNC_GEN
    cls = getattr(route.response_class, "value", route.response_class)
    item_type = getattr(route, "stream_item_type", None)
    adapter = response_adapter(item_type) if item_type else None
    dump = {} if adapter is None else dump_options(opts, adapter)
    serialize = stream.item_serializer(adapter, dump, opts.endpoint_ctx)
    if getattr(route, "is_sse_stream", False):
        return stream.sse_writer(serialize, cls, is_async)
    if getattr(route, "is_json_stream", False):
        return stream.jsonl_writer(serialize, is_async)
    return stream.raw_writer(cls, is_async)


def build_plan(route: Any) -> CompiledRoute:
    """Everything per-request work needs for ``route`` (an ``APIRoute``), steps chosen."""
    dependant: Dependant = route.dependant
    embed = route.embed_body_fields
    kind = body_kind(route.body_params_flat, embed)
    root = Node(dependant, embed, kind == "form")
    strict = route.strict_content_type
    opts = ResponseOptions(
        adapter=route.response_adapter,
        include=route.response_model_include,
        exclude=route.response_model_exclude,
        by_alias=route.response_model_by_alias,
        exclude_unset=route.response_model_exclude_unset,
        exclude_defaults=route.response_model_exclude_defaults,
        exclude_none=route.response_model_exclude_none,
        response_class=route.response_class,
        endpoint_ctx=endpoint_context(route.endpoint),
    )
    plan = CompiledRoute(
        root=root,
        read=None if kind is None else read_form if kind == "form" else read_json,
        call=None,
        stream=_stream_writer(route, opts),
        is_async=call_kind(route.endpoint) == ASYNC,
        strict_content_type=getattr(strict, "value", strict),
        status_code=route.status_code,
        writer=make_writer(opts),
        needs_stack=False,
        stack_edge=kind == "form" or bool(route.is_sse_stream),
        endpoint_ctx=opts.endpoint_ctx,
        path=route.path_format,  # as FastAPI names the route in errors (no converters)
        form_limits=getattr(route, "form_limits", None) or {},
        response_args=default_response_args(route.status_code),
        trivial=False,
        json_body=_json_body(root) if kind == "json" else None,
        response_opts=opts,
        json_patched=json_response_patched(),
        observer=OBSERVER["run"],
        on_failure=OBSERVER["failed"],
        direct=direct_body(opts, route.status_code),
    )
    return choose_steps(plan, root)


def refresh_writers(routes: Any) -> None:
    """Remake the writers of routes compiled before ``JSONResponse`` was patched (or restored).

    Called when an app builds its middleware stack, so a patch made between declaring the
    routes and serving the first request is honoured, and nothing is checked per request.
    """
    patched = json_response_patched()
    for route in routes:
        plan = getattr(route, "plan", None)
        if isinstance(plan, CompiledRoute) and plan.json_patched != patched:
            object.__setattr__(plan, "writer", make_writer(plan.response_opts))
            object.__setattr__(plan, "direct", direct_body(plan.response_opts, plan.status_code))
            object.__setattr__(plan, "json_patched", patched)


def _json_body(root: Node) -> SingleBody | None:
    """The root's single body parameter, when no dependency reads the body too."""

    def has_body(node: Node) -> bool:
        return node.body is not None or any(has_body(sub) for sub in node.subs)

    body = root.body
    if not isinstance(body, SingleBody) or any(has_body(sub) for sub in root.subs):
        return None
    return body if json_mode_safe(body.adapter.core_schema) else None
