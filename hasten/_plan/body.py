"""Request body validators: one JSON value, embedded JSON fields, or form fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile

from .fields import ParamField
from .validate import Missing, missing_error, prefixed, typed_dict_adapter


def _default_or_missing(field: ParamField, loc: tuple[Any, ...], errors: list[Any]) -> Any:
    if field.required:
        errors.append(missing_error(loc))
        return Missing
    return field.get_default()


class SingleBody:
    """The whole body is one parameter (``item: Item``)."""

    __slots__ = ("field", "adapter")
    is_form = False

    def __init__(self, field: ParamField) -> None:
        self.field = field
        self.adapter = field.adapter

    async def run(self, body: Any, values: dict[str, Any], errors: list[Any]) -> None:
        field = self.field
        if body is Missing:
            value = _default_or_missing(field, ("body",), errors)
            if value is Missing or not field.validate_default:
                if value is not Missing:
                    values[field.name] = value
                return
            body = value
        try:
            values[field.name] = self.adapter.validate_python(body, from_attributes=True)
        except ValidationError as exc:
            errors.extend(prefixed(exc.errors(include_url=False), ("body",)))


class EmbeddedBody:
    """Several parameters (or ``embed=True``): the body is an object keyed by alias."""

    __slots__ = ("fields", "adapter")
    is_form = False

    def __init__(self, fields: Sequence[ParamField]) -> None:
        self.fields = tuple(fields)
        self.adapter = typed_dict_adapter("body_params", fields)

    async def run(self, body: Any, values: dict[str, Any], errors: list[Any]) -> None:
        if body is not Missing and not isinstance(body, bytes) and not isinstance(body, Mapping):
            errors.extend(missing_error(("body", f.keys[0][0])) for f in self.fields)
            return
        source = body if isinstance(body, Mapping) else {}
        data, aliases = self._collect(source, values, errors)
        if not data:
            return
        try:
            values.update(self.adapter.validate_python(data, from_attributes=True))
        except ValidationError as exc:
            errors.extend(_map_fields(exc, aliases))

    def _collect(
        self, source: Mapping[str, Any], values: dict[str, Any], errors: list[Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        data: dict[str, Any] = {}
        aliases: dict[str, str] = {}
        for field in self.fields:
            alias, value = _first_present(source, field)
            aliases[field.name] = alias
            if value is Missing:
                value = _default_or_missing(field, ("body", alias), errors)
                if value is Missing:
                    continue
                if not field.validate_default:
                    values[field.name] = value
                    continue
            data[field.name] = value
        return data, aliases


def _first_present(source: Mapping[str, Any], field: ParamField) -> tuple[str, Any]:
    for alias, key in field.keys:
        value = source.get(key, Missing)
        if value is not Missing:
            return alias, value
    return field.keys[0][0], Missing


def _map_fields(exc: ValidationError, aliases: dict[str, str]) -> list[Any]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        out.append({**err, "loc": ("body", aliases.get(loc[0], loc[0]), *loc[1:])})
    return out


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


class FormBody:
    """Form fields (and files, and form models) of one dependant."""

    __slots__ = ("fields", "models", "adapter")
    is_form = True

    def __init__(self, fields: Sequence[ParamField]) -> None:
        self.fields = tuple(f for f in fields if not f.form_models)
        self.models = tuple(f for f in fields if f.form_models)
        self.adapter = typed_dict_adapter("form_params", self.fields) if self.fields else None

    async def run(self, form: Any, values: dict[str, Any], errors: list[Any]) -> None:
        if not isinstance(form, FormData):
            form = FormData()
        if self.fields:
            await self._run_fields(form, values, errors)
        for field in self.models:
            await self._run_model(field, form, values, errors)

    async def _run_fields(self, form: FormData, values: dict[str, Any], errors: list[Any]) -> None:
        data: dict[str, Any] = {}
        aliases: dict[str, str] = {}
        for field in self.fields:
            alias, value = field.keys[0][0], Missing
            for alias, key in field.keys:
                value = form_value(form, key, field.sequence)
                if value is not Missing:
                    break
            else:
                alias = field.keys[0][0]
            aliases[field.name] = alias
            if value is Missing:
                value = _default_or_missing(field, ("body", alias), errors)
                if value is Missing or not field.validate_default:
                    if value is not Missing:
                        values[field.name] = value
                    continue
            data[field.name] = await _as_bytes(field, value)
        if not data or self.adapter is None:
            return
        try:
            values.update(self.adapter.validate_python(data, from_attributes=True))
        except ValidationError as exc:
            errors.extend(_map_fields(exc, aliases))

    async def _run_model(
        self, field: ParamField, form: FormData, values: dict[str, Any], errors: list[Any]
    ) -> None:
        model = field.form_models[0]
        data: dict[str, Any] = {}
        own: set[str] = set()
        for name, info in model.model_fields.items():
            va = info.validation_alias
            key = va if isinstance(va, str) else (info.alias or name)
            own.add(key)
            from . import typeinfo

            value = form_value(form, key, typeinfo.is_sequence(info.annotation))
            if value is not Missing:
                data[key] = value
        extra = model.model_config.get("extra")
        for key in form.keys():
            if key not in own and extra in ("allow", "forbid"):
                data.setdefault(key, form_value(form, key, False))
        supplied = bool(own.intersection(form.keys())) or (extra in ("allow", "forbid") and form)
        if not supplied and field.type_annotation is not model and type(None) in getattr(
            field.type_annotation, "__args__", ()
        ):
            value = _default_or_missing(field, ("body",), errors)
            if value is not Missing:
                values[field.name] = value
            return
        try:
            values[field.name] = field.adapter.validate_python(data, from_attributes=True)
        except ValidationError as exc:
            errors.extend(prefixed(exc.errors(include_url=False), ("body",)))
