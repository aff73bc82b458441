"""Python-version regressions: what once broke on one CPython (3.11-3.13) and not another.

On Python 3.13 ``typing.Annotated`` became a special form without ``__class_getitem__``, and
any parameter marker with a constraint (``Query(ge=1)``, ``Path(min_length=3)``) failed at
declaration with ``AttributeError: __class_getitem__``. ``./scripts/test`` runs this file on
every supported CPython.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel

from hasten import Body, Cookie, FastAPI, File, Form, Hasten, Header, Path, Query
from hasten.testclient import TestClient

README = FilePath(__file__).resolve().parents[1] / "README.md"


def error_types(response: Any) -> list[tuple[tuple[Any, ...], str]]:
    assert response.status_code == 422, response.text
    return [(tuple(e["loc"]), e["type"]) for e in response.json()["detail"]]


def test_runs_on_a_supported_python() -> None:
    assert sys.version_info >= (3, 11)


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()

    @app.get("/items/{item_id}")
    def read_item(
        item_id: Annotated[str, Path(min_length=3)],
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        x_tag: Annotated[str | None, Header(max_length=5)] = None,
        session: Annotated[str | None, Cookie(pattern=r"^s-\d+$")] = None,
    ) -> dict[str, Any]:
        return {"item_id": item_id, "limit": limit, "x_tag": x_tag, "session": session}

    @app.post("/body")
    def post_body(
        price: Annotated[float, Body(gt=0, embed=True)],
    ) -> dict[str, Any]:
        return {"price": price}

    @app.post("/form")
    def post_form(
        name: Annotated[str, Form(min_length=2)],
        blob: Annotated[bytes, File(max_length=4)],
    ) -> dict[str, Any]:
        return {"name": name, "size": len(blob)}

    return TestClient(app)


def test_constrained_path_query_header_cookie_accept_valid_values(client: TestClient) -> None:
    client.cookies.set("session", "s-42")
    response = client.get("/items/abc", params={"limit": 100}, headers={"x-tag": "hello"})
    assert response.status_code == 200, response.text
    assert response.json() == {"item_id": "abc", "limit": 100, "x_tag": "hello", "session": "s-42"}


def test_constrained_path_query_header_cookie_reject_invalid_values(client: TestClient) -> None:
    client.cookies.set("session", "nope")
    response = client.get("/items/ab", params={"limit": 0}, headers={"x-tag": "toolong"})
    assert sorted(error_types(response)) == [
        (("cookie", "session"), "string_pattern_mismatch"),
        (("header", "x-tag"), "string_too_long"),
        (("path", "item_id"), "string_too_short"),
        (("query", "limit"), "greater_than_equal"),
    ]
    client.cookies.clear()
    assert error_types(client.get("/items/abc", params={"limit": 101})) == [
        (("query", "limit"), "less_than_equal")
    ]


def test_constrained_body(client: TestClient) -> None:
    assert client.post("/body", json={"price": 2.5}).json() == {"price": 2.5}
    assert error_types(client.post("/body", json={"price": 0})) == [
        (("body", "price"), "greater_than")
    ]


def test_constrained_form_and_file(client: TestClient) -> None:
    ok = client.post("/form", data={"name": "ab"}, files={"blob": ("b.bin", b"1234")})
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"name": "ab", "size": 4}
    bad = client.post("/form", data={"name": "a"}, files={"blob": ("b.bin", b"12345")})
    assert sorted(error_types(bad)) == [
        (("body", "blob"), "bytes_too_long"),
        (("body", "name"), "string_too_short"),
    ]


class Card(BaseModel):
    kind: Literal["card"]
    number: str


class Transfer(BaseModel):
    kind: Literal["transfer"]
    iban: str


def test_discriminated_union_of_form_models() -> None:
    # A union of form models with marker metadata takes another Annotated rebuild
    # (hasten/_plan/fields.py), which failed on 3.13 the same way.
    app = FastAPI()

    @app.post("/pay")
    def pay(payment: Annotated[Card | Transfer, Form(discriminator="kind")]) -> dict[str, Any]:
        return payment.model_dump()

    client = TestClient(app)
    assert client.post("/pay", data={"kind": "card", "number": "4242"}).json() == {
        "kind": "card",
        "number": "4242",
    }
    assert client.post("/pay", data={"kind": "transfer", "iban": "DE00"}).json() == {
        "kind": "transfer",
        "iban": "DE00",
    }
    assert error_types(client.post("/pay", data={"kind": "cash"})) == [
        (("body",), "union_tag_invalid")
    ]


def _readme_quick_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## A quick example", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "README.md: no python block under 'A quick example'"
    return match.group(1)


def test_readme_quick_example_runs() -> None:
    namespace: dict[str, Any] = {"__name__": "readme_quick_example"}
    exec(compile(_readme_quick_example(), str(README), "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, Hasten)
    client = TestClient(app)
    auth = {"x-token": "secret"}
    created = client.post("/items/1", json={"name": "pen", "price": 1.5}, headers=auth)
    assert created.status_code == 201, created.text
    assert client.post("/items/2", json={"name": "cap", "price": 2}, headers={}).status_code == 401
    assert client.get("/items/", params={"limit": 5}).json() == [{"name": "pen", "price": 1.5}]
    assert error_types(client.get("/items/", params={"limit": 0})) == [
        (("query", "limit"), "greater_than_equal")
    ]


def test_string_annotations_in_a_rewritten_signature() -> None:
    # A class-based-view helper may set ``__signature__`` with string annotations; Hasten
    # evaluates them itself (typing.ForwardRef), which warned (an error under this suite's
    # filterwarnings) on 3.13 when called without ``type_params``.
    def read(q: Any) -> Any:
        return {"q": q}

    read.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("q", inspect.Parameter.KEYWORD_ONLY, annotation="int")],
        return_annotation="dict[str, int]",
    )
    app = FastAPI()
    app.get("/read")(read)
    client = TestClient(app)
    assert client.get("/read", params={"q": "3"}).json() == {"q": 3}
    assert error_types(client.get("/read", params={"q": "x"})) == [(("query", "q"), "int_parsing")]
