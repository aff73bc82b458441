"""Plain ``str`` header parameters skip the validation call; anything else still validates."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import TypeAdapter
from typing_extensions import TypedDict

from hasten import FastAPI, Header
from hasten._plan.validate import plain_str_fields
from hasten.testclient import TestClient


class Plain(TypedDict, total=False):
    a: str
    b: str


class Bounded(TypedDict, total=False):
    a: Annotated[str, Header(max_length=3)]


class Mixed(TypedDict, total=False):
    a: str
    n: int


class Optional(TypedDict, total=False):
    a: str | None


@pytest.mark.parametrize(
    ("shape", "expected"), [(Plain, True), (Bounded, False), (Mixed, False), (Optional, False)]
)
def test_which_schemas_are_plain_str(shape: type, expected: bool) -> None:
    assert plain_str_fields(TypeAdapter(shape).core_schema) is expected


def test_plain_and_constrained_headers_answer_as_before() -> None:
    app = FastAPI()

    @app.get("/plain")
    def plain(
        x_token: Annotated[str, Header()], x_other: Annotated[str, Header()] = "d"
    ) -> dict[str, str]:
        return {"token": x_token, "other": x_other}

    @app.get("/bounded")
    def bounded(x_token: Annotated[str, Header(max_length=3)]) -> str:
        return x_token

    client = TestClient(app)
    assert client.get("/plain", headers={"x-token": "a b"}).json() == {"token": "a b", "other": "d"}
    missing = client.get("/plain")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["header", "x-token"]
    assert client.get("/bounded", headers={"x-token": "abc"}).json() == "abc"
    too_long = client.get("/bounded", headers={"x-token": "abcd"})
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["type"] == "string_too_long"
