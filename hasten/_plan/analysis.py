"""Signature analysis: an endpoint or dependency → a ``Dependant`` (startup only)."""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from copy import copy
from types import CodeType, FunctionType
from typing import Annotated, Any, ForwardRef, Literal, get_args, get_origin

from pydantic import AliasChoices, PydanticSchemaGenerationError, TypeAdapter
from pydantic.fields import FieldInfo
from starlette.background import BackgroundTasks as StarletteBackgroundTasks
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from typing_extensions import TypeAliasType

from .. import params
from ..exceptions import (
    ConflictingDefaultError,
    DeclarationError,
    DependencyScopeError,
    HastenError,
    InvalidDeclarationError,
    InvalidParameterTypeError,
    PydanticV1NotSupportedError,
)
from . import typeinfo
from .body import union_form_annotation
from .dependant import Dependant
from .fields import ParamField, Undefined

_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_SPECIAL_ATTRS = (
    (Request, "request_param_name"),
    (WebSocket, "websocket_param_name"),
    (HTTPConnection, "http_connection_param_name"),
    (Response, "response_param_name"),
    (StarletteBackgroundTasks, "background_tasks_param_name"),
)


@contextmanager
def declaring(methods: Collection[str], path: str, endpoint: Any) -> Iterator[None]:
    """Around a route's analysis: a ``DeclarationError`` raised inside names the route
    (``GET /items/{id}``) and puts ``endpoint`` first in its chain of functions."""
    try:
        yield
    except DeclarationError as exc:
        exc.at_route(methods, path, endpoint)
        raise


def path_param_names(path: str) -> set[str]:
    """The ``{name}`` placeholders of a route path."""
    return set(_PATH_PARAM.findall(path))


def _eval(annotation: Any, globalns: dict[str, Any]) -> Any:
    """A string annotation evaluated in ``globalns``; one naming what is not there (imported
    only under ``TYPE_CHECKING``) stays a ``ForwardRef``, as FastAPI leaves it."""
    if isinstance(annotation, str):
        ref = ForwardRef(annotation)
        try:
            annotation = _evaluate(ref, globalns)
        except NameError:
            return ref
        if annotation is type(None):
            return None
    return annotation


def _evaluate(ref: ForwardRef, globalns: dict[str, Any]) -> Any:
    try:  # 3.12+ take type_params (and 3.13 warns when it is left out)
        return ref._evaluate(globalns, globalns, type_params=(), recursive_guard=frozenset())  # type: ignore[call-arg]
    except TypeError:  # Python 3.11: no type_params parameter
        return ref._evaluate(globalns, globalns, recursive_guard=frozenset())  # type: ignore[call-arg]


def _signature(call: Callable[..., Any]) -> inspect.Signature:
    # Read afresh each time (startup only): a class-based-view helper may rewrite
    # ``__signature__`` or ``__annotations__`` between two routes built from one function.
    try:
        return inspect.signature(call, eval_str=True)
    except NameError:
        return inspect.signature(call)


# Attributes by which a function tells ``inspect.signature`` to look elsewhere.
_SIGNATURE_HINTS = frozenset(
    {"__signature__", "__wrapped__", "_partialmethod", "__partialmethod__"}
)


def _plain_function(call: Any) -> bool:
    """A function ``inspect.signature`` reads from its own code and ``__annotations__``: no
    ``__signature__``, ``__wrapped__`` chain or partial method, no type parameters."""
    return (
        isinstance(call, FunctionType)
        and _SIGNATURE_HINTS.isdisjoint(call.__dict__)
        and not getattr(call, "__type_params__", ())
    )


# Compiled string annotations, by their text. Large apps repeat the same annotations on many
# endpoints; ``eval`` of a string compiles it each time. A code object is immutable, and each
# evaluation still runs it afresh in the function's globals (new markers every time).
_CODE: dict[str, CodeType] = {}
_CODE_MAX = 4096
# Python 3.13 evaluates string annotations with an empty dict as locals (3.11/3.12: none).
_FRESH_LOCALS = sys.version_info >= (3, 13)


def _eval_text(text: str, globalns: dict[str, Any], localns: dict[str, Any] | None) -> Any:
    """``eval(text, globalns, localns)``, from a code object compiled once per text."""
    code = _CODE.get(text) if type(text) is str else None
    if code is None:
        try:  # as eval() compiles a string: leading blanks dropped, no inherited flags
            code = compile(text.lstrip(" \t"), "<string>", "eval", dont_inherit=True)
        except Exception:  # raise exactly what eval() raises for it
            return eval(text, globalns, localns)
        if type(text) is str:
            if len(_CODE) >= _CODE_MAX:
                _CODE.clear()
            _CODE[text] = code
    return eval(code, globalns, localns)


def _evaluated_annotations(call: FunctionType) -> dict[str, Any]:
    """``call.__annotations__`` with string values evaluated as ``inspect.signature(call,
    eval_str=True)`` evaluates them: in the function's globals, in order."""
    annotations = call.__annotations__
    globalns = call.__globals__
    localns: dict[str, Any] | None = {} if _FRESH_LOCALS else None
    return {
        key: _eval_text(value, globalns, localns) if isinstance(value, str) else value
        for key, value in annotations.items()
    }


def typed_parameters(call: Callable[..., Any]) -> list[inspect.Parameter]:
    """The parameters of ``call`` with string annotations evaluated."""
    globalns = getattr(inspect.unwrap(call), "__globals__", {})
    if _plain_function(call):
        try:
            annotations = _evaluated_annotations(call)  # type: ignore[arg-type]
        except NameError:
            pass  # as below: each annotation evaluated alone, unknown names kept as references
        else:
            empty = inspect.Parameter.empty
            return [
                p.replace(annotation=_eval(annotations.get(p.name, empty), globalns))
                for p in inspect.signature(call).parameters.values()
            ]
    return [
        p.replace(annotation=_eval(p.annotation, globalns))
        for p in _signature(call).parameters.values()
    ]


def typed_return_annotation(call: Callable[..., Any]) -> Any:
    """The evaluated return annotation of ``call``, or None."""
    # Only the return annotation is evaluated: the parameters' were, just before, by
    # ``typed_parameters`` (evaluating all of them twice doubled a route's startup cost).
    if _plain_function(call):  # what its signature would say, without building one
        annotation = call.__annotations__.get("return", inspect.Signature.empty)  # type: ignore[attr-defined]
    else:
        annotation = inspect.signature(call).return_annotation
    if annotation is inspect.Signature.empty:
        return None
    return _eval(annotation, getattr(inspect.unwrap(call), "__globals__", {}))


@dataclasses.dataclass
class _Param:
    type_annotation: Any
    depends: params.Depends | None
    field: ParamField | None


def _merged(marker: FieldInfo, annotation: Any) -> FieldInfo:
    """A copy of ``marker`` carrying every field option found in ``Annotated`` metadata."""
    merged = FieldInfo.from_annotation(annotation)
    info = copy(marker)
    for key, value in merged._attributes_set.items():
        if key != "default":
            setattr(info, key, value)
    info._attributes_set = {**marker._attributes_set, **merged._attributes_set}
    info.metadata = merged.metadata
    return info


def _marker_from_annotated(
    name: str, annotation: Any, args: tuple[Any, ...], value: Any, is_path: bool
) -> Any:
    markers = [a for a in args if isinstance(a, (params.Param, params.Body, params.Depends))]
    if not markers:
        return None
    marker = markers[-1]
    if isinstance(marker, params.Depends):
        return marker
    if marker.default is not Undefined and marker.default is not ...:
        raise InvalidDeclarationError(
            f"`{type(marker).__name__}` default value cannot be set in `Annotated` for"
            f" {name!r}. Set the default value with `=` instead."
        )
    if is_path and value is not inspect.Signature.empty:
        raise InvalidDeclarationError("Path parameters cannot have default values")
    info = _merged(marker, annotation)
    info.default = Undefined if value is inspect.Signature.empty else value
    return info


def _validation_type(type_annotation: Any, info: FieldInfo) -> Any:
    """The declared type plus the marker's constraints, for validation and JSON schema."""
    extra = list(info.metadata)
    if info.discriminator is not None:
        extra.append(FieldInfo(discriminator=info.discriminator))
    # Subscription, not Annotated.__class_getitem__ (gone in Python 3.13, where Annotated
    # became a special form); a tuple subscript spells Annotated[type_annotation, *extra].
    return Annotated[(type_annotation, *extra)] if extra else type_annotation


def _default_marker(name: str, type_annotation: Any, value: Any, is_path: bool) -> FieldInfo:
    default = Undefined if value is inspect.Signature.empty else value
    if is_path:
        return params.Path()
    if typeinfo.is_upload_file(type_annotation) or typeinfo.is_upload_file_sequence(
        type_annotation
    ):
        return params.File(default)
    if not typeinfo.is_scalar(type_annotation):
        return params.Body(default)
    return params.Query(default)


def analyze_param(name: str, annotation: Any, value: Any, path_names: set[str]) -> _Param:
    """Decide what one parameter is: a dependency, a special object or a request field."""
    if isinstance(annotation, TypeAliasType):
        annotation = annotation.__value__
    if annotation is inspect.Signature.empty:
        annotation = Any
    type_annotation, args = annotation, ()
    if get_origin(annotation) is Annotated:
        type_annotation, *rest = get_args(annotation)
        args = tuple(rest)
    is_path = name in path_names
    marker = _marker_from_annotated(name, annotation, args, value, is_path)
    marker = _marker_from_default(name, marker, value)
    if isinstance(marker, params.Depends):
        if marker.dependency is None:
            marker = dataclasses.replace(marker, dependency=type_annotation)
        return _Param(type_annotation, marker, None)
    if marker is None and typeinfo.is_subclass(type_annotation, _special_types()):
        return _Param(type_annotation, None, None)
    if marker is not None and typeinfo.is_subclass(type_annotation, _special_types()):
        raise InvalidDeclarationError(
            f"Cannot specify FastAPI annotation for type {type_annotation!r}"
        )
    if marker is None:
        marker = _default_marker(name, type_annotation, value, is_path)
        if args:
            default = marker.default
            marker = _merged(marker, annotation)
            marker.default = default
    field = _make_field(name, marker, type_annotation, is_path, path_names)
    _check_schema(field, annotation)
    return _Param(type_annotation, None, field)


def _marker_from_default(name: str, marker: Any, value: Any) -> Any:
    if isinstance(value, params.Depends):
        if marker is not None:
            what = "`Depends`" if isinstance(marker, params.Depends) else "a FastAPI annotation"
            raise InvalidDeclarationError(
                f"Cannot specify {what} in `Annotated` and `Depends` as a default value"
                f" together for {name!r}"
                if what != "`Depends`"
                else f"Cannot specify `Depends` in `Annotated` and default value together for {name!r}"
            )
        return value
    if isinstance(value, FieldInfo):
        if marker is not None:
            raise InvalidDeclarationError(
                "Cannot specify FastAPI annotations in `Annotated` and default value"
                f" together for {name!r}"
            )
        if not isinstance(value, (params.Param, params.Body)):
            value = params.Query(value.default)
        return _plain_copy(value)
    return marker


def _plain_copy(info: FieldInfo) -> FieldInfo:
    """A shallow copy of a marker given as a default, made without its class's ``__copy__``
    (FastAPI uses the marker itself: a ``__copy__`` of a subclass must not change it)."""
    cls = type(info)
    copied = cls.__new__(cls)
    for klass in cls.__mro__:
        names = getattr(klass, "__slots__", ())
        for name in (names,) if isinstance(names, str) else names:
            if name not in ("__dict__", "__weakref__") and hasattr(info, name):
                setattr(copied, name, getattr(info, name))
    if hasattr(info, "__dict__"):
        copied.__dict__.update(info.__dict__)
    return copied


def _make_field(
    name: str,
    marker: FieldInfo,
    type_annotation: Any,
    is_path: bool,
    path_names: set[str],
) -> ParamField:
    _settle_default(name, marker, is_path)
    va = marker.validation_alias
    if isinstance(marker, params.Path) and isinstance(va, AliasChoices):
        if all(isinstance(c, str) for c in va.choices):
            chosen = next((c for c in va.choices if c in path_names), None)
            if chosen is not None:
                marker.validation_alias = chosen  # type: ignore[assignment]
    if isinstance(marker, params.Param) and getattr(marker, "in_", None) is None:
        marker.in_ = params.ParamTypes.query  # a bare ``Param()`` reads the query string
    if isinstance(marker, params.Form):
        from .forms import ensure_multipart_is_installed

        ensure_multipart_is_installed()
    if not marker.alias and getattr(marker, "convert_underscores", False):
        marker.alias = name.replace("_", "-")
    elif not marker.alias:
        marker.alias = name
    marker.annotation = type_annotation
    if typeinfo.uses_pydantic_v1(type_annotation):
        raise PydanticV1NotSupportedError(
            "pydantic.v1 models are no longer supported by FastAPI."
            f" Please update the model {type_annotation!r}."
        )
    field = ParamField(name, marker, type_annotation, _validation_type(type_annotation, marker))
    if isinstance(marker, params.Form):
        field.annotation = _with_union_normalizers(type_annotation, field.annotation)
    _check_supported(field, name, is_path)
    return field


def _with_union_normalizers(type_annotation: Any, annotation: Any) -> Any:
    """For a union of form models: each branch re-reads the form data its own way."""
    if len(typeinfo.form_models(type_annotation)) < 2:
        return annotation
    wrapped = union_form_annotation(type_annotation)
    if annotation is type_annotation:
        return wrapped
    return Annotated[(wrapped, *get_args(annotation)[1:])]  # subscription: works on 3.13 too


def _settle_default(name: str, marker: FieldInfo, is_path: bool) -> None:
    """Path parameters are always required; a default and a factory cannot both be given."""
    if is_path and not isinstance(marker, params.Path):
        raise InvalidDeclarationError(
            f"Cannot use `{type(marker).__name__}` for path param {name!r}"
        )
    if is_path:
        marker.default = Undefined
        marker.default_factory = None
    elif marker.default_factory is not None and marker.default is not Undefined:
        # ``Annotated[int, Query(default_factory=f)] = 2``: Pydantic's own error, as in FastAPI.
        raise ConflictingDefaultError("cannot specify both default and default_factory")


def _check_supported(field: ParamField, name: str, is_path: bool) -> None:
    t = field.type_annotation
    if is_path and not typeinfo.is_scalar(t):
        raise InvalidDeclarationError("Path params must be of one of the supported types")
    if isinstance(field.field_info, params.Query) and not is_path:
        ok = typeinfo.is_scalar(t) or typeinfo.is_scalar_sequence(t)
        if not (ok or typeinfo.model_type(t) is not None):
            raise InvalidDeclarationError(
                f"Query parameter {name!r} must be one of the supported types"
            )


_INVALID_TYPE = (
    "Invalid args for response field! Hint: check that {} is a valid Pydantic field type."
    " If you are using a return type annotation that is not a valid Pydantic field"
    " (e.g. Union[Response, dict, None]) you can disable generating the response model from"
    " the type annotation with the path operation decorator parameter response_model=None."
    " Read more: https://fastapi.tiangolo.com/tutorial/response-model/"
)


def _check_schema(field: ParamField, declared: Any) -> None:
    """Reject a type Pydantic cannot validate (a plain class) now, naming the parameter.

    Types made only of well-known parts need no check; for the others the field's own
    adapter is built here (and kept) instead of failing later without context.
    """
    if not typeinfo.needs_schema_check(field.annotation):
        return
    try:
        field._adapter = TypeAdapter(field.annotation)
    except PydanticSchemaGenerationError as exc:
        raise InvalidParameterTypeError(_INVALID_TYPE.format(declared)) from exc
    except Exception:  # anything else is left to the engine, as before this check
        return


def _special_types() -> tuple[type, ...]:
    global _SPECIAL_TYPES
    if _SPECIAL_TYPES is None:  # imported on first use (the security package imports routing)
        from ..security.oauth2 import SecurityScopes

        _SPECIAL_TYPES = (*(cls for cls, _ in _SPECIAL_ATTRS), SecurityScopes)
    return _SPECIAL_TYPES


_SPECIAL_TYPES: tuple[type, ...] | None = None


def _is_generator(call: Any) -> bool:
    from .calls import call_kind

    return call_kind(call) >= 2


def get_dependant(
    *,
    call: Callable[..., Any],
    path: str,
    name: str | None = None,
    use_cache: bool = True,
    scope: Literal["function", "request", "app"] | None = None,
    own_oauth_scopes: list[str] | None = None,
    parent_oauth_scopes: list[str] | None = None,
    concurrency: Any = None,
) -> Dependant:
    """Analyse ``call`` (and, recursively, its dependencies) for the route at ``path``.

    ``name`` is the parameter the result is passed to (None for an endpoint); ``use_cache`` and
    ``scope`` come from its ``Depends``; the OAuth scopes are its own ``Security`` scopes and
    those of the dependencies above it; ``concurrency`` says how a plain ``def`` is run.
    """
    dependant = Dependant(call=call, path=path, name=name, use_cache=use_cache, scope=scope)
    dependant.own_oauth_scopes = own_oauth_scopes
    dependant.parent_oauth_scopes = parent_oauth_scopes
    dependant.concurrency = concurrency
    path_names = path_param_names(path)
    try:
        parameters = typed_parameters(call)
    except (ValueError, TypeError) as exc:
        raise HastenError(f"Cannot read the signature of {call!r} for {path!r}: {exc}") from exc
    for param in parameters:
        try:
            details = analyze_param(param.name, param.annotation, param.default, path_names)
            if details.depends is not None:
                sub = _sub_dependant(dependant, param.name, details.depends)
        except DeclarationError as exc:  # name the route, the function and the parameter
            exc.in_call(call, path=path, param=param.name)
            raise
        if details.depends is not None:
            dependant.dependencies.append(sub)
        elif details.field is None:
            _add_special(dependant, param.name, details.type_annotation)
        elif details.field.location == "body":
            dependant.body_params.append(details.field)
        else:
            getattr(dependant, f"{details.field.location}_params").append(details.field)
    if scope == "app":
        _check_app_scoped(dependant)
    return dependant


def _check_app_scoped(dependant: Dependant) -> None:
    """An app-scoped factory runs once per app: refuse request data and per-request inputs."""
    fields = [
        *dependant.path_params, *dependant.query_params, *dependant.header_params,
        *dependant.cookie_params, *dependant.body_params,
    ]  # fmt: skip
    specials = [getattr(dependant, attr) for _, attr in _SPECIAL_ATTRS]
    specials.append(dependant.security_scopes_param_name)
    what = next((f"the request parameter {f.name!r}" for f in fields), None)
    what = what or next((f"the request object parameter {n!r}" for n in specials if n), None)
    for sub in dependant.dependencies:
        if what is None and sub.scope != "app":
            what = (
                f"the dependency {sub.name!r} of scope {sub.scope or 'request'!r}"
                ' (declare it with Depends(..., scope="app"))'
            )
    if what is not None:
        name = getattr(dependant.call, "__name__", repr(dependant.call))
        exc = InvalidDeclarationError(
            f'The app-scoped dependency "{name}" cannot use {what}: it is created once'
            " per application, not per request."
        )
        exc.in_call(dependant.call)
        raise exc


def _sub_dependant(parent: Dependant, name: str, depends: params.Depends) -> Dependant:
    if (
        depends.scope == "function"
        and _is_generator(parent.call)
        and (parent.scope or "request") == "request"
    ):
        call_name = getattr(parent.call, "__name__", "<unnamed_callable>")
        raise DependencyScopeError(
            f'The dependency "{call_name}" has a scope of "request", it cannot depend on'
            ' dependencies with scope "function".'
        )
    own = list(depends.scopes or []) if isinstance(depends, params.Security) else []
    if depends.dependency is None:  # analyze_param fills it in from the annotation
        raise InvalidDeclarationError("A dependency must have a callable dependency")
    return get_dependant(
        path=parent.path or "",
        call=depends.dependency,
        name=name,
        own_oauth_scopes=own,
        parent_oauth_scopes=parent.oauth_scopes,
        use_cache=depends.use_cache,
        scope=depends.scope,
        concurrency=depends._concurrency,
    )


def _add_special(dependant: Dependant, name: str, type_annotation: Any) -> None:
    for cls, attr in _SPECIAL_ATTRS:
        if typeinfo.is_subclass(type_annotation, cls):
            setattr(dependant, attr, name)
            return
    dependant.security_scopes_param_name = name


def with_route_dependencies(
    dependant: Any, dependencies: Sequence[params.Depends], path: str
) -> Any:
    """``dependant`` with the route's ``dependencies=[...]`` first, as parameter-less
    sub-dependencies (the order FastAPI solves them in).

    As in FastAPI 0.165, they are cached whatever their ``use_cache``: FastAPI builds them
    with ``get_parameterless_sub_dependant``, which does not pass it on."""
    for depends in reversed(dependencies):
        if not callable(depends.dependency):
            raise InvalidDeclarationError(
                "A parameter-less dependency must have a callable dependency"
            )
        scopes = list(depends.scopes or []) if isinstance(depends, params.Security) else []
        dependant.dependencies.insert(
            0,
            get_dependant(
                path=path,
                call=depends.dependency,
                own_oauth_scopes=scopes,
                scope=depends.scope,
                concurrency=depends._concurrency,
            ),
        )
    return dependant
