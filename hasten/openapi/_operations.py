"""The layout of each operation: metadata, parameters, body, responses, callbacks, security."""

from __future__ import annotations

import copy
import http.client
import inspect
import warnings
from collections.abc import Sequence
from typing import Any

from starlette.responses import JSONResponse

from hasten.datastructures import _Unset
from hasten.encoders import jsonable_encoder
from hasten.utils import deep_dict_update, is_body_allowed_for_status_code

from ._body import BodyField
from ._fields import Definitions, SchemaField
from ._params import OpenAPIParam
from ._route import RouteSchemas, iter_api_routes, response_class_of, route_schemas
from .constants import METHODS_WITH_BODY, REF_PREFIX


def _described(title: str, **schema: Any) -> dict[str, Any]:
    """A JSON Schema with its ``title`` first, the way Pydantic orders generated schemas."""
    return {"title": title, **schema}


def _local_ref(name: str) -> dict[str, str]:
    return {"$ref": f"{REF_PREFIX}{name}"}


# The two schemas every document with a validated parameter or body gets: one error of
# ``RequestValidationError.errors()``, and the 422 body ``{"detail": [errors]}``.
validation_error_definition: dict[str, Any] = _described(
    "ValidationError",
    type="object",
    properties={
        "loc": _described(
            "Location", type="array", items={"anyOf": [{"type": "string"}, {"type": "integer"}]}
        ),
        "msg": _described("Message", type="string"),
        "type": _described("Error Type", type="string"),
        "input": _described("Input"),
        "ctx": _described("Context", type="object"),
    },
    required=["loc", "msg", "type"],
)

validation_error_response_definition: dict[str, Any] = _described(
    "HTTPValidationError",
    type="object",
    properties={
        "detail": _described("Detail", type="array", items=_local_ref("ValidationError")),
    },
)

# Descriptions of the response-range keys OpenAPI allows besides concrete status codes.
status_code_ranges: dict[str, str] = {
    "1XX": "Information",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client Error",
    "5XX": "Server Error",
    "DEFAULT": "Default Response",
}


def _validation_error_response() -> dict[str, Any]:
    return {
        "description": "Validation Error",
        "content": {"application/json": {"schema": _local_ref("HTTPValidationError")}},
    }


def generate_operation_summary(*, route: Any, method: str) -> str:
    """The route's ``summary``, else its name in title case (``read_items`` → ``Read Items``)."""
    if route.summary:
        return str(route.summary)
    return str(route.name).replace("_", " ").title()


# Operation keys written even when empty; the others only when the route sets them.
_ALWAYS_WRITTEN = frozenset({"summary", "operationId"})


def get_openapi_operation_metadata(
    *, route: Any, method: str, operation_ids: set[str]
) -> dict[str, Any]:
    """tags, summary, description, operationId (warning on duplicates) and deprecated."""
    operation_id = route.operation_id or route.unique_id
    if operation_id in operation_ids:
        _warn_duplicate(route, operation_id)
    operation_ids.add(operation_id)
    entries = {
        "tags": route.tags,
        "summary": generate_operation_summary(route=route, method=method),
        "description": route.description,
        "operationId": operation_id,
        "deprecated": route.deprecated,
    }
    return {key: value for key, value in entries.items() if value or key in _ALWAYS_WRITTEN}


def _warn_duplicate(route: Any, operation_id: str) -> None:
    endpoint = route.endpoint
    message = (
        f"Duplicate Operation ID {operation_id} for function "
        f"{getattr(endpoint, '__name__', '<unnamed_endpoint>')}"
    )
    file_name = getattr(endpoint, "__globals__", {}).get("__file__")
    if file_name:
        message += f" at {file_name}"
    warnings.warn(message, stacklevel=1)


def _examples_into(target: dict[str, Any], info: Any) -> None:
    openapi_examples = getattr(info, "openapi_examples", None)
    example = getattr(info, "example", _Unset)
    if openapi_examples:
        target["examples"] = jsonable_encoder(openapi_examples)
    elif example is not _Unset:
        target["example"] = jsonable_encoder(example)


def _default_status_code(response_class: Any) -> str:
    """The ``status_code`` default of the response class's constructor (200 for most)."""
    parameter = inspect.signature(response_class.__init__).parameters.get("status_code")
    if parameter is not None and isinstance(parameter.default, int):
        return str(parameter.default)
    return "200"


class DocumentBuilder:
    """Lays out operations; collects security schemes and the validation-error definitions."""

    def __init__(
        self, definitions: Definitions, memo: dict[int, RouteSchemas] | None = None
    ) -> None:
        self.defs = definitions
        self.memo: dict[int, RouteSchemas] = {} if memo is None else memo
        self.operation_ids: set[str] = set()
        self.security_schemes: dict[str, Any] = {}
        self.extra_definitions: dict[str, Any] = {}
        self._status_defaults: dict[Any, str] = {}  # response class -> its default status

    def paths_of(self, routes: Sequence[Any]) -> dict[str, dict[str, Any]]:
        paths: dict[str, dict[str, Any]] = {}
        for route in iter_api_routes(routes):
            path = self.path_item(route)
            if path:
                paths.setdefault(route.path_format, {}).update(path)
        return paths

    def path_item(self, route: Any) -> dict[str, Any]:
        if not route.include_in_schema:
            return {}
        schemas = route_schemas(route, self.memo)
        return {method.lower(): self.operation(route, schemas, method) for method in route.methods}

    # --- one operation ---------------------------------------------------------------------

    def operation(self, route: Any, schemas: RouteSchemas, method: str) -> dict[str, Any]:
        operation = get_openapi_operation_metadata(
            route=route, method=method, operation_ids=self.operation_ids
        )
        security = self._security(schemas)
        if security:
            operation.setdefault("security", []).extend(security)
        parameters = self._parameters(schemas.params)
        if parameters:
            operation["parameters"] = parameters
        if method in METHODS_WITH_BODY and schemas.body is not None:
            operation["requestBody"] = self._request_body(schemas.body)
        if route.callbacks:
            operation["callbacks"] = self._callbacks(route.callbacks)
        responses = operation.setdefault("responses", {})
        self._main_response(route, schemas, responses)
        if route.responses:
            self._additional_responses(route, schemas, responses)
        if (schemas.has_params or schemas.body is not None) and not any(
            key in responses for key in ("422", "4XX", "default")
        ):
            responses["422"] = _validation_error_response()
            self.extra_definitions["ValidationError"] = validation_error_definition
            self.extra_definitions["HTTPValidationError"] = validation_error_response_definition
        if route.openapi_extra:
            deep_dict_update(operation, route.openapi_extra)
        return operation

    def _schema(self, field: SchemaField, alias: str | None = None) -> dict[str, Any]:
        return self.defs.schema_of(field, alias)

    def _security(self, schemas: RouteSchemas) -> list[dict[str, list[str]]]:
        merged: dict[str, list[str]] = {}
        for scheme, scopes in schemas.dependencies.security:
            name = scheme.scheme_name
            self.security_schemes[name] = jsonable_encoder(
                scheme.model, by_alias=True, exclude_none=True
            )
            known = merged.setdefault(name, [])
            known.extend(s for s in scopes if s not in known)
        return [{name: scopes} for name, scopes in merged.items()]

    def _parameters(self, params: list[OpenAPIParam]) -> list[dict[str, Any]]:
        by_key: dict[tuple[str, str], dict[str, Any]] = {}
        required: dict[tuple[str, str], dict[str, Any]] = {}
        for param in params:
            entry = self._parameter(param)
            key = (param.location, param.name)
            by_key[key] = entry
            if entry["required"]:
                required[key] = entry
        by_key.update(required)
        return list(by_key.values())

    def _parameter(self, param: OpenAPIParam) -> dict[str, Any]:
        info = param.info
        entry: dict[str, Any] = {
            "name": param.name,
            "in": param.location,
            "required": param.required,
            "schema": self._schema(param.schema_field, param.alias),
        }
        if info.description:
            entry["description"] = info.description
        _examples_into(entry, info)
        if getattr(info, "deprecated", None):
            entry["deprecated"] = True
        return entry

    def _request_body(self, body: BodyField) -> dict[str, Any]:
        content: dict[str, Any] = {"schema": self._schema(body.schema_field)}
        _examples_into(content, body.info)
        request_body: dict[str, Any] = {}
        if body.required:
            request_body["required"] = True
        request_body["content"] = {getattr(body.info, "media_type", "application/json"): content}
        return request_body

    def _callbacks(self, callbacks: Sequence[Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for callback in iter_api_routes(callbacks):
            result[callback.name] = {callback.path: self.path_item(callback)}
        return result

    # --- responses ---------------------------------------------------------------------------

    def _main_response(self, route: Any, schemas: RouteSchemas, responses: dict[str, Any]) -> None:
        response_class = response_class_of(route)
        if route.status_code is not None:
            status = str(route.status_code)
        else:
            status = self._status_default(response_class)
        response = responses.setdefault(status, {})
        response["description"] = route.response_description
        if not is_body_allowed_for_status_code(route.status_code):
            return
        content = self._main_content(route, schemas, response_class)
        if content is not None:
            media_type, value = content
            response.setdefault("content", {}).setdefault(media_type, {}).update(value)

    def _status_default(self, response_class: Any) -> str:
        status = self._status_defaults.get(response_class)
        if status is None:
            status = self._status_defaults[response_class] = _default_status_code(response_class)
        return status

    def _main_content(
        self, route: Any, schemas: RouteSchemas, response_class: Any
    ) -> tuple[str, dict[str, Any]] | None:
        if getattr(route, "is_json_stream", False):
            item = self._schema(schemas.stream_item) if schemas.stream_item else {}
            return "application/jsonl", {"itemSchema": item}
        if getattr(route, "is_sse_stream", False):
            return "text/event-stream", {"itemSchema": self._sse_item(schemas)}
        media_type = getattr(response_class, "media_type", None)
        if not media_type:
            return None
        schema: dict[str, Any] = {"type": "string"}
        if isinstance(response_class, type) and issubclass(response_class, JSONResponse):
            schema = self._schema(schemas.response) if schemas.response else {}
        return media_type, {"schema": schema}

    def _sse_item(self, schemas: RouteSchemas) -> dict[str, Any]:
        from hasten.sse import _SSE_EVENT_SCHEMA

        item = copy.deepcopy(_SSE_EVENT_SCHEMA)
        if schemas.stream_item is not None:
            item["required"] = ["data"]
            item["properties"]["data"] = {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": self._schema(schemas.stream_item),
            }
        return item

    def _additional_responses(
        self, route: Any, schemas: RouteSchemas, responses: dict[str, Any]
    ) -> None:
        media_type = getattr(response_class_of(route), "media_type", None) or "application/json"
        for code, spec in route.responses.items():
            if not isinstance(spec, dict):
                raise TypeError("An additional response must be a dict")
            extra = copy.deepcopy(spec)
            extra.pop("model", None)
            key = str(code).upper()
            if key == "DEFAULT":
                key = "default"
            target = responses.setdefault(key, {})
            field = schemas.extra_responses.get(code)
            if field is not None:
                schema = (
                    extra.setdefault("content", {})
                    .setdefault(media_type, {})
                    .setdefault("schema", {})
                )
                deep_dict_update(schema, self._schema(field))
            status_text = _status_text(code)  # raises ValueError for an invalid key
            description = (
                extra.get("description")
                or target.get("description")
                or status_text
                or "Additional Response"
            )
            deep_dict_update(target, extra)
            target["description"] = description


def _status_text(code: Any) -> str | None:
    text = status_code_ranges.get(str(code).upper())
    if text:
        return text
    return http.client.responses.get(int(code))
