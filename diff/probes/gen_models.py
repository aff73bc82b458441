"""Generated probes: JSON body models (validators, aliases, extra, unions, decimals, defaults,
nested models) and response-model filtering.

Id ``gen_models.mNN``. For each probe a ``random.Random`` seeded with the id picks 3 to 5
fields from ``FIELDS``, an ``extra`` mode, a validator kind, the body style and a response
style; the app source is generated (``--verbose`` prints it). Requests: a full valid payload,
the required fields only, an extra key, each field's bad values, the payload keyed by field
names instead of aliases, an empty body, ``[]`` and ``null``.
"""

import random
import zlib
from dataclasses import dataclass, field
from typing import Any

from probelib import R, post, probe_source

N_PROBES = 40


@dataclass(frozen=True)
class F:
    name: str
    decl: str  # annotation and default, as in a class body
    key: str  # the key of the JSON input (alias)
    good: Any
    bad: list[Any] = field(default_factory=list)
    required: bool = True
    is_str: bool = False


FIELDS = [
    F("name", "str", "name", "widget", [5, None, ["x"]], is_str=True),
    F("qty", "int = Field(1, alias='Qty', ge=0)", "Qty", 3, ["x", -1, 2.5], required=False),
    F(
        "price",
        "Decimal = Field(max_digits=6, decimal_places=2)",
        "price",
        12.5,
        [1.234, "abc", 12345.67],
    ),
    F("tags", "list[str] = []", "tags", ["a", "b"], ["a", [1]], required=False),
    F(
        "when",
        "Optional[datetime] = None",
        "when",
        "2024-05-01T12:00:00Z",
        ["yesterday", 1e20],
        required=False,
    ),
    F(
        "code",
        "str = Field(validation_alias=AliasChoices('code', 'Code'))",
        "Code",
        "C1",
        [None, 1],
        is_str=True,
    ),
    F(
        "label",
        "str = Field('dflt', serialization_alias='outLabel')",
        "label",
        "L",
        [3],
        required=False,
        is_str=True,
    ),
    F("ratio", "float | int = 1", "ratio", 2, ["x", True, 1.5], required=False),
    F("kind", "Literal['x', 'y'] = 'x'", "kind", "y", ["z", 1], required=False),
    F(
        "inner",
        "Optional[Inner] = None",
        "inner",
        {"n": 1, "s": "t"},
        [{"n": "x"}, "str", {"n": 1, "extra": 2}],
        required=False,
    ),
    F(
        "items",
        "list[Inner] = []",
        "items",
        [{"n": 2}],
        [[{"s": "no n"}], {"n": 1}],
        required=False,
    ),
    F("amount", "Decimal = Decimal('1.0')", "amount", "3.30", [0.1, "nan", "x"], required=False),
    F("flag", "bool = False", "flag", True, ["yes", 2, None], required=False),
    F(
        "nick",
        "Optional[str] = Field(default=None, max_length=5)",
        "nick",
        "bob",
        ["toolongnick", 7],
        required=False,
        is_str=True,
    ),
    F(
        "uid",
        "Optional[UUID] = None",
        "uid",
        "4fa85f64-5717-4562-b3fc-2c963f66afa6",
        ["x"],
        required=False,
    ),
    F(
        "email",
        "Optional[EmailStr] = None",
        "email",
        "a@example.com",
        ["not-an-email"],
        required=False,
    ),
    F(
        "pet",
        "Union[Cat, Dog] = Field(discriminator='type')",
        "pet",
        {"type": "cat", "lives": 9},
        [{"type": "cow"}, {"type": "dog"}, {"lives": 1}],
    ),
    F(
        "size",
        "Annotated[int, Field(gt=0, lt=100)] = 10",
        "size",
        50,
        [0, 100, "5"],
        required=False,
    ),
    F("meta", "dict[str, int] = {}", "meta", {"a": 1}, [{"a": "x"}, [1]], required=False),
    F(
        "coords",
        "tuple[float, float] = (0.0, 0.0)",
        "coords",
        [1, 2.5],
        [[1], [1, 2, 3]],
        required=False,
    ),
    F("status", "Status = Status.active", "status", "archived", ["gone", 1], required=False),
    F("secret", "Optional[SecretStr] = None", "secret", "pw", [1], required=False),
]

EXTRA = [None, "forbid", "allow", "ignore"]
VALIDATORS = [
    "none",
    "field_before",
    "field_after",
    "model_before",
    "model_after",
    "wrap",
    "custom_error",
]
BODY_STYLES = ["single", "embed", "with_query", "two_models"]
RESPONSES = [
    "model",
    "response_model",
    "exclude_unset",
    "exclude_none",
    "by_alias_false",
    "dict",
    "exclude_defaults",
    "include",
]

_HEADER = """from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Optional, Union
from uuid import UUID

from fastapi import Body, FastAPI
from pydantic import (AliasChoices, BaseModel, ConfigDict, EmailStr, Field, SecretStr,
                      ValidationInfo, field_validator, model_validator)
from pydantic_core import PydanticCustomError


class Status(str, Enum):
    active = "active"
    archived = "archived"


class Inner(BaseModel):
    n: int
    s: str = "s"


class Cat(BaseModel):
    type: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    type: Literal["dog"]
    good: bool = True

"""

_VALIDATOR_SRC = {
    "none": "",
    "field_before": """
    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, v: Any) -> Any:
        return v.strip() if isinstance(v, str) else v
""",
    "field_after": """
    @field_validator("*")
    @classmethod
    def _check(cls, v: Any, info: ValidationInfo) -> Any:
        if v == "boom" or v == 13:
            raise ValueError(f"bad {info.field_name}")
        return v
""",
    "model_before": """
    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        if isinstance(data, dict) and "legacy" in data:
            data = dict(data)
            data.update(data.pop("legacy"))
        return data
""",
    "model_after": """
    @model_validator(mode="after")
    def _cross(self) -> Any:
        if getattr(self, "qty", None) == 7:
            raise ValueError("seven is not allowed")
        return self
""",
    "wrap": """
    @field_validator("*", mode="wrap")
    @classmethod
    def _wrap(cls, v: Any, handler: Any) -> Any:
        if v == "boom":
            return handler("wrapped")
        return handler(v)
""",
    "custom_error": """
    @field_validator("*", mode="before")
    @classmethod
    def _custom(cls, v: Any) -> Any:
        if v == "boom" or v == 13:
            raise PydanticCustomError("boom_error", "custom {what}", {"what": "boom"})
        return v
""",
}


def _model_src(name: str, fields: list[F], extra: str | None, validator: str) -> str:
    lines = [f"class {name}(BaseModel):"]
    if extra:
        lines.append(f"    model_config = ConfigDict(extra={extra!r})")
    lines += [f"    {f.name}: {f.decl}" for f in fields]
    src = "\n".join(lines) + "\n" + _VALIDATOR_SRC[validator]
    return src


def _endpoint_src(style: str, response: str, out_fields: list[F]) -> str:
    decorator_kw = ""
    ret = "m"
    if response == "response_model":
        decorator_kw = ", response_model=Out"
    elif response == "exclude_unset":
        decorator_kw = ", response_model_exclude_unset=True"
    elif response == "exclude_none":
        decorator_kw = ", response_model_exclude_none=True"
    elif response == "by_alias_false":
        decorator_kw = ", response_model_by_alias=False"
    elif response == "exclude_defaults":
        decorator_kw = ", response_model=M, response_model_exclude_defaults=True"
    elif response == "include":
        decorator_kw = f", response_model_include={{{out_fields[0].name!r}}}"
    elif response == "dict":
        ret = "m.model_dump()"
    params = {
        "single": "m: M",
        "embed": "m: Annotated[M, Body(embed=True)]",
        "with_query": "m: M, q: int = 0",
        "two_models": "m: M, other: Inner",
    }[style]
    ret_ann = " -> M" if response == "model" else ""
    extra_ret = ""
    if style == "two_models":
        extra_ret = "  # other is echoed via the header"
    return (
        f'@app.post("/m"{decorator_kw})\n'
        f"def endpoint({params}){ret_ann}:{extra_ret}\n"
        f"    return {ret}\n"
    )


def _wrap_body(style: str, payload: Any) -> Any:
    if style == "embed":
        return {"m": payload}
    if style == "two_models":
        return {"m": payload, "other": {"n": 5}}
    return payload


def _steps(fields: list[F], style: str, validator: str, rng: random.Random) -> list[R]:
    full = {f.key: f.good for f in fields}
    required = {f.key: f.good for f in fields if f.required}
    steps = [
        post("/m", json=_wrap_body(style, full), label="full"),
        post("/m", json=_wrap_body(style, required), label="required only"),
        post("/m", json=_wrap_body(style, {**full, "unexpected": 1}), label="extra key"),
        post("/m", json=_wrap_body(style, {f.name: f.good for f in fields}), label="by name"),
        post("/m", label="no body"),
        post("/m", json=[], label="list"),
        post("/m", content=b"null", headers={"content-type": "application/json"}),
    ]
    for f in fields:
        for bad in f.bad[:2]:
            steps.append(
                post("/m", json=_wrap_body(style, {**full, f.key: bad}), label=f"bad {f.name}")
            )
    if validator in ("field_after", "wrap", "custom_error", "field_before"):
        target = next((f for f in fields if f.is_str), fields[0])
        steps.append(post("/m", json=_wrap_body(style, {**full, target.key: "boom"})))
        steps.append(post("/m", json=_wrap_body(style, {**full, target.key: " padded "})))
    if validator == "model_before":
        first = fields[0]
        legacy = {k: v for k, v in full.items() if k != first.key}
        legacy["legacy"] = {first.key: first.good}
        steps.append(post("/m", json=_wrap_body(style, legacy), label="legacy"))
    if validator == "model_after":
        steps.append(post("/m", json=_wrap_body(style, {**full, "Qty": 7})))
    if style == "with_query":
        steps.append(post("/m?q=x", json=full, label="valid body, bad query"))
        steps.append(post("/m?q=x", json={**full, fields[0].key: None}))
    # a few seeded mixes of good and bad values
    for _ in range(2):
        mix = {}
        for f in fields:
            choice = rng.random()
            if choice < 0.6:
                mix[f.key] = f.good
            elif choice < 0.85 and f.bad:
                mix[f.key] = rng.choice(f.bad)
        steps.append(post("/m", json=_wrap_body(style, mix), label="mix"))
    return steps


def _register() -> None:
    for i in range(N_PROBES):
        pid = f"gen_models.m{i:02d}"
        rng = random.Random(zlib.crc32(pid.encode()))
        fields = rng.sample(FIELDS, rng.randint(3, 5))
        extra = rng.choice(EXTRA)
        validator = VALIDATORS[i % len(VALIDATORS)]
        style = BODY_STYLES[(i // len(VALIDATORS)) % len(BODY_STYLES)]
        response = RESPONSES[i % len(RESPONSES)]
        out_fields = fields[:2]
        src = (
            _HEADER
            + "\n"
            + _model_src("M", fields, extra, validator)
            + "\n\n"
            + _model_src("Out", out_fields, None, "none")
            + "\n\napp = FastAPI()\n\n\n"
            + _endpoint_src(style, response, out_fields)
        )
        desc = (
            f"body model {[f.name for f in fields]} extra={extra} validator={validator} "
            f"style={style} response={response}"
        )
        probe_source(pid, src, *_steps(fields, style, validator, rng), description=desc)


_register()
