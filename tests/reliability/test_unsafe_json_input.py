"""JSON that strict JSON cannot echo back never turns into a 500 (issue 14, finding 10).

``NaN``, ``Infinity``, ``-Infinity``, ``1e400`` and lone surrogates (``"\\ud800"``) are accepted
by Python's JSON parser; the 422 handler echoes the input, and FastAPI 0.165.0 fails to render
it (500). This proves, for both ``Hasten`` and ``FastAPI`` classes, that:

* such a body that does not validate answers 422 with FastAPI's error body, the values rendered
  as FastAPI would have rendered them had they been JSON-safe: ``"NaN"``/``"Infinity"``/
  ``"-Infinity"`` for non-finite floats, U+FFFD for lone surrogates (the bodies asserted
  here are the ones FastAPI 0.165.0 gives where it answers 422, e.g. for the lone surrogate
  in an ``int`` field);
* a ``RequestValidationError`` or ``HTTPException`` raised by user code with such values
  answers its status with the values made safe;
* such a body that does validate and is echoed in the response: lone surrogates come back as
  ``\\ud800`` escapes (the exact string the client sent; FastAPI answers 500), with and without
  a response model; non-finite floats as ``null`` through a response model and as a 500
  without one, both as in FastAPI;
* every JSON body answered is strict JSON (``json.loads`` without NaN, UTF-8 decodable).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from pydantic import BaseModel

from hasten import FastAPI, Hasten, HTTPException
from hasten.encoders import _json_safe
from hasten.exceptions import RequestValidationError
from hasten.testclient import TestClient

APP_CLASSES = [FastAPI, Hasten]


class IntItem(BaseModel):
    x: int


class FloatItem(BaseModel):
    x: float


class TextItem(BaseModel):
    x: str


def _strict(body: bytes) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"non-standard JSON constant {constant} in {body!r}")

    return json.loads(body.decode("utf-8"), parse_constant=refuse)


def _app(cls: type[FastAPI]) -> TestClient:
    app = cls()

    @app.post("/int")
    def int_item(body: IntItem) -> IntItem:
        return body

    @app.post("/echo-float")
    def echo_float(body: FloatItem):  # type: ignore[no-untyped-def]  # no response model
        return body.model_dump()

    @app.post("/echo-float-model")
    def echo_float_model(body: FloatItem) -> FloatItem:
        return body

    @app.post("/echo-text")
    def echo_text(body: TextItem):  # type: ignore[no-untyped-def]
        return body

    @app.post("/echo-text-model")
    def echo_text_model(body: TextItem) -> TextItem:
        return body

    @app.get("/raise-validation")
    def raise_validation() -> None:
        raise RequestValidationError(
            [
                {"type": "a", "loc": ("body", "x"), "msg": "m", "input": math.nan},
                {"type": "b", "loc": ("query", "q"), "msg": "m", "input": "\ud800"},
                {"type": "c", "loc": ("body",), "msg": "m", "input": (b"\xff", -math.inf)},
            ]
        )

    @app.get("/raise-http")
    def raise_http() -> None:
        raise HTTPException(422, detail={"value": math.inf, "text": "a\udc00b"})

    return TestClient(app, raise_server_exceptions=False)


def _finite_error(value: str) -> dict[str, Any]:
    return {
        "type": "finite_number",
        "loc": ["body", "x"],
        "msg": "Input should be a finite number",
        "input": value,
    }


UNICODE_ERROR = {
    "type": "string_unicode",
    "loc": ["body", "x"],
    "msg": "Input should be a valid string, unable to parse raw data as a unicode string",
    "input": "\ufffd",
}

# (raw body, the 422 detail FastAPI 0.165.0 answers when the input is JSON-safe / as observed)
INVALID_BODIES = [
    (b'{"x": NaN}', [_finite_error("NaN")]),
    (b'{"x": Infinity}', [_finite_error("Infinity")]),
    (b'{"x": -Infinity}', [_finite_error("-Infinity")]),
    (b'{"x": 1e400}', [_finite_error("Infinity")]),
    (b'{"x": -1e400}', [_finite_error("-Infinity")]),
    (b'{"x": "\\ud800"}', [UNICODE_ERROR]),
    (b'{"x": "\\udfff"}', [UNICODE_ERROR]),
    (
        b"[NaN, Infinity]",
        [
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": ["NaN", "Infinity"],
            }
        ],
    ),
]


@pytest.mark.parametrize("cls", APP_CLASSES)
@pytest.mark.parametrize(("raw", "detail"), INVALID_BODIES)
def test_unsafe_input_that_fails_validation_is_a_422(
    cls: type[FastAPI], raw: bytes, detail: list[dict[str, Any]]
) -> None:
    response = _app(cls).post("/int", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert _strict(response.content) == {"detail": detail}


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_user_raised_validation_error_with_unsafe_input_is_a_422(cls: type[FastAPI]) -> None:
    response = _app(cls).get("/raise-validation")
    assert response.status_code == 422
    assert _strict(response.content) == {
        "detail": [
            {"type": "a", "loc": ["body", "x"], "msg": "m", "input": "NaN"},
            {"type": "b", "loc": ["query", "q"], "msg": "m", "input": "\ufffd"},
            {"type": "c", "loc": ["body"], "msg": "m", "input": ["\ufffd", "-Infinity"]},
        ]
    }


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_user_raised_http_exception_with_unsafe_detail_keeps_its_status(
    cls: type[FastAPI],
) -> None:
    response = _app(cls).get("/raise-http")
    assert response.status_code == 422
    assert _strict(response.content) == {"detail": {"value": "Infinity", "text": "a\ufffdb"}}


@pytest.mark.parametrize("cls", APP_CLASSES)
@pytest.mark.parametrize("raw", [b'{"x": NaN}', b'{"x": 1e400}', b'{"x": -Infinity}'])
def test_non_finite_floats_echoed_in_a_response(cls: type[FastAPI], raw: bytes) -> None:
    """Through a response model: ``null`` (Pydantic's JSON). Without one: a server error,
    as in FastAPI 0.165.0 (``scripts/diff`` compares it); the body is never invalid JSON."""
    client = _app(cls)
    headers = {"content-type": "application/json"}
    response = client.post("/echo-float-model", content=raw, headers=headers)
    assert response.status_code == 200
    assert _strict(response.content) == {"x": None}
    response = client.post("/echo-float", content=raw, headers=headers)
    assert response.status_code == 500
    assert b"NaN" not in response.content and b"Infinity" not in response.content


@pytest.mark.parametrize("cls", APP_CLASSES)
@pytest.mark.parametrize("path", ["/echo-text", "/echo-text-model"])
def test_lone_surrogates_echoed_in_a_response_come_back_as_sent(
    cls: type[FastAPI], path: str
) -> None:
    raw = b'{"x": "a\\ud800b\\u00e9"}'
    response = _app(cls).post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.content == b'{"x":"a\\ud800b\\u00e9"}'
    assert json.loads(response.content) == json.loads(raw)


@pytest.mark.parametrize("cls", APP_CLASSES)
def test_safe_input_is_rendered_as_before(cls: type[FastAPI]) -> None:
    response = _app(cls).post("/int", json={"x": "é"})
    assert response.status_code == 422
    assert (
        response.content
        == (
            '{"detail":[{"type":"int_parsing","loc":["body","x"],"msg":"Input should be a valid'
            ' integer, unable to parse string as an integer","input":"é"}]}'
        ).encode()
    )


def test_json_safe_replaces_only_what_strict_json_cannot_carry() -> None:
    data = {"a": [1, 2.5, math.nan, (math.inf, -math.inf)], "\ud801k": {"s": "ok\udfffé"}}
    assert _json_safe(data) == {
        "a": [1, 2.5, "NaN", ["Infinity", "-Infinity"]],
        "\ufffdk": {"s": "ok\ufffdé"},
    }
    assert _json_safe(b"ab\xffc") == "ab\ufffdc"
    assert _json_safe(True) is True


@pytest.mark.parametrize("cls", APP_CLASSES)
@pytest.mark.parametrize("depth", [500, 900])
def test_deeply_nested_input_is_echoed_in_full(cls: type[FastAPI], depth: int) -> None:
    """As FastAPI 0.165.0 answers: 422 with the whole input (the encoder recursed 2 frames
    a level before, so 500 levels of objects or arrays were a 500 on Python 3.11)."""
    client = _app(cls)
    for raw in (b'{"a": ' * depth + b"1" + b"}" * depth, b"[" * depth + b"]" * depth):
        response = client.post("/int", content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["input"] == json.loads(raw)


def test_json_safe_cuts_nesting_below_100_levels() -> None:
    deep: Any = 1
    for _ in range(150):
        deep = [deep]
    cut = _json_safe(deep)
    for _ in range(100):
        cut = cut[0]
    assert cut == "..."
