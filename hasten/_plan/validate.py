"""Validators built once per (dependant, location); each request makes one call per location.

Errors come out in FastAPI's shape: ``loc`` starts with the location and the request alias,
``input`` is ``None`` for a missing value, pydantic's ``url`` is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from .fields import ParamField, Undefined

Missing: Any = Undefined


def missing_error(loc: tuple[Any, ...]) -> dict[str, Any]:
    """FastAPI's error for an absent required value."""
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


def prefixed(errors: Sequence[Any], prefix: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Pydantic error dicts with ``prefix`` put in front of each ``loc``."""
    return [{**err, "loc": prefix + tuple(err["loc"])} for err in errors]


def typed_dict_adapter(name: str, fields: Sequence[ParamField]) -> TypeAdapter[Any]:
    """One adapter validating all given fields at once (keys are parameter names)."""
    spec = TypedDict(name, {f.name: f.annotation for f in fields}, total=False)  # type: ignore[operator]
    return TypeAdapter(spec)


def lookup(source: Any, field: ParamField) -> tuple[str, Any]:
    """(alias used, raw value or Missing) for a plain parameter in a request mapping."""
    keys = field.keys
    for alias, key in keys:
        if field.sequence:
            value = source.getlist(key) if hasattr(source, "getlist") else source.get(key)
            if value:
                return alias, value
        else:
            value = source.get(key)
            if value is not None:
                return alias, value
    return keys[0][0], Missing


class ParamsValidator:
    """Validates the plain (non-model) parameters of one location of one dependant."""

    __slots__ = ("location", "fields", "adapter")

    def __init__(self, location: str, fields: Sequence[ParamField]) -> None:
        self.location = location
        self.fields = tuple(fields)
        self.adapter = typed_dict_adapter(f"{location}_params", fields)

    def run(self, source: Any, values: dict[str, Any], errors: list[Any]) -> None:
        data: dict[str, Any] = {}
        failed = False
        for field in self.fields:
            value = lookup(source, field)[1]
            if value is not Missing:
                data[field.name] = value
            elif field.required:
                failed = True
            elif field.validate_default:
                data[field.name] = field.get_default()
            else:
                values[field.name] = field.get_default()
        if failed:
            errors.extend(self._errors(source, data))
            return
        try:
            values.update(self.adapter.validate_python(data, from_attributes=True))
        except ValidationError as exc:
            errors.extend(self._errors(source, data, exc))

    def _errors(
        self, source: Any, data: dict[str, Any], exc: ValidationError | None = None
    ) -> list[Any]:
        """Missing and invalid values, in declaration order (the error path only)."""
        if exc is None:
            try:
                self.adapter.validate_python(data, from_attributes=True)
            except ValidationError as err:
                exc = err
        invalid = exc.errors(include_url=False) if exc is not None else []
        result: list[Any] = []
        for field in self.fields:
            alias = lookup(source, field)[0]
            if field.name not in data and field.required:
                result.append(missing_error((self.location, alias)))
                continue
            for err in invalid:
                if err["loc"] and err["loc"][0] == field.name:
                    loc = (self.location, alias, *err["loc"][1:])
                    result.append({**err, "loc": loc})
        return result


class ModelParamValidator:
    """A Pydantic model declared as a group of query/header/cookie parameters."""

    __slots__ = ("field", "model", "location", "keys", "adapter", "extra_policy", "own")

    def __init__(self, field: ParamField) -> None:
        assert field.group_model is not None
        self.field = field
        self.model = field.group_model
        self.location = field.location
        self.adapter = field.adapter
        self.extra_policy = self.model.model_config.get("extra")
        convert = getattr(field.field_info, "convert_underscores", True)
        self.keys = tuple(_model_field_keys(self.model, self.location, convert))
        self.own = {key for _, keys, _ in self.keys for _, key in keys}

    def run(self, source: Any, values: dict[str, Any], errors: list[Any]) -> None:
        data, renames = self._collect(source)
        supplied = bool(self.own.intersection(_keys(source))) or (
            self.extra_policy in ("allow", "forbid") and bool(data)
        )
        if not supplied and self.field.type_annotation is not self.model:
            data = Missing
        if data is Missing:
            if self.field.required:
                errors.append(missing_error((self.location,)))
            else:
                values[self.field.name] = self.field.get_default()
            return
        try:
            values[self.field.name] = self.adapter.validate_python(data, from_attributes=True)
        except ValidationError as exc:
            errors.extend(self._map(exc, renames))

    def _collect(self, source: Any) -> tuple[dict[str, Any], dict[str, str]]:
        data: dict[str, Any] = {}
        renames: dict[str, str] = {}
        used: set[str] = set()
        is_headers = self.location == "header"
        for model_key, keys, seq in self.keys:
            for _, key in keys:
                value = _get(source, key, seq)
                if value is not Missing:
                    data[model_key] = value
                    if key != model_key:
                        renames[model_key] = key
                    break
            used.update(k.lower() if is_headers else k for _, k in keys)
        for key, value in _extras(source, used):
            data.setdefault(key, value)
        return data, renames

    def _map(self, exc: ValidationError, renames: dict[str, str]) -> list[Any]:
        result = []
        use_alias = self.model.model_config.get("loc_by_alias", True)
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            if self.location == "header" and use_alias and loc and loc[0] in renames:
                loc = (renames[loc[0]], *loc[1:])
            result.append({**err, "loc": (self.location, *loc)})
        return result


def _model_field_keys(
    model: type[BaseModel], location: str, convert: bool
) -> list[tuple[str, tuple[tuple[str, str], ...], bool]]:
    from . import typeinfo

    out = []
    for name, info in model.model_fields.items():
        va = info.validation_alias
        key = va if isinstance(va, str) else (info.alias or name)
        request_key = key
        if location == "header" and convert and key == name:
            request_key = name.replace("_", "-")
        seq = typeinfo.is_sequence(info.annotation)
        out.append((key, ((key, request_key),), seq))
    return out


def _keys(source: Any) -> set[str]:
    return set(source.keys())


def _get(source: Any, key: str, seq: bool) -> Any:
    if seq and hasattr(source, "getlist"):
        value = source.getlist(key)
        return value if value else Missing
    value = source.get(key)
    return Missing if value is None else value


def _extras(source: Any, used: set[str]) -> list[tuple[str, Any]]:
    if hasattr(source, "multi_items"):
        items = source.multi_items()
    elif hasattr(source, "getlist"):
        items = source.items()
    else:
        return [(k, source[k]) for k in source if k not in used]
    grouped: dict[str, list[Any]] = {}
    for key, value in items:
        if key not in used:
            grouped.setdefault(key, []).append(value)
    return [(k, v[0] if len(v) == 1 else v) for k, v in grouped.items()]


def is_mapping(value: Any) -> bool:
    return isinstance(value, Mapping)
