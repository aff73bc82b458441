"""Parameters per location and type answer as FastAPI documents, on generated requests.

For each location (path, query, header, cookie) and type (int, a constrained int, float, bool,
str, list[int], list[str], an Enum, datetime, UUID, ``int | None``), an endpoint declares the
parameter (plus a second, required ``int`` in the same location, so shared validation and error
order are exercised) and echoes ``repr`` of what it received. Generated raw inputs (valid
spellings of the type, near misses and arbitrary text; absent, repeated) are sent as raw ASGI
requests. The reference is computed the way FastAPI 0.165 documents and implements it: the raw
value read from Starlette's own ``QueryParams``/``Headers``/cookie parser/path match (last
value for a scalar, all values for a list, absent or empty list -> missing/default), validated
with Pydantic's ``TypeAdapter(Annotated[type, FieldInfo])`` in Python (lax) mode; errors carry
``loc = (location, alias, *pydantic_loc)`` without URLs, in declaration order, and the 422 body
is ``{"detail": jsonable_encoder(errors)}``. Hasten's status and body must equal it exactly.
"""

import datetime as dt
import enum
import functools
import json
import uuid
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_support import bounded, call
from pydantic import Field, TypeAdapter, ValidationError
from starlette.datastructures import Headers, QueryParams
from starlette.requests import cookie_parser

from hasten import Cookie, Hasten, Header, Path, Query
from hasten.encoders import jsonable_encoder


class Color(str, enum.Enum):
    red = "red"
    green = "green"
    blue = "Blue"


class Level(enum.IntEnum):
    low = 1
    high = 10


_INT_TEXT = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.integers(-1000, 1000).map(lambda i: f" {i} "),
    st.integers(0, 100).map(lambda i: f"{i}.0"),
    st.integers(0, 100).map(lambda i: f"+{i}"),
    st.sampled_from(["1_000", "0x10", "1e3", "", "-", "١٢", "007", "1.5"]),
)
_FLOAT_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["inf", "-inf", "nan", "1e400", "1e-400", ".5", "5.", "1,5", "", "Infinity"]),
    _INT_TEXT,
)
_BOOL_TEXT = st.sampled_from(
    ["true", "false", "True", "FALSE", "1", "0", "yes", "no", "on", "off", "y", "n", "t", "f"]
    + ["", "2", "truee", " true", "none", "null", "1.0", "0.0"]
)
_DATETIME_TEXT = st.one_of(
    st.datetimes(min_value=dt.datetime(1, 1, 1), timezones=st.sampled_from([None, dt.UTC])).map(
        lambda d: d.isoformat()
    ),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    st.dates().map(lambda d: d.isoformat()),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["2024-02-30T00:00:00", "2024-01-01T25:00", "now", "", "2024-01-01Z"]),
)
_UUID_TEXT = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: str(u)[:-1]),
)
_ENUM_TEXT = st.sampled_from(["red", "green", "Blue", "blue", "RED", "", "1", "10", "2"])
_ANY_TEXT = st.text(st.characters(min_codepoint=1, max_codepoint=0x2FF), max_size=12)


def _one(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(strategy, _ANY_TEXT)


# name -> (annotation (without the location marker), FieldInfo kwargs, raw text strategy,
#          is a list, default (... = required))
TYPES: dict[str, tuple[Any, dict[str, Any], st.SearchStrategy[str], bool, Any]] = {
    "int": (int, {}, _one(_INT_TEXT), False, ...),
    "int 0..1000": (int, {"ge": 0, "le": 1000}, _one(_INT_TEXT), False, ...),
    "float": (float, {}, _one(_FLOAT_TEXT), False, ...),
    "bool": (bool, {}, _one(_BOOL_TEXT), False, ...),
    "str": (str, {}, _ANY_TEXT, False, ...),
    "str max 5": (str, {"max_length": 5, "pattern": "^[a-z]*$"}, _ANY_TEXT, False, ...),
    "list[int]": (list[int], {}, _one(_INT_TEXT), True, ...),
    "list[str] default": (list[str], {}, _ANY_TEXT, True, ["d"]),
    "enum": (Color, {}, _one(_ENUM_TEXT), False, ...),
    "int enum": (Level, {}, _one(_ENUM_TEXT), False, ...),
    "datetime": (dt.datetime, {}, _one(_DATETIME_TEXT), False, ...),
    "uuid": (uuid.UUID, {}, _one(_UUID_TEXT), False, ...),
    "int | None": (int | None, {}, _one(_INT_TEXT), False, None),
    "float default": (float, {}, _one(_FLOAT_TEXT), False, 1.5),
}
MARKERS = {"path": Path, "query": Query, "header": Header, "cookie": Cookie}
CASES = [
    (location, name)
    for location in MARKERS
    for name, (_, _, _, is_list, default) in TYPES.items()
    if not (location == "path" and (is_list or default is not ...))
    and not (location == "cookie" and is_list)
]


@functools.cache
def _app(location: str, name: str) -> Hasten:
    annotation, options, _, _, default = TYPES[name]
    marker = MARKERS[location]
    app = Hasten(openapi_url=None)
    value_marker = marker(**options) if default is ... else marker(default, **options)
    if default is ...:

        async def endpoint(
            value: Annotated[annotation, value_marker], other: Annotated[int, marker()]
        ):  # type: ignore[valid-type]
            return {"value": repr(value), "other": other}
    else:

        async def endpoint(  # type: ignore[misc]
            other: Annotated[int, marker()],
            value: Annotated[annotation, marker(**options)] = default,  # type: ignore[valid-type]
        ):
            return {"value": repr(value), "other": other}

    path = "/p/{value}/{other}" if location == "path" else "/p"
    app.get(path)(endpoint)
    return app


@functools.cache
def _adapter(annotation: Any, options: tuple[tuple[str, Any], ...]) -> TypeAdapter[Any]:
    return TypeAdapter(Annotated[annotation, Field(**dict(options))])


def _field_errors(location: str, alias: str, raw: Any, name: str) -> tuple[Any, list[Any]]:
    """FastAPI's value and errors for one parameter: ``raw`` is None when absent."""
    annotation, options, _, _, default = TYPES[name] if name != "other" else (int, {}, 0, 0, ...)
    loc = (location, alias)
    if raw is None:
        if default is ...:
            return None, [{"type": "missing", "loc": loc, "msg": "Field required", "input": None}]
        return default, []
    try:
        return _adapter(annotation, tuple(sorted(options.items()))).validate_python(raw), []
    except ValidationError as exc:
        return None, [{**e, "loc": loc + tuple(e["loc"])} for e in exc.errors(include_url=False)]


def _reference(location: str, name: str, received: Any) -> tuple[int, Any]:
    """The status and JSON body FastAPI answers, from the request's raw parameter mapping."""
    is_list = TYPES[name][3] and location in ("query", "header")
    values: dict[str, Any] = {}
    errors: list[Any] = []
    order = ["value", "other"] if TYPES[name][4] is ... else ["other", "value"]
    for field in order:
        this_list = is_list and field == "value"
        if isinstance(received, (QueryParams, Headers)) and this_list:
            raw: Any = received.getlist(field) or None
        else:
            raw = received.get(field)
        value, field_errors = _field_errors(
            location, field, raw, name if field == "value" else field
        )
        errors.extend(field_errors)
        values[field] = value
    if errors:
        return 422, json.loads(json.dumps(jsonable_encoder({"detail": errors})))
    return 200, {"value": repr(values["value"]), "other": values["other"]}


def _check(location: str, name: str, status: int, body: bytes, received: Any) -> None:
    expected_status, expected_body = _reference(location, name, received)
    assert status == expected_status, (received, body)
    assert json.loads(body) == expected_body, received


_OTHER = st.one_of(st.none(), st.integers(-5, 5).map(str), st.sampled_from(["x", "", "1.5"]))


def _raws(name: str) -> st.SearchStrategy[list[str]]:
    return st.lists(TYPES[name][2], max_size=3)


@pytest.mark.parametrize(("location", "name"), [c for c in CASES if c[0] == "query"])
def test_query(location: str, name: str) -> None:
    @bounded(60)
    @given(raws=_raws(name), other=_OTHER, escape=st.booleans())
    def run(raws: list[str], other: str | None, escape: bool) -> None:
        pairs = [("value", r) for r in raws] + ([("other", other)] if other is not None else [])
        if escape:
            query = urlencode(pairs, quote_via=quote)
        else:  # no escapes where none are needed (the unescaped fast path), else quoted
            query = "&".join(f"{k}={v if v.isalnum() else quote(v, safe='')}" for k, v in pairs)
        raw_query = query.encode()  # non-ASCII unescaped too: servers pass such bytes on
        status, _, body = call(_app(location, name), "/p", query_string=raw_query)
        # Starlette reads the query string as latin-1, as request.query_params does.
        _check(location, name, status, body, QueryParams(raw_query.decode("latin-1")))

    run()


def _latin1(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return strategy.filter(lambda s: all(ord(c) < 256 for c in s))


@pytest.mark.parametrize(("location", "name"), [c for c in CASES if c[0] == "header"])
def test_header(location: str, name: str) -> None:
    @bounded(60)
    @given(raws=st.lists(_latin1(TYPES[name][2]), max_size=3), other=_OTHER)
    def run(raws: list[str], other: str | None) -> None:
        headers = [(b"value", r.encode("latin-1")) for r in raws]  # ASGI: lower-case names
        if other is not None:
            headers.append((b"other", other.encode()))
        status, _, body = call(_app(location, name), "/p", headers=headers)
        _check(location, name, status, body, Headers(raw=headers))

    run()


_COOKIE_SAFE = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=';,"\\')


@pytest.mark.parametrize(("location", "name"), [c for c in CASES if c[0] == "cookie"])
def test_cookie(location: str, name: str) -> None:
    @bounded(60)
    @given(
        raw=st.one_of(st.none(), TYPES[name][2].filter(lambda s: all(c in _SAFE for c in s))),
        junk=st.text(_COOKIE_SAFE, max_size=6),
        other=_OTHER,
    )
    def run(raw: str | None, junk: str, other: str | None) -> None:
        parts = [f"junk={junk}"]
        if raw is not None:
            parts.append(f"value={raw}")
        if other is not None:
            parts.append(f"other={other}")
        cookie = "; ".join(parts)
        status, _, body = call(
            _app(location, name), "/p", headers=[(b"cookie", cookie.encode("latin-1"))]
        )
        _check(location, name, status, body, cookie_parser(cookie))

    run()


_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F)) - set(';,"\\')


@pytest.mark.parametrize(("location", "name"), [c for c in CASES if c[0] == "path"])
def test_path(location: str, name: str) -> None:
    @bounded(60)
    @given(raw=TYPES[name][2], other=st.integers(-5, 5).map(str) | st.just("x"))
    def run(raw: str, other: str) -> None:
        path = f"/p/{raw}/{other}"
        raw_path = f"/p/{quote(raw, safe='')}/{other}".encode()
        status, _, body = call(_app(location, name), path, raw_path=raw_path)
        if raw == "" or "/" in raw:
            assert status == 404, (raw, body)  # no route matches: Starlette's answer
            return
        _check(location, name, status, body, {"value": raw, "other": other})

    run()
