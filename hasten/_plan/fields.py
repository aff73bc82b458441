"""``ParamField``: one declared request parameter, as analysed at startup."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

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
        "name", "alias", "field_info", "location", "keys", "annotation", "type_annotation",
        "sequence", "group_model", "form_models", "is_file", "read_bytes", "read_bytes_seq",
        "default", "default_factory", "validate_default", "required", "json_field",
        "_adapter", "header_aliases",
    )  # fmt: skip

    def __init__(
        self, name: str, field_info: FieldInfo, type_annotation: Any, annotation: Any
    ) -> None:
        self.name = name
        self.field_info = field_info
        self.type_annotation = type_annotation
        self.annotation = annotation
        self.location = _location_of(field_info)
        self.alias: str = field_info.alias or name
        self.keys = _request_keys(self, field_info)
        self.sequence = typeinfo.is_sequence(type_annotation) and not _is_json(annotation)
        self.json_field = _is_json(annotation)
        self.group_model: type[BaseModel] | None = None
        if isinstance(field_info, params.Param):
            self.group_model = typeinfo.model_type(type_annotation)
        self.form_models = (
            typeinfo.form_models(type_annotation) if isinstance(field_info, params.Form) else []
        )
        self.is_file = isinstance(field_info, params.File)
        self.read_bytes = self.is_file and typeinfo.is_bytes(type_annotation)
        self.read_bytes_seq = self.is_file and typeinfo.is_bytes_sequence(type_annotation)
        default = field_info.default
        self.default_factory = field_info.default_factory
        self.required = (default is Undefined or default is ...) and self.default_factory is None
        self.default = Undefined if default is ... else default
        self.validate_default = bool(field_info.validate_default)
        self._adapter: TypeAdapter[Any] | None = None
        self.header_aliases: dict[str, str] = {}

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

    def get_default(self) -> Any:
        """The default value, as a fresh copy."""
        if self.default_factory is not None:
            return self.default_factory()  # type: ignore[call-arg]
        return deepcopy(self.default)

    def __repr__(self) -> str:
        return f"ParamField({self.name!r}, {self.location}, alias={self.alias!r})"


def _location_of(field_info: FieldInfo) -> str:
    if isinstance(field_info, params.Param):
        return field_info.in_.value
    return "body"


def _is_json(annotation: Any) -> bool:
    from pydantic import Json

    args = getattr(annotation, "__metadata__", ())
    return any(type(item) is Json or item is Json for item in args) or (
        getattr(annotation, "__origin__", None) is Json
    )


def _request_keys(field: ParamField, info: FieldInfo) -> tuple[tuple[str, str], ...]:
    """(alias reported in errors, key looked up in the request), in preference order."""
    va = info.validation_alias
    primary = va if isinstance(va, str) else field.alias
    if isinstance(info, params.Path) or isinstance(va, AliasPath):
        return ((primary, primary),)
    if isinstance(va, AliasChoices) and all(isinstance(c, str) for c in va.choices):
        return tuple((str(c), str(c)) for c in va.choices)
    return ((primary, primary),)
