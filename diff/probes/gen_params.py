"""Generated probes: one parameter of every location x type/constraint, many requests each.

Id ``gen_params.<location>_<variant>``. Each probe is one app whose source is generated here
(``--verbose`` prints it) and whose requests are: the parameter missing, a fixed list of valid,
boundary and malformed values for the variant, and a few more drawn from a ``random.Random``
seeded with the probe id (CRC32), so the set is identical on every run and machine.

Locations: path, query, header, cookie, body (``Body(embed=True)``), body_raw (one non-embedded
``Body()`` value), form. Combinations FastAPI refuses at declaration (``list[int]`` in a path)
stay in: the declaration error is compared too.
"""

import random
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from probelib import R, get, post, probe_source

LOCATIONS = ["path", "query", "header", "cookie", "body", "body_raw", "form"]

HEADER_NAME = "x-v"


@dataclass
class Variant:
    name: str
    annotation: str
    marker_kwargs: str = ""
    default: str | None = None  # source of a default value (None: required)
    text: list[Any] = field(default_factory=list)  # samples for path/query/header/cookie/form
    json: list[Any] = field(default_factory=list)  # samples for the JSON body
    fuzz: str = ""  # name of the seeded generator of extra samples
    alias: str | None = None
    multi: bool = False  # list type: text samples are lists


U1 = "4fa85f64-5717-4562-b3fc-2c963f66afa6"

VARIANTS = [
    Variant(
        "int",
        "int",
        text=["5", "0", "-3", "1.5", "abc", "99999999999999999999", " 7", "1_000", "+4", "2.0"],
        json=[5, 0, -3, 1.5, 2.0, "7", "abc", True, None, 10**20, [1]],
        fuzz="int",
    ),
    Variant(
        "float",
        "float",
        text=["1.5", "1e3", "nan", "inf", "-0", "abc", ".5", "1_0"],
        json=[1.5, 1, "2.5", "nan", "abc", True, None, 1e308],
        fuzz="float",
    ),
    Variant(
        "bool",
        "bool",
        text=["true", "1", "yes", "off", "no", "2", "maybe", "TRUE", "on", "f", ""],
        json=[True, 0, 1, "yes", "2", 2, None, 1.0, "off"],
        fuzz="bool",
    ),
    Variant(
        "str",
        "str",
        text=["hello", "", "a b", "%2F", "123", "ünï"],
        json=["hi", 1, 1.5, True, None, ["x"], ""],
        fuzz="str",
    ),
    Variant(
        "decimal",
        "Decimal",
        text=["1.10", "1e2", "NaN", "abc", "0.1", "-0", "Infinity"],
        json=[0.1, "1.10", 1, "abc", 1e-7, None, 1.10],
        fuzz="decimal",
    ),
    Variant(
        "uuid",
        "UUID",
        text=[
            U1,
            U1.upper(),
            U1.replace("-", ""),
            "x",
            "00000000-0000-0000-0000-000000000000",
            "urn:uuid:" + U1,
        ],
        json=[U1, U1.replace("-", ""), 5, None],
        fuzz="uuid",
    ),
    Variant(
        "date",
        "date",
        text=["2024-02-29", "2023-02-29", "1700000000", "2024-1-5", "x", "20240101"],
        json=["2024-02-29", 1700000000, "2024-02-29T00:00:00", None],
        fuzz="date",
    ),
    Variant(
        "datetime",
        "datetime",
        text=[
            "2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00+02:00",
            "2024-01-01",
            "1700000000",
            "bad",
            "2024-01-01 10:00",
        ],
        json=["2024-01-01T10:00:00Z", 1700000000, 1.7e9, "2024-01-01", None],
        fuzz="datetime",
    ),
    Variant(
        "enum",
        "Color",
        text=["red", "RED", "blue", "green", "1"],
        json=["red", "green", 1, None],
        fuzz="color",
    ),
    Variant("intenum", "Level", text=["1", "2", "5", "x", "01"], json=[1, "1", 5, 2.0], fuzz="int"),
    Variant(
        "literal",
        'Literal["a", "b", 3]',
        text=["a", "b", "3", "c", "A"],
        json=["a", 3, "3", "c", None],
        fuzz="literal",
    ),
    Variant(
        "list_int",
        "list[int]",
        text=[["1", "2"], ["1", "x"], [], ["3"]],
        json=[[1, 2], [1, "x"], [], 3, None],
        fuzz="list_int",
        multi=True,
    ),
    Variant(
        "set_int",
        "set[int]",
        text=[["1", "2", "1"], ["3", "x"], []],
        json=[[1, 2, 1], [3, "x"], []],
        fuzz="list_int",
        multi=True,
    ),
    Variant(
        "tuple_int_str",
        "tuple[int, str]",
        text=[["1", "a"], ["1"], ["x", "y"], ["1", "a", "b"]],
        json=[[1, "a"], [1], ["x", "y"], [1, "a", "b"]],
        fuzz="list_int",
        multi=True,
    ),
    Variant(
        "optional_int",
        "Optional[int]",
        default="None",
        text=["", "3", "x", "None"],
        json=[3, None, "x"],
        fuzz="int",
    ),
    Variant(
        "default_int", "int", default="5", text=["3", "x", ""], json=[3, "x", None], fuzz="int"
    ),
    Variant("bytes", "bytes", text=["abc", "", "é"], json=["abc", 1, None], fuzz="str"),
    # constrained
    Variant(
        "int_ge_le",
        "int",
        "ge=1, le=10",
        text=["0", "1", "10", "11", "5", "-1"],
        json=[0, 1, 10, 11, 10.0],
        fuzz="int_small",
    ),
    Variant(
        "int_gt_lt",
        "int",
        "gt=0, lt=5",
        text=["0", "1", "4", "5"],
        json=[0, 4, 5],
        fuzz="int_small",
    ),
    Variant(
        "int_multiple_of",
        "int",
        "multiple_of=3",
        text=["0", "3", "4", "-6"],
        json=[3, 4, 6.0],
        fuzz="int_small",
    ),
    Variant(
        "float_gt_le",
        "float",
        "gt=0.5, le=2.5",
        text=["0.5", "0.51", "2.5", "2.6", "nan", "inf"],
        json=[0.5, 0.51, 2.5, 2.6, 1],
        fuzz="float_small",
    ),
    Variant(
        "float_multiple_of",
        "float",
        "multiple_of=0.5",
        text=["1.5", "1.2", "0"],
        json=[1.5, 1.2, 2],
        fuzz="float_small",
    ),
    Variant(
        "float_no_inf_nan",
        "float",
        "allow_inf_nan=False",
        text=["nan", "inf", "1"],
        json=[1.0, "nan", "inf"],
        fuzz="float",
    ),
    Variant(
        "str_len",
        "str",
        "min_length=2, max_length=4",
        text=["a", "ab", "abcd", "abcde", "", " ab "],
        json=["a", "ab", "abcde", 12],
        fuzz="str",
    ),
    Variant(
        "str_pattern",
        "str",
        'pattern="^[a-z]+$"',
        text=["abc", "ABC", "a1", "", "ab\n"],
        json=["abc", "ABC", "a-b"],
        fuzz="str",
    ),
    Variant(
        "decimal_digits",
        "Decimal",
        "max_digits=4, decimal_places=2",
        text=["12.34", "123.4", "1.234", "0.001", "99.99", "1e1", "12.340"],
        json=[12.34, "123.4", 1.234, 99.99],
        fuzz="decimal",
    ),
    Variant(
        "decimal_ge",
        "Decimal",
        "ge=0",
        text=["0", "-0.01", "1"],
        json=[0, -0.01, "1"],
        fuzz="decimal",
    ),
    Variant(
        "list_len",
        "list[int]",
        "min_length=1, max_length=2",
        text=[["1"], [], ["1", "2", "3"]],
        json=[[1], [], [1, 2, 3]],
        fuzz="list_int",
        multi=True,
    ),
    Variant("alias", "str", 'alias="item-v"', text=["x"], json=["x"], fuzz="str", alias="item-v"),
    Variant(
        "meta",
        "int",
        'title="T", description="the v", examples=[1], deprecated=True',
        default="7",
        text=["1", "x"],
        json=[1, "x"],
        fuzz="int",
    ),
]


# -- seeded extra samples ----------------------------------------------------------------------

_ALPHABET = "abcXYZ019 -_.~é/%+&=?#"


def _datetime(rng: random.Random) -> str:
    tz = rng.choice(["", "Z", "+05:30", "-01:00"])
    return (
        f"{rng.randint(1970, 2100)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        f"T{rng.randint(0, 24):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 60):02d}{tz}"
    )


_FUZZ: dict[str, Callable[[random.Random], Any]] = {
    "int": lambda r: str(r.choice([r.randint(-10, 10), r.randint(-(10**12), 10**12)])),
    "int_small": lambda r: str(r.randint(-2, 12)),
    "float": lambda r: r.choice([repr(r.uniform(-1e3, 1e3)), f"{r.uniform(-5, 5):.2e}"]),
    "float_small": lambda r: f"{r.uniform(0, 3):.{r.randint(0, 3)}f}",
    "bool": lambda r: r.choice(["t", "y", "n", "0", "False", "oN", "1.0"]),
    "str": lambda r: "".join(r.choice(_ALPHABET) for _ in range(r.randint(0, 6))),
    "decimal": lambda r: f"{r.uniform(-100, 100):.{r.randint(0, 4)}f}",
    "uuid": lambda r: str(uuid.UUID(int=r.getrandbits(128))),
    "date": lambda r: f"{r.randint(1, 9999):04d}-{r.randint(1, 13):02d}-{r.randint(1, 31):02d}",
    "datetime": _datetime,
    "color": lambda r: r.choice(["red", "blue", "Red", "yellow", ""]),
    "literal": lambda r: r.choice(["a", "b", "3", "3.0", "B"]),
    "list_int": lambda r: [str(r.randint(-5, 20)) for _ in range(r.randint(0, 3))],
}


def _fuzz(kind: str, rng: random.Random) -> Any:
    return _FUZZ[kind](rng)


def _json_of(text: Any) -> Any:
    """A JSON sample from a text sample: a number when it parses as one, else the string."""
    if isinstance(text, list):
        return [_json_of(t) for t in text]
    for conv in (int, float):
        try:
            value = conv(text)
        except ValueError:
            continue
        if value == value and value not in (float("inf"), float("-inf")):
            return value
    return text


# -- source ------------------------------------------------------------------------------------

_HEADER = """from datetime import date, datetime
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Annotated, Literal, Optional
from uuid import UUID

from fastapi import Body, Cookie, FastAPI, Form, Header, Path, Query


class Color(str, Enum):
    red = "red"
    blue = "blue"


class Level(IntEnum):
    low = 1
    high = 2


app = FastAPI()
"""

_MARKERS = {
    "path": "Path",
    "query": "Query",
    "header": "Header",
    "cookie": "Cookie",
    "body": "Body",
    "body_raw": "Body",
    "form": "Form",
}


def _pname(loc: str) -> str:
    return "x_v" if loc == "header" else "v"


def _source(loc: str, v: Variant, is_async: bool) -> str:
    kwargs = [v.marker_kwargs] if v.marker_kwargs else []
    alias = v.alias
    if loc == "path" and alias:  # a path parameter's name must be an identifier
        alias = alias.replace("-", "_")
        kwargs = [k.replace(v.alias, alias) for k in kwargs]
    if loc == "body":
        kwargs.insert(0, "embed=True")
    marker = f"{_MARKERS[loc]}({', '.join(kwargs)})"
    name = _pname(loc)
    default = f" = {v.default}" if v.default is not None else ""
    key = alias or name
    route = f"/p/{{{key}}}" if loc == "path" else "/p"
    method = "post" if loc in ("body", "body_raw", "form") else "get"
    kw = "async def" if is_async else "def"
    return (
        f"{_HEADER}\n\n@app.{method}({route!r})\n"
        f"{kw} endpoint({name}: Annotated[{v.annotation}, {marker}]{default}):\n"
        f"    return {{'v': {name}, 'repr': repr({name}), 'type': type({name}).__name__}}\n"
    )


def _text_request(loc: str, v: Variant, sample: Any, missing: bool = False) -> R:
    key = v.alias or (HEADER_NAME if loc == "header" else "v")
    values = sample if isinstance(sample, list) else [sample]
    if loc == "path":
        return get("/p/" + quote(str(sample), safe=""))
    if missing:
        return post("/p") if loc == "form" else get("/p")
    if loc == "query":
        return get("/p", params={key: values})
    if loc == "header":
        return get("/p", headers=[(key, str(x)) for x in values])
    if loc == "cookie":
        return get("/p", headers={"cookie": "; ".join(f"{key}={x}" for x in values)})
    return post("/p", data={key: values})  # form


def _json_request(loc: str, v: Variant, sample: Any, missing: bool = False) -> R:
    if missing:
        return post("/p")
    if loc == "body":
        return post("/p", json={v.alias or "v": sample})
    return post("/p", json=sample)


def _ascii_ok(loc: str, sample: Any) -> bool:
    if loc not in ("header", "cookie"):
        return True
    values = sample if isinstance(sample, list) else [sample]
    return all(str(x).isascii() and "\n" not in str(x) for x in values)


def _steps(loc: str, v: Variant, rng: random.Random) -> list[R]:
    fuzz = [_fuzz(v.fuzz, rng) for _ in range(3)]
    if v.multi:
        fuzz = [f if isinstance(f, list) else [f] for f in fuzz]
    elif v.fuzz == "list_int":
        fuzz = [",".join(f) for f in fuzz]
    if loc in ("body", "body_raw"):
        steps = [_json_request(loc, v, None, missing=True)]
        samples = list(v.json) + [_json_of(f) for f in fuzz]
        steps += [_json_request(loc, v, s) for s in samples]
        if v.alias:
            steps.append(post("/p", json={"v": "by-name"}))
        return steps
    steps = [] if loc == "path" else [_text_request(loc, v, None, missing=True)]
    samples = [s for s in list(v.text) + fuzz if _ascii_ok(loc, s)]
    if loc == "path" and v.multi:
        samples = [",".join(s) for s in samples]
    steps += [_text_request(loc, v, s) for s in samples]
    if v.alias and loc != "path":
        by_name = Variant(v.name, v.annotation)  # the Python name instead of the alias
        steps.append(_text_request(loc, by_name, "by-name"))
    return steps


def _register() -> None:
    for loc in LOCATIONS:
        for v in VARIANTS:
            pid = f"gen_params.{loc}_{v.name}"
            rng = random.Random(zlib.crc32(pid.encode()))
            is_async = rng.random() < 0.5
            src = _source(loc, v, is_async)
            desc = (
                f"{loc} parameter: {v.annotation}"
                + (f" [{v.marker_kwargs}]" if v.marker_kwargs else "")
                + (f" = {v.default}" if v.default is not None else "")
                + (" (async)" if is_async else "")
            )
            probe_source(pid, src, *_steps(loc, v, rng), description=desc)


_register()
