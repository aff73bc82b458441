"""Validators built once per (dependant, location); each request makes one call per location.

Errors come out in FastAPI's shape: ``loc`` starts with the location and the request alias,
``input`` is ``None`` for a missing value, pydantic's ``url`` is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ForwardRef

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from .._starlette import PlainQueryParams
from .fields import ModelKey, ParamField, Undefined, model_keys

Missing: Any = Undefined
_MULTI_LOCATIONS = ("query", "header")


def missing_error(loc: tuple[Any, ...]) -> dict[str, Any]:
    """FastAPI's error for an absent required value."""
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


def prefixed(errors: Sequence[Any], prefix: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Pydantic error dicts with ``prefix`` put in front of each ``loc``."""
    return [{**err, "loc": prefix + tuple(err["loc"])} for err in errors]


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def typed_dict_adapter(name: str, fields: Sequence[ParamField]) -> TypeAdapter[Any]:
    """One adapter validating all given fields at once (keys are parameter names).

    Routes often declare the same parameters; adapters for equal declarations are shared,
    which keeps startup fast for large apps (annotations that cannot be hashed are not).
    """
    shape = {f.name: f.annotation for f in fields}
    try:
        key: Any = (name, tuple(shape.items()))
        found = _ADAPTERS.get(key)
    except TypeError:
        key, found = None, None
    if found is not None:
        return found
    adapter: TypeAdapter[Any] = TypeAdapter(TypedDict(name, shape, total=False))  # type: ignore[operator]
    if key is not None and len(_ADAPTERS) < 4096:
        _ADAPTERS[key] = adapter
    return adapter


def fetch(source: Any, key: str, sequence: bool, multi: bool) -> Any:
    """The raw value under ``key``: all values for a list field of a multi-mapping.

    Absent keys and empty lists are ``Missing``, so that defaults apply during validation.
    """
    value = source.getlist(key) if sequence and multi else source.get(key)
    if value is None or (sequence and len(value) == 0):
        return Missing
    return value


def pick(source: Any, pairs: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """The first (alias, request key) pair present in ``source``, else the first pair."""
    if len(pairs) > 1:
        for pair in pairs:
            if pair[1] in source:
                return pair
    return pairs[0]


def grouped_extras(source: Any, processed: Iterable[str]) -> dict[str, Any]:
    """Every entry of ``source`` not in ``processed``; repeated keys become lists."""
    if hasattr(source, "multi_items"):
        items = source.multi_items()
    elif hasattr(source, "getlist"):  # Headers: items() keeps repeated names
        items = source.items()
    else:
        return {k: source.get(k) for k in source if k not in processed}
    grouped: dict[str, list[Any]] = {}
    for key, value in items:
        if key not in processed:
            grouped.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in grouped.items()}


def ordered_errors(
    fields: Sequence[ParamField],
    aliases: Mapping[str, str],
    missing: Sequence[str],
    invalid: Sequence[Any],
    prefix: tuple[Any, ...],
) -> list[Any]:
    """Missing and invalid values of named fields, in declaration order (error path only).

    ``aliases`` holds the alias a field was found under when it is not its first one.
    """
    result: list[Any] = []
    for field in fields:
        loc = (*prefix, aliases.get(field.name, field.keys[0][0]))
        if field.name in missing:
            result.append(missing_error(loc))
            continue
        for err in invalid:
            if err["loc"] and err["loc"][0] == field.name:
                result.append({**err, "loc": (*loc, *err["loc"][1:])})
    return result


def validate_named(
    adapter: TypeAdapter[Any],
    fields: Sequence[ParamField],
    collected: tuple[dict[str, Any], dict[str, str], list[str]],
    prefix: tuple[Any, ...],
    values: dict[str, Any],
    errors: list[Any],
) -> None:
    """One validation call for ``collected`` = (values by name, aliases used, missing names)."""
    data, aliases, missing = collected
    if not data:  # nothing to validate (FastAPI reports a missing value without validating)
        if missing:
            errors.extend(ordered_errors(fields, aliases, missing, (), prefix))
        return
    try:
        validated = adapter.validator.validate_python(data, from_attributes=True)
    except ValidationError as exc:
        invalid = exc.errors(include_url=False)
        errors.extend(ordered_errors(fields, aliases, missing, invalid, prefix))
        return
    if missing:
        errors.extend(ordered_errors(fields, aliases, missing, (), prefix))
        return
    values.update(validated)


def take(
    field: ParamField, value: Any, collected: tuple[dict[str, Any], Any, list[str]], values: Any
) -> None:
    """Put a found value, or what stands in for an absent one, where it belongs."""
    if value is not Missing:
        collected[0][field.name] = value
    elif field.required:
        collected[2].append(field.name)
    elif field.validate_default:
        collected[0][field.name] = field.get_default()
    else:
        values[field.name] = field.get_default()


def location_validators(
    location: str, source: str, fields: Sequence[ParamField]
) -> list[tuple[str, Any]]:
    """The validators of one location's parameters, as ``(request attribute, validator)``.

    Consecutive plain parameters share one validator; a parameter model gets its own. They
    run in declaration order, so errors come out in FastAPI's order.
    """
    out: list[tuple[str, Any]] = []
    plain: list[ParamField] = []
    for field in (*fields, None):
        if field is not None and (field.group_model is None or field.json_field):
            if not isinstance(field.type_annotation, ForwardRef):
                plain.append(field)
                continue
        if plain and location == "header" and RawHeadersValidator.fits(plain):
            out.append(("scope", RawHeadersValidator(location, plain)))  # no Headers object
        elif plain:
            out.append((source, ParamsValidator(location, plain)))
        plain = []
        if field is not None:
            out.append((source, _alone(location, field)))
    return out


def _alone(location: str, field: ParamField) -> Any:
    """The validator of a parameter validated on its own: a parameter model, or one whose
    annotation names what was not defined (FastAPI validates each parameter alone: the others
    validate, and that one only fails once a request gives it a value)."""
    if isinstance(field.type_annotation, ForwardRef):
        return ParamsValidator(location, [field])
    return ModelParamValidator(field)


class ParamsValidator:
    """Validates the plain (non-model) parameters of one location of one dependant."""

    __slots__ = ("location", "fields", "adapter", "multi", "prefix", "steps")

    def __init__(self, location: str, fields: Sequence[ParamField]) -> None:
        self.location = location
        self.fields = tuple(fields)
        self.adapter = typed_dict_adapter(f"{location}_params", fields)
        self.multi = location in _MULTI_LOCATIONS
        self.prefix = (location,)
        # Per field, fixed here: (field, name, its one request key or None, is a sequence).
        self.steps = tuple(
            (f, f.name, f.keys[0][1] if len(f.keys) == 1 else None, f.sequence) for f in fields
        )

    def run(self, source: Any, values: dict[str, Any], errors: list[Any]) -> None:
        collected: tuple[dict[str, Any], dict[str, str], list[str]] = ({}, {}, [])
        data, multi = collected[0], self.multi
        # A plain dict answers ``get`` directly (no Mapping.get → __getitem__ chain).
        lookup = source._dict if type(source) is PlainQueryParams else source
        for field, name, key, sequence in self.steps:
            if key is None:
                key = collected[1][name] = pick(source, field.keys)[1]
            if sequence:
                take(field, fetch(source, key, True, multi), collected, values)
                continue
            value = lookup.get(key)  # the common case, inlined: one scalar value
            if value is None:
                take(field, Missing, collected, values)
            else:
                data[name] = value
        validate_named(self.adapter, self.fields, collected, self.prefix, values, errors)


class TextHeaders:
    """Request headers as text: ``fields.get(name)`` gives the first value of a lower-case
    ``name`` as a ``str`` (RSGI's header mapping). The ``"headers"`` of the stand-in scope an
    RSGI request is solved with before any ASGI scope exists (``hasten._rsgi.planned``)."""

    __slots__ = ("fields",)

    def __init__(self, fields: Any) -> None:
        self.fields = fields


def _as_latin1(value: str) -> str:
    """The text a header value sent as UTF-8 bytes reads as Latin-1 (``Headers.get``): the
    value itself when it is ASCII, as every value Granian passes is."""
    return value if value.isascii() else value.encode().decode("latin-1")


class RawHeadersValidator(ParamsValidator):
    """Scalar header parameters read straight from the scope's raw headers.

    For headers that each have one name and one value (no lists, no alternative aliases):
    the first header of that name, decoded as Latin-1 — what ``Headers.get`` returns —
    without building a ``Headers`` object. ``run`` takes the scope; a scope whose headers are
    ``TextHeaders`` is read through their ``get`` (``_run_text``), with the same result.
    """

    __slots__ = ("raw_steps", "all_str", "single", "text_steps")

    @staticmethod
    def fits(fields: Sequence[ParamField]) -> bool:
        """Whether every field is one scalar header under one name."""
        return all(len(f.keys) == 1 and not f.sequence for f in fields)

    def __init__(self, location: str, fields: Sequence[ParamField]) -> None:
        super().__init__(location, fields)
        self.raw_steps = tuple((f, f.name, f.keys[0][1].lower().encode("latin-1")) for f in fields)
        # Plain ``str`` parameters validate a ``str`` to itself: no validation call is needed.
        # Decided here: a found header is always a ``str``, and without ``validate_default``
        # no default is put among the values to validate.
        self.all_str = plain_str_fields(self.adapter.core_schema) and not any(
            f.validate_default for f in fields
        )
        #: ``raw_steps`` with each name as text (lower-case): what ``_run_text`` asks for.
        self.text_steps = tuple((f, name, key.decode("latin-1")) for f, name, key in self.raw_steps)
        #: One plain ``str`` header: ``(name, raw key, text key)``, found and stored without
        #: the collection the general case builds (a missing one still goes that way).
        self.single = (fields[0].name, self.raw_steps[0][2], self.text_steps[0][2]) if (
            len(fields) == 1 and self.all_str
        ) else None  # fmt: skip

    def run(self, source: Any, values: dict[str, Any], errors: list[Any]) -> None:
        raw = source["headers"]
        if type(raw) is TextHeaders:
            self._run_text(raw.fields, values, errors)
            return
        single = self.single
        if single is not None:
            key = single[1]
            for header, value in raw:
                if header == key:
                    values[single[0]] = value.decode("latin-1")
                    return
        collected: tuple[dict[str, Any], dict[str, str], list[str]] = ({}, {}, [])
        data = collected[0]
        for field, name, key in self.raw_steps:
            for header, value in raw:
                if header == key:
                    data[name] = value.decode("latin-1")
                    break
            else:
                take(field, Missing, collected, values)
        if self.all_str and not collected[2]:
            values.update(data)
            return
        validate_named(self.adapter, self.fields, collected, self.prefix, values, errors)

    def _run_text(self, fields: Any, values: dict[str, Any], errors: list[Any]) -> None:
        """``run`` for headers given as text (``TextHeaders``): the same values and errors."""
        single = self.single
        if single is not None:
            value = fields.get(single[2])
            if value is not None:
                values[single[0]] = _as_latin1(value)
                return
        collected: tuple[dict[str, Any], dict[str, str], list[str]] = ({}, {}, [])
        data = collected[0]
        for field, name, key in self.text_steps:
            value = fields.get(key)
            if value is None:
                take(field, Missing, collected, values)
            else:
                data[name] = _as_latin1(value)
        if self.all_str and not collected[2]:
            values.update(data)
            return
        validate_named(self.adapter, self.fields, collected, self.prefix, values, errors)


def plain_str_fields(schema: Any) -> bool:
    """Whether a typed-dict schema has only plain ``str`` fields (no constraints, aliases,
    validators or config that could change a ``str``)."""
    if schema.get("type") != "typed-dict":
        return False
    config = schema.get("config") or {}
    if any(key.startswith("str_") or key in ("strict", "coerce_numbers_to_str") for key in config):
        return False
    return all(
        set(field) <= {"type", "schema", "required", "metadata"}
        and field["schema"] == {"type": "str"}
        for field in schema["fields"].values()
    )


class ModelParamValidator:
    """A Pydantic model declared as a group of query/header/cookie parameters."""

    __slots__ = (
        "field", "model", "location", "keys", "adapter", "open_extra", "own", "optional",
        "is_headers", "multi", "rename_locs",
    )  # fmt: skip

    def __init__(self, field: ParamField) -> None:
        model = field.group_model
        if model is None:  # only model parameters get this validator
            raise TypeError(f"{field!r} is not a parameter model")
        self.field = field
        self.model = model
        self.location = field.location
        self.adapter = field.adapter
        self.is_headers = self.location == "header"
        self.multi = self.location in _MULTI_LOCATIONS
        self.open_extra = self.model.model_config.get("extra") in ("allow", "forbid")
        convert = getattr(field.field_info, "convert_underscores", True)
        self.keys: tuple[ModelKey, ...] = model_keys(
            self.model, headers=self.is_headers, convert=convert
        )
        lower = str.lower if self.is_headers else str
        self.own = frozenset(lower(key) for mk in self.keys for _, key in mk.pairs)
        self.optional = field.type_annotation is not self.model
        self.rename_locs = self.model.model_config.get("loc_by_alias", True)

    def run(self, source: Any, values: dict[str, Any], errors: list[Any]) -> None:
        data, renames = self._collect(source)
        if self.optional and not (self.own.intersection(source) or (self.open_extra and data)):
            field = self.field
            if field.required:
                errors.append(missing_error((self.location,)))
                return
            if not field.validate_default:
                values[field.name] = field.get_default()
                return
            data = field.get_default()
        try:
            values[self.field.name] = self.adapter.validate_python(data, from_attributes=True)
        except ValidationError as exc:
            errors.extend(self._map(exc, renames))

    def _collect(self, source: Any) -> tuple[dict[str, Any], dict[str, str]]:
        data: dict[str, Any] = {}
        renames: dict[str, str] = {}
        processed: set[str] = set()
        for mk in self.keys:
            alias, key = pick(source, mk.pairs)
            value = fetch(source, key, mk.sequence, self.multi)
            if value is not Missing:
                data[alias] = value
            if self.is_headers:
                processed.add(key.lower())
                processed.update(mk.lowered)
                if alias != key:
                    renames[mk.name] = key
            else:
                processed.add(key)
        data.update(grouped_extras(source, processed))
        return data, renames

    def _map(self, exc: ValidationError, renames: dict[str, str]) -> list[Any]:
        result = []
        rename = bool(renames) and self.rename_locs
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            if rename and loc and loc[0] in renames:
                loc = (renames[loc[0]], *loc[1:])
            result.append({**err, "loc": (self.location, *loc)})
        return result
