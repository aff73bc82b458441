"""``ParamField``: one declared request parameter, as analysed at startup."""

from __future__ import annotations

import warnings
from copy import deepcopy
from dataclasses import is_dataclass
from typing import Annotated, Any

from pydantic import AliasChoices, AliasPath, BaseModel, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .. import params
from . import typeinfo

Undefined: Any = PydanticUndefined


class ParamField:
    """A parameter's name, location, request keys and validation type.

    ``annotation`` is what validation and the JSON schema use: the declared type plus its
    constraints (``Annotated[int, Gt(0)]``); defaults are applied by the engine, like FastAPI.
    """

    __slots__ = (
        "name", "alias", "_field_info", "location", "keys", "annotation", "type_annotation",
        "sequence", "group_model", "form_models", "is_file", "read_bytes", "read_bytes_seq",
        "default", "default_factory", "validate_default", "required", "json_field",
        "_adapter",
    )  # fmt: skip

    def __init__(
        self, name: str, field_info: FieldInfo, type_annotation: Any, annotation: Any
    ) -> None:
        self.name = name
        self.type_annotation = type_annotation
        self.annotation = annotation
        self.json_field = _is_json(annotation)
        self.sequence = typeinfo.is_sequence(type_annotation) and not self.json_field
        self.field_info = field_info
        self._adapter: TypeAdapter[Any] | None = None

    @property
    def field_info(self) -> FieldInfo:
        """The parameter's marker (``Query()``, ``Body()``, ...) with its options."""
        return self._field_info

    @field_info.setter
    def field_info(self, field_info: FieldInfo) -> None:
        # What comes from the marker follows it: FastAPI's ModelField reads its ``field_info``
        # each time, and cadwyn gives a copied field another one (an alias to look it up by).
        self._field_info = field_info
        type_annotation, name = self.type_annotation, self.name
        self.location = _location_of(field_info)
        self.alias: str = field_info.alias or name
        self.keys = _request_keys(self, field_info)
        self.group_model: type[BaseModel] | None = None
        if isinstance(field_info, params.Param):
            self.group_model = typeinfo.model_type(type_annotation)
        self.form_models = _form_models(field_info, type_annotation, self.json_field)
        self.is_file = isinstance(field_info, params.File)
        self.read_bytes = self.is_file and typeinfo.is_bytes(type_annotation)
        self.read_bytes_seq = self.is_file and typeinfo.is_bytes_sequence(type_annotation)
        default = field_info.default
        self.default_factory = field_info.default_factory
        self.required = (default is Undefined or default is ...) and self.default_factory is None
        self.default = Undefined if default is ... else default
        self.validate_default = bool(field_info.validate_default)

    # FastAPI's ModelField spelling, used by code written against it.
    @property
    def type_(self) -> Any:
        return self.type_annotation

    @property
    def mode(self) -> str:
        return "validation"

    @property
    def validation_alias(self) -> str:
        return self.keys[0][0]

    @property
    def adapter(self) -> TypeAdapter[Any]:
        """A ``TypeAdapter`` for this parameter alone (built on first use, at startup)."""
        if self._adapter is None:
            self._adapter = TypeAdapter(self.annotation)
        return self._adapter

    @property
    def _type_adapter(self) -> TypeAdapter[Any]:
        """FastAPI's ``ModelField._type_adapter``: the declared type with its ``FieldInfo``
        (default and schema options included), made on each read (libraries read its core
        schema, cadwyn; never used on the request path)."""
        return field_info_adapter(self.field_info)

    def get_default(self) -> Any:
        """The default value, as a fresh copy."""
        if self.default_factory is not None:
            return self.default_factory()  # type: ignore[call-arg]
        return deepcopy(self.default)

    def __repr__(self) -> str:
        return f"ParamField({self.name!r}, {self.location}, alias={self.alias!r})"


def field_info_adapter(info: FieldInfo) -> TypeAdapter[Any]:
    """A ``TypeAdapter`` of the declared type together with its ``FieldInfo`` (FastAPI's
    field adapter: defaults and schema options included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # field-only metadata (alias) on an Annotated type
        annotated: Any = Annotated[info.annotation, info]
        return TypeAdapter(annotated)


def _location_of(field_info: FieldInfo) -> str:
    if isinstance(field_info, params.Param):
        return field_info.in_.value
    return "body"


def _form_models(info: FieldInfo, type_annotation: Any, json_field: bool) -> list[Any]:
    """The model(s) a form parameter is read into, as FastAPI decides it."""
    if not isinstance(info, params.Form) or getattr(info, "embed", False) or json_field:
        return []
    return typeinfo.form_models(type_annotation)


def _is_json(annotation: Any) -> bool:
    from pydantic import Json

    args = getattr(annotation, "__metadata__", ())
    return any(type(item) is Json or item is Json for item in args) or (
        getattr(annotation, "__origin__", None) is Json
    )


def _request_keys(field: ParamField, info: FieldInfo) -> tuple[tuple[str, str], ...]:
    """(alias reported in errors, key looked up in the request), in preference order."""
    return request_aliases(field.name, info, primary_alias(info, field.name), None, convert=False)


def primary_alias(info: FieldInfo, name: str) -> str:
    """The key a field is validated under: its validation alias, else its alias, else its name."""
    return _validation_alias(info) or info.alias or name


def _validation_alias(info: FieldInfo) -> str | None:
    va = info.validation_alias
    return va if isinstance(va, str) and va else None


def request_aliases(
    name: str, info: FieldInfo, alias: str, config: Any, *, convert: bool
) -> tuple[tuple[str, str], ...]:
    """(validation alias, request key) pairs of one field, in the order they are tried.

    ``AliasChoices`` of plain names are tried in declaration order; a model configured to
    validate by name also accepts the field name. ``convert`` turns underscores of
    unaliased header names into hyphens.
    """
    request = alias.replace("_", "-") if convert and alias == name else alias
    va = info.validation_alias
    if isinstance(info, params.Path) or isinstance(va, AliasPath):
        return ((alias, request),)
    pairs: list[tuple[str, str]] = [(alias, request)]
    if isinstance(va, AliasChoices):
        if not all(isinstance(choice, str) for choice in va.choices):
            return tuple(pairs)
        pairs = [(str(choice), str(choice)) for choice in va.choices]
    config = config or {}
    by_alias = config.get("validate_by_alias") is not False
    by_name = config.get("validate_by_name", config.get("populate_by_name", False))
    if by_alias and not by_name:
        return tuple(pairs)
    by_name_key = name.replace("_", "-") if convert else name
    if not by_alias:
        return ((name, by_name_key),)
    if all(known != name for known, _ in pairs):
        pairs.append((name, by_name_key))
    return tuple(pairs)


class ModelKey:
    """How one field of a parameter model is found in a request mapping (startup only).

    ``lowered`` holds, for header models, the header names (lower case) this field owns
    even when they are not the one selected, so they never come back as extras.
    """

    __slots__ = ("name", "pairs", "sequence", "lowered")

    def __init__(self, name: str, pairs: tuple[tuple[str, str], ...], sequence: bool) -> None:
        self.name = name
        self.pairs = pairs
        self.sequence = sequence
        self.lowered = frozenset(a.lower() for a, key in pairs if a != key)


def model_keys(
    model: type[BaseModel], *, headers: bool = False, convert: bool = True
) -> tuple[ModelKey, ...]:
    """A ``ModelKey`` for each field of ``model``, in declaration order."""
    out = []
    for name, info in model.model_fields.items():
        config = model_field_config(model, info)
        field_convert = headers and getattr(info, "convert_underscores", convert)
        alias = primary_alias(info, name)
        pairs = request_aliases(name, info, alias, config, convert=field_convert)
        sequence = typeinfo.is_sequence(info.annotation) and not _has_json(info)
        out.append(ModelKey(name, pairs, sequence))
    return tuple(out)


def model_field_config(model: type[BaseModel], info: FieldInfo) -> Any:
    """``model``'s config as it applies to one of its fields (aliases, schema).

    Fields typed as a model, dict or dataclass do not take it: None for them.
    """
    annotation = info.annotation
    if typeinfo.is_subclass(annotation, (BaseModel, dict)) or (
        isinstance(annotation, type) and is_dataclass(annotation)
    ):
        return None
    return model.model_config


def _has_json(info: FieldInfo) -> bool:
    from pydantic import Json

    return any(type(item) is Json for item in info.metadata)
