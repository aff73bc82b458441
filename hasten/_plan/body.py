"""Request body validators: one JSON value, embedded JSON fields, or form fields."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, Tag, ValidationError
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile

from .fields import ParamField, model_keys
from .schema import schema_nodes
from .validate import (
    Missing,
    grouped_extras,
    missing_error,
    prefixed,
    take,
    typed_dict_adapter,
    validate_named,
)


class RawJSON:
    """A JSON body not parsed yet: its schema lets it be validated from the bytes."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw


class Prevalidated:
    """A JSON body that :meth:`SingleBody.from_json` already validated (and its bytes)."""

    __slots__ = ("value", "raw")

    def __init__(self, value: Any, raw: bytes) -> None:
        self.value = value
        self.raw = raw

    def parsed(self) -> Any:
        """The body as FastAPI keeps it (parsed JSON): for errors that report the body."""
        return json.loads(self.raw)


def json_mode_safe(schema: Any) -> bool:
    """Whether validating the JSON text is provably the same as validating the parsed JSON.

    Only then may a JSON body skip Python's parser (:meth:`SingleBody.from_json`). The core
    schema is checked against an allow-list: plain containers, models, typed dicts and
    dataclasses without hooks, and scalar types whose JSON-mode and Python-mode validation
    agree on every value that JSON mode accepts (values it refuses fall back to the general
    path). Anything that runs user code (validators, ``__init__``/``__post_init__`` hooks,
    default factories other than builtin containers) would see ``info.mode == "json"`` or run
    twice on an invalid body; unions rank members by JSON type; decimals, fractions and
    bytes keep or decode the JSON text differently; strict parts and some config options
    (``coerce_numbers_to_str``, ``val_json_bytes``) change how numbers and strings read.
    """
    known = _JSON_MODE_SAFE.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    result = _json_mode_safe(schema)
    if len(_JSON_MODE_SAFE) >= 4096:
        _JSON_MODE_SAFE.clear()
    _JSON_MODE_SAFE[id(schema)] = (schema, result)  # the schema is kept: its id stays its own
    return result


_JSON_MODE_SAFE: dict[int, tuple[Any, bool]] = {}

# Core schema types that validate a JSON document and its parsed value alike.
_SAFE_TYPES = frozenset(
    {
        "any", "none", "bool", "int", "float", "str", "literal", "enum",
        "date", "time", "datetime", "timedelta", "uuid", "url", "multi-host-url",
        "list", "set", "frozenset", "tuple", "dict", "nullable", "default",
        "model", "model-fields", "model-field", "typed-dict", "typed-dict-field",
        "dataclass", "dataclass-args", "dataclass-field", "definitions", "definition-ref",
    }
)  # fmt: skip
_UNSAFE_CONFIG = frozenset({"coerce_numbers_to_str", "strict", "val_json_bytes"})
_BUILTIN_FACTORIES = frozenset({list, dict, set, frozenset, tuple, str, int, float, bool, bytes})


def _json_mode_safe(schema: Any) -> bool:
    return all(_node_safe(node) for node in schema_nodes(schema))


def _node_safe(node: dict[str, Any]) -> bool:
    if node["type"] not in _SAFE_TYPES:
        return False
    if node.get("strict") is True or node.get("coerce_numbers_to_str"):
        return False
    if node.get("custom_init") or node.get("post_init"):
        return False
    config = node.get("config")
    if isinstance(config, dict) and not _UNSAFE_CONFIG.isdisjoint(config):
        return False
    factory = node.get("default_factory")
    return factory is None or factory in _BUILTIN_FACTORIES


class SingleBody:
    """The whole body is one parameter (``item: Item``)."""

    __slots__ = ("field", "adapter")
    is_form = False

    def __init__(self, field: ParamField) -> None:
        self.field = field
        self.adapter = field.adapter

    def from_json(self, raw: bytes) -> Prevalidated | None:
        """Validate a JSON body straight from its bytes, or None to parse it as before.

        Pydantic parses and validates in one pass. Anything but a valid value returns None, so
        the caller parses the JSON with Python's parser and validates the result: errors then
        read exactly as FastAPI's (JSON-mode messages differ, "array" for "list"), invalid JSON
        gives the usual ``json_invalid`` error first, and ``NaN`` keeps working.
        """
        try:
            return Prevalidated(self.adapter.validator.validate_json(raw), raw)
        except ValidationError:
            return None

    async def run(self, body: Any, values: dict[str, Any], errors: list[Any]) -> None:
        field = self.field
        if type(body) is Prevalidated:
            values[field.name] = body.value
            return
        if body is Missing:
            body = _absent(field, ("body",), values, errors)
            if body is Missing:
                if field.name not in values:  # required and absent: None, as FastAPI's
                    values[field.name] = None
                return
        try:
            values[field.name] = self.adapter.validator.validate_python(body, from_attributes=True)
        except ValidationError as exc:
            values[field.name] = None  # FastAPI's values keep the single body's name
            errors.extend(prefixed(exc.errors(include_url=False), ("body",)))


class EmbeddedBody:
    """Several parameters (or ``embed=True``): the body is an object keyed by alias."""

    __slots__ = ("fields", "adapter")
    is_form = False
    prefix = ("body",)

    def __init__(self, fields: Sequence[ParamField]) -> None:
        self.fields = tuple(fields)
        self.adapter = typed_dict_adapter("body_params", fields)

    async def run(self, body: Any, values: dict[str, Any], errors: list[Any]) -> None:
        if body is not Missing and not isinstance(body, bytes) and not isinstance(body, Mapping):
            # Embedded fields need an object: a list, scalar or null misses all of them.
            errors.extend(missing_error(("body", f.keys[0][0])) for f in self.fields)
            return
        source = body if isinstance(body, Mapping) else {}
        collected: tuple[dict[str, Any], dict[str, str], list[str]] = ({}, {}, [])
        for field in self.fields:
            value = Missing
            for alias, key in field.keys:
                value = source.get(key, Missing)
                if value is not Missing:
                    if alias != field.keys[0][0]:
                        collected[1][field.name] = alias
                    break
            take(field, value, collected, values)
        validate_named(self.adapter, self.fields, collected, self.prefix, values, errors)


def _is_empty_file(value: Any) -> bool:
    return isinstance(value, StarletteUploadFile) and value.filename == "" and value.size == 0


async def _read_bytes(file: StarletteUploadFile) -> bytes:
    position = file.file.tell()
    try:
        return await file.read()
    finally:
        await file.seek(position)


def form_value(form: FormData, key: str, sequence: bool) -> Any:
    """A form value, with empty strings and empty file inputs counted as absent."""
    if sequence:
        items = [v for v in form.getlist(key) if not _is_empty_file(v)]
        return items if items else Missing
    value = form.get(key)
    if value is None or value == "" or _is_empty_file(value):
        return Missing
    return value


async def _as_bytes(field: ParamField, value: Any) -> Any:
    if field.read_bytes and isinstance(value, StarletteUploadFile):
        return await _read_bytes(value)
    if field.read_bytes_seq and isinstance(value, list):
        return [await _read_bytes(v) if isinstance(v, StarletteUploadFile) else v for v in value]
    return value


class FormModelReader:
    """Reads one form model's values out of form data (built at startup).

    Each field takes the first of its aliases that holds a non-empty value; every other
    entry, empty ones included, is passed on for the model's ``extra`` policy.
    """

    __slots__ = ("keys", "own", "open_extra")

    def __init__(self, model: type[BaseModel]) -> None:
        self.keys = model_keys(model)
        self.own = frozenset(alias for mk in self.keys for alias, _ in mk.pairs)
        self.open_extra = model.model_config.get("extra") in ("allow", "forbid")

    def supplied(self, form: FormData) -> bool:
        """Whether the form holds anything for this model (empty values count)."""
        return bool(self.own.intersection(form.keys())) or (self.open_extra and len(form) > 0)

    def read(self, form: FormData) -> dict[str, Any]:
        data: dict[str, Any] = {}
        tried: set[str] = set()
        for mk in self.keys:
            for alias, _ in mk.pairs:
                tried.add(alias)
                value = form_value(form, alias, mk.sequence)
                if value is not Missing:
                    data[alias] = value
                    break
        data.update(grouped_extras(form, tried))
        return data

    def normalize(self, value: Any) -> Any:
        """Union branch validator: re-read the raw form entries for this model."""
        if not isinstance(value, dict):
            return value
        entries = [
            (key, item)
            for key, items in value.items()
            for item in (items if isinstance(items, list) else [items])
        ]
        out = self.read(FormData(entries))
        for key, item in value.items():
            if item is None or (isinstance(item, list) and not item):
                out[key] = item
        return out


def union_form_annotation(annotation: Any) -> Any:
    """``A | B`` of form models, each branch normalizing the form data for itself."""
    choices: list[Any] = []
    for choice in get_args(annotation):
        if choice is type(None):
            choices.append(choice)
            continue
        model, *metadata = get_args(choice) if get_origin(choice) is Annotated else (choice,)
        tags = [item for item in metadata if isinstance(item, Tag)]
        tag = tags[-1] if tags else Tag(model.__name__)
        normalizer = BeforeValidator(FormModelReader(model).normalize)
        choices.append(Annotated[choice, normalizer, tag])
    return Union[tuple(choices)]  # noqa: UP007


def _absent(
    field: ParamField, loc: tuple[Any, ...], values: dict[str, Any], errors: list[Any]
) -> Any:
    """A missing value: the error, or the default (Missing when nothing is left to validate)."""
    if field.required:
        errors.append(missing_error(loc))
        return Missing
    default = field.get_default()
    if field.validate_default:
        return default
    values[field.name] = default
    return Missing


class FormModelParam:
    """A form parameter typed as a model, ``Model | None`` or a union of models."""

    __slots__ = ("field", "readers", "optional")

    def __init__(self, field: ParamField) -> None:
        self.field = field
        self.readers = tuple(FormModelReader(m) for m in field.form_models)
        self.optional = type(None) in get_args(field.type_annotation)

    async def run(self, form: FormData, values: dict[str, Any], errors: list[Any]) -> None:
        field, readers = self.field, self.readers
        if self.optional and not any(reader.supplied(form) for reader in readers):
            data = _absent(field, ("body",), values, errors)
            if data is Missing:
                return
        elif len(readers) == 1:
            data = readers[0].read(form)
        else:  # each union branch reads the raw entries itself (see union_form_annotation)
            data = grouped_extras(form, ())
        try:
            values[field.name] = field.adapter.validate_python(data, from_attributes=True)
        except ValidationError as exc:
            errors.extend(prefixed(exc.errors(include_url=False), ("body",)))


class FormBody:
    """Form fields (and files, and form models) of one dependant, in declaration order.

    Consecutive plain fields are validated together; each form model on its own. The parts
    run in declaration order, so errors come out in FastAPI's order.
    """

    __slots__ = ("parts", "fields", "mapping", "whole")
    is_form = True

    def __init__(self, fields: Sequence[ParamField], whole: bool = False) -> None:
        self.fields = tuple(fields)
        self.mapping: EmbeddedBody | SingleBody | None = None  # made when first needed
        # One body parameter that is not a form field, not embedded (a ``Body()`` of a
        # dependency override on a form route): FastAPI gives it every form entry as one value.
        self.whole = whole
        parts: list[Any] = []
        plain: list[ParamField] = []
        for field in (*fields, None):
            if field is not None and not field.form_models:
                plain.append(field)
                continue
            if plain:
                parts.append(FormFields(plain))
                plain = []
            if field is not None:
                parts.append(FormModelParam(field))
        self.parts = tuple(parts)

    async def run(self, form: Any, values: dict[str, Any], errors: list[Any]) -> None:
        if not isinstance(form, FormData):
            if form is not Missing:  # a body given to ``solve_dependencies`` (cadwyn's dict)
                await self._run_mapping(form, values, errors)
                return
            form = FormData()
        if self.whole:
            await self._run_whole(form, values, errors)
            return
        for part in self.parts:
            await part.run(form, values, errors)

    async def _run_mapping(self, body: Any, values: dict[str, Any], errors: list[Any]) -> None:
        """A body that is not form data, as FastAPI validates one: each field (form models
        too) under its aliases in the mapping, as embedded JSON fields are."""
        if self.mapping is None:
            whole = self.whole
            self.mapping = SingleBody(self.fields[0]) if whole else EmbeddedBody(self.fields)
        await self.mapping.run(body, values, errors)

    async def _run_whole(self, form: FormData, values: dict[str, Any], errors: list[Any]) -> None:
        """The one parameter's value: its own entry (under the first alias the form has) and
        every other entry of the form, as one mapping."""
        field = self.fields[0]
        data: dict[str, Any] = {}
        for alias, _ in field.keys:
            value = form_value(form, alias, field.sequence)
            if value is not Missing:
                data[alias] = await _as_bytes(field, value)
                break
        data.update(grouped_extras(form, [alias for alias, _ in field.keys]))
        await self._run_mapping(data, values, errors)


class FormFields:
    """Plain form fields (and files) validated together."""

    __slots__ = ("fields", "adapter")

    def __init__(self, fields: Sequence[ParamField]) -> None:
        self.fields = tuple(fields)
        self.adapter = typed_dict_adapter("form_params", self.fields)

    async def run(self, form: FormData, values: dict[str, Any], errors: list[Any]) -> None:
        collected: tuple[dict[str, Any], dict[str, str], list[str]] = ({}, {}, [])
        for field in self.fields:
            value = Missing
            for alias, _ in field.keys:
                value = form_value(form, alias, field.sequence)
                if value is not Missing:
                    if alias != field.keys[0][0]:
                        collected[1][field.name] = alias
                    value = await _as_bytes(field, value)
                    break
            take(field, value, collected, values)
        validate_named(self.adapter, self.fields, collected, ("body",), values, errors)
