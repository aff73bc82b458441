"""Response writers, chosen once per route: turn an endpoint's return value into a Response."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from .._starlette import (
    JSON_TYPE,
    JSONBytesResponse,
    is_own,
    length_known,
    length_pair,
    text_content_type,
    text_responder,
)
from ..datastructures import DefaultPlaceholder
from ..encoders import jsonable_encoder
from ..exceptions import EndpointContext, ResponseValidationError
from .dictshape import dict_shaped
from .dumping import dump_keywords, json_dumper, python_dumper
from .validate import prefixed

Writer = Callable[[Any, dict[str, Any]], Response]
#: A JSON writer's part that turns the endpoint's answer into the body's bytes.
Encoder = Callable[[Any], bytes]


# JSONResponse's encoding (compact, UTF-8, NaN refused) with one encoder built once.
_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
).encode


def _dumps(content: Any) -> bytes:
    try:
        return _encode(content).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped, not a 500
        return _dumps_ascii(content)


def _dumps_ascii(content: Any) -> bytes:
    """Strict JSON in ASCII: lone surrogates as ``\\udXXX`` escapes, so the client gets back
    exactly the string it sent (UTF-8 cannot carry them). NaN is still refused, as FastAPI."""
    data = jsonable_encoder(content)
    return json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def default_response_args(status_code: int | None) -> dict[str, Any]:
    """A writer's arguments when no ``Response`` parameter or background task changed them."""
    return (
        {"background": None}
        if not status_code
        else {"background": None, "status_code": status_code}
    )


@dataclass(frozen=True, slots=True)
class ResponseOptions:
    """The response settings of a route (FastAPI's ``response_model_*`` arguments)."""

    adapter: TypeAdapter[Any] | None
    include: Any
    exclude: Any
    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool
    response_class: Any
    endpoint_ctx: EndpointContext


def dump_options(opts: ResponseOptions, adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """The ``response_model_*`` options as serializer keyword arguments for ``adapter``'s
    values: those that change its output (``hasten._plan.dumping``)."""
    options = {
        "include": opts.include,
        "exclude": opts.exclude,
        "by_alias": opts.by_alias,
        "exclude_unset": opts.exclude_unset,
        "exclude_defaults": opts.exclude_defaults,
        "exclude_none": opts.exclude_none,
    }
    return dump_keywords(options, adapter.core_schema)


_EMPTY = frozenset(range(100, 200)) | {204, 205, 304}  # statuses that must not carry a body


def make_writer(opts: ResponseOptions) -> Writer:
    """Pick the writer for a route: model → JSON bytes, plain JSON, or a custom class."""
    default_class = isinstance(opts.response_class, DefaultPlaceholder)
    cls = opts.response_class.value if default_class else opts.response_class
    adapter = opts.adapter
    if adapter is not None:
        if not adapter.pydantic_complete:  # names a type not defined yet (a ForwardRef)
            return _deferred_writer(opts, adapter)
        dump_kwargs = dump_options(opts, adapter)
        if default_class:
            return _model_json_writer(opts, adapter, dump_kwargs)
        return _model_class_writer(opts, adapter, dump_kwargs, cls)
    if cls is JSONResponse and not json_response_patched():
        return _plain_json_writer()
    return _class_writer(cls)


#: The status, headers and body of a response (what its two messages carry).
Messages = tuple[int, list[tuple[bytes, bytes]], bytes]
#: The same for an RSGI server: the headers as ``str`` pairs (latin-1), in a list that is
#: shared by the answers of one size and must not be changed.
RSGIMessages = tuple[int, list[tuple[str, str]], bytes]
#: How a runner sends a route's answer without making its response object (see
#: :func:`direct_body`): ``(the answer's messages or None, the response class, the same
#: messages as RSGI's or None)``.
Direct = tuple[Callable[[Any], Messages | None], Any, Callable[[Any], RSGIMessages | None]]


def direct_body(opts: ResponseOptions, status_code: int | None) -> Direct | None:
    """What a runner needs to send a route's answer as the two messages its writer's
    response would send, without making that response; None when the route's writer is not
    one of these:

    * a JSON writer (a response model with the default class, or no model and an unpatched
      ``JSONResponse``): the body is the same encoder's bytes, the headers
      ``JSONBytesResponse``'s;
    * ``PlainTextResponse``/``HTMLResponse`` exactly, without a model other than ``str``:
      a ``str`` answer's body and headers as ``text_responder`` makes them (the function
      answers None for anything else, which goes to the writer).

    Only for a status whose response carries a body and a ``content-length``. The runner
    still checks per request that the answer is no ``Response`` and that the class's
    ``__call__`` is Starlette's. The third function answers the same as RSGI's ``str``
    headers, the pairs ``hasten._rsgi.http`` would decode from the first's (Granian's direct
    answers, ``hasten._rsgi.direct``): one list per body size, decoded once.
    """
    status = status_code or 200
    if status < 200 or status in _EMPTY:
        return None
    default_class = isinstance(opts.response_class, DefaultPlaceholder)
    cls = opts.response_class.value if default_class else opts.response_class
    adapter = opts.adapter
    text = cls in (PlainTextResponse, HTMLResponse)
    if adapter is not None:
        if not adapter.pydantic_complete:
            return None
        if default_class:
            encoder = _model_json_encoder(opts, adapter, dump_options(opts, adapter))
            return _json_direct(encoder, status)
        if not (text and adapter.core_schema == {"type": "str"}):
            return None
    elif cls is JSONResponse and not json_response_patched():
        return _json_direct(_plain_json_encode, status)
    if not text:
        return None
    return _text_direct(text_content_type(cls), status, cls)


class _RSGIHeaders(dict[int, list[tuple[str, str]]]):
    """The RSGI headers of one route's direct answers by body size: ``content-length`` and
    ``content_type``, decoded from the pairs the ASGI messages carry (as latin-1, as
    ``hasten._rsgi.http`` decodes them). At ``LIMIT`` sizes the table starts afresh."""

    LIMIT = 1024

    def __init__(self, content_type: tuple[bytes, bytes]) -> None:
        super().__init__()
        self.content_type = content_type

    def __missing__(self, size: int) -> list[tuple[str, str]]:
        pairs = (length_known(size) or length_pair(size), self.content_type)
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in pairs]
        if len(self) >= self.LIMIT:
            self.clear()
        self[size] = headers
        return headers


def _json_direct(encode: Encoder, status: int) -> Direct:
    headers = _RSGIHeaders(JSON_TYPE)

    def messages(raw: Any) -> Messages | None:
        if isinstance(raw, Response):
            return None
        body = encode(raw)
        size = len(body)
        return status, [length_known(size) or length_pair(size), JSON_TYPE], body

    def rsgi(raw: Any) -> RSGIMessages | None:  # ``messages``, headers as ``str``
        if isinstance(raw, Response):
            return None
        body = encode(raw)
        return status, headers[len(body)], body

    return messages, JSONBytesResponse, rsgi


def _text_direct(content_type: tuple[bytes, bytes], status: int, cls: Any) -> Direct:
    headers = _RSGIHeaders(content_type)

    def messages(raw: Any) -> Messages | None:
        if type(raw) is not str:
            return None
        body = raw.encode()  # UTF-8 (the default needs no codec lookup)
        size = len(body)
        return status, [length_known(size) or length_pair(size), content_type], body

    def rsgi(raw: Any) -> RSGIMessages | None:  # ``messages``, headers as ``str``
        if type(raw) is not str:
            return None
        body = raw.encode()  # UTF-8 (the default needs no codec lookup)
        return status, headers[len(body)], body

    return messages, cls, rsgi


def _deferred_writer(opts: ResponseOptions, adapter: Any) -> Writer:
    """The writer of a response model that is not fully defined when the route is declared
    (an annotation imported for type checkers only): made on a request, as FastAPI's field
    is used then; the model's ``TypeAdapter`` raises Pydantic's error while it stays
    undefined."""
    made: list[Writer] = []

    def write(raw: Any, args: dict[str, Any]) -> Response:
        if not made:
            adapter.rebuild()  # Pydantic's "not fully defined" error while it still is not
            made.append(make_writer(opts))
        return made[0](raw, args)

    return write


def json_response_patched() -> bool:
    """Whether ``JSONResponse`` was patched (instrumentation, tests): then it builds responses.

    Endpoints without a response model answer through ``JSONResponse`` in FastAPI; Hasten
    encodes their JSON itself only while doing so cannot be told apart.
    """
    return not (
        is_own(JSONResponse.render, "starlette.responses", "JSONResponse.render")
        and is_own(JSONResponse.__init__, "starlette.responses", "JSONResponse.__init__")
    )


def _response_error(opts: ResponseOptions, exc: ValidationError, raw: Any) -> Exception:
    errors = prefixed(exc.errors(include_url=False), ("response",))
    return ResponseValidationError(errors, body=raw, endpoint_ctx=opts.endpoint_ctx)


def _model_json_writer(opts: ResponseOptions, adapter: Any, kw: dict[str, Any]) -> Writer:
    return _bytes_writer(_model_json_encoder(opts, adapter, kw))


def _bytes_writer(encode: Encoder) -> Writer:
    """The writer answering ``encode(raw)`` as ``application/json``."""

    def write(raw: Any, args: dict[str, Any]) -> Response:
        return JSONBytesResponse(encode(raw), **args)

    return write


def _model_json_encoder(opts: ResponseOptions, adapter: Any, kw: dict[str, Any]) -> Encoder:
    """``raw`` validated by the response model and dumped to JSON bytes."""
    validate = adapter.validator.validate_python
    to_json = json_dumper(adapter.serializer.to_json, kw)

    def encode(raw: Any) -> bytes:
        try:
            value = validate(raw, from_attributes=True)
        except ValidationError as exc:
            raise _response_error(opts, exc, raw) from None
        try:
            return to_json(value)
        except ValueError:  # a lone surrogate: Pydantic's JSON is UTF-8 only
            return _dumps_ascii(adapter.serializer.to_python(value, mode="json", **kw))

    schema = adapter.core_schema
    model = schema.get("items_schema", {}) if schema.get("type") == "list" else schema
    if model.get("type") != "model" or opts.exclude_unset or opts.exclude_defaults:
        return encode
    if opts.include or opts.exclude:
        return encode
    return _dict_shaped_encoder(encode, kw, schema)


def _dict_shaped_encoder(model_encode: Encoder, kw: dict[str, Any], schema: Any) -> Encoder:
    """:func:`_model_json_encoder` that validates dicts (a list of dicts) into the model's
    typed-dict twin (``hasten._plan.dictshape``): same values, same JSON, no instances.
    Anything else, or anything the twin refuses, goes the model's way. The twin is made when
    a dict first comes (not at startup), once per schema."""
    is_list = schema.get("type") == "list"
    twin: list[Any] = []  # [(validate, to_json)] once made, [None] when the model must stay

    def encode(raw: Any) -> bytes:
        kind = type(raw)
        if kind is dict if not is_list else kind is list and (not raw or type(raw[0]) is dict):
            if not twin:
                made = _twin_of(schema)
                twin.append(made and (made[0], json_dumper(made[1], kw)))
            made = twin[0]
            if made is not None:
                try:
                    return made[1](made[0](raw, from_attributes=True))  # type: ignore[no-any-return]
                except (ValidationError, ValueError):  # the model's way says what is wrong
                    pass
        return model_encode(raw)

    return encode


_TWINS: dict[int, tuple[Any, Any]] = {}  # id(schema) -> (schema, twin), at most 1024


def _twin_of(schema: Any) -> tuple[Any, Any] | None:
    """``(validate_python, to_json)`` of the typed-dict twin of ``schema``, shared by every
    route with the same schema object (routes of one response model), or None."""
    known = _TWINS.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]  # type: ignore[no-any-return]
    shaped = dict_shaped(schema)
    made = None if shaped is None else (shaped[0].validate_python, shaped[1].to_json)
    if len(_TWINS) >= 1024:
        _TWINS.clear()
    _TWINS[id(schema)] = (schema, made)
    return made


def _model_class_writer(
    opts: ResponseOptions, adapter: Any, kw: dict[str, Any], cls: Any
) -> Writer:
    validate = adapter.validator.validate_python
    dump = python_dumper(adapter.serializer.to_python, kw)
    make = response_maker(cls)
    # A plain ``str`` model validates and dumps a ``str`` to itself: skip both.
    plain_str = adapter.core_schema == {"type": "str"}
    make_str = text_responder(cls) if cls in (PlainTextResponse, HTMLResponse) else make

    def write(raw: Any, args: dict[str, Any]) -> Response:
        if plain_str and type(raw) is str:
            return make_str(raw, args)
        try:
            value = validate(raw, from_attributes=True)
        except ValidationError as exc:
            raise _response_error(opts, exc, raw) from None
        return make(dump(value), args)

    return write


def response_maker(cls: Any) -> Callable[[Any, dict[str, Any]], Response]:
    """``(content, args) -> cls(content, **args)``, with Starlette's text classes built directly.

    ``PlainTextResponse`` and ``HTMLResponse`` with ``str`` content get the same body and
    headers that their constructor would give them, without the generic header code.
    """
    if cls not in (PlainTextResponse, HTMLResponse):

        def make(content: Any, args: dict[str, Any]) -> Response:
            response = cls(content, **args)
            if response.status_code in _EMPTY:
                response.body = b""
            return response  # type: ignore[no-any-return]

        return make
    text = text_responder(cls)

    def make_text(content: Any, args: dict[str, Any]) -> Response:
        if type(content) is str:
            return text(content, args)
        response = cls(content, **args)
        if response.status_code in _EMPTY:
            response.body = b""
        return response  # type: ignore[no-any-return]

    return make_text


def _plain_json_writer() -> Writer:
    return _bytes_writer(_plain_json_encode)


def _plain_json_encode(raw: Any) -> bytes:
    """JSONResponse's body for ``raw`` (through ``jsonable_encoder`` when ``json`` refuses it)."""
    try:
        return _dumps(raw)
    except TypeError:
        return _dumps(jsonable_encoder(raw))


def _class_writer(cls: Any) -> Writer:
    make = response_maker(cls)

    def write(raw: Any, args: dict[str, Any]) -> Response:
        return make(raw if type(raw) is str else jsonable_encoder(raw), args)

    return write
