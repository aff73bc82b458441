"""The engine without a server: what a route compiles to, and its runner driven over raw ASGI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, field_validator

from hasten import Depends, FastAPI, Form, Header
from hasten._plan import handler, runner
from hasten.exceptions import RequestValidationError
from hasten.routing import APIRoute


class Item(BaseModel):
    name: str
    price: float


def _route(path: str, endpoint: Any, **options: Any) -> APIRoute:
    return APIRoute(path, endpoint, methods=options.pop("methods", ["POST"]), **options)


async def _get_token(x_token: Annotated[str, Header()]) -> str:
    return x_token


def _sync_user(token: Annotated[str, Depends(lambda: "t")]) -> str:
    return token.upper()


def _yield_db() -> Iterator[str]:
    yield "db"


async def _endpoint_async() -> dict[str, int]:
    return {"ok": 1}


def _endpoint_sync() -> dict[str, int]:
    return {"ok": 1}


async def _with_body(item: Item) -> Item:
    return item


async def _with_body_and_path(item_id: int, item: Item) -> Item:
    return item


class CheckedItem(Item):
    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        return value


async def _with_checked_body(item: CheckedItem) -> Item:  # not validated from its bytes
    return item


async def _with_body_and_deps(item: Item, token: Annotated[str, Depends(_get_token)]) -> Item:
    return item


def _sync_body(item: Item) -> Item:
    return item


async def _with_deps(token: Annotated[str, Depends(_get_token)]) -> str:
    return token


def _sync_chain(user: Annotated[str, Depends(_sync_user)]) -> str:
    return user


async def _with_yield(db: Annotated[str, Depends(_yield_db)]) -> str:
    return db


async def _with_form(name: Annotated[str, Form()]) -> str:
    return name


async def _stream() -> AsyncIterator[int]:
    yield 1


@pytest.mark.parametrize(
    ("endpoint", "serve", "call"),
    [
        (_endpoint_async, runner.serve_trivial, handler.call_async),
        (_endpoint_sync, runner.serve_trivial, handler.call_batched),
        (_with_body, runner.serve_plain, handler.call_json_body),
        (_with_body_and_path, runner.serve_plain, handler.call_async),
        (_with_checked_body, runner.serve_plain, handler.call_async),
        (_with_body_and_deps, runner.serve_plain, handler.call_async),
        (_sync_body, runner.serve_plain, handler.call_sync),
        (_with_deps, runner.serve_plain, handler.call_async),
        (_sync_chain, runner.serve_plain, handler.call_batched),
        (_with_yield, runner.serve_stacked, handler.call_async),
        (_with_form, runner.serve_stacked, handler.call_async),
        (_stream, runner.serve_stacked, handler.call_stream),
    ],
)
def test_each_route_compiles_to_one_runner_and_call_step(
    endpoint: Any, serve: Any, call: Any
) -> None:
    plan = _route("/x", endpoint).plan
    assert (plan.serve, plan.call) == (serve, call)


def test_body_readers_are_chosen_at_build() -> None:
    assert _route("/x", _with_body).plan.read is handler.read_json
    assert _route("/x", _with_form).plan.read is handler.read_form
    assert _route("/x", _endpoint_async).plan.read is None
    # A single JSON body without hooks is validated from its bytes.
    assert _route("/x", _with_body).plan.json_body is not None


def _scope(method: str, path: str, body: bytes = b"", **headers: str) -> dict[str, Any]:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw,
        "scheme": "http",
        "server": ("test", 80),
        "app": None,
    }


async def _call(app: Any, scope: dict[str, Any], body: bytes = b"") -> tuple[int, Any]:
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_a_route_app_runs_over_raw_asgi() -> None:
    app = _route("/items", _with_body).app
    body = b'{"name": "a", "price": 1}'
    scope = _scope("POST", "/items", content_type="application/json")
    assert asyncio.run(_call(app, scope, body)) == (200, {"name": "a", "price": 1.0})
    # No app around it, so no exception handlers: the validation error comes out as raised.
    with pytest.raises(RequestValidationError) as caught:
        asyncio.run(_call(app, scope, b'{"name": "a"}'))
    assert [e["loc"] for e in caught.value.errors()] == [("body", "price")]
    assert caught.value.body == {"name": "a"}


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'{"name": "a", "price": 1}', "application/json", (200, {"name": "a", "price": 1.0})),
        (b'{"name": "a", "price": "1.5"}', "application/json", (200, {"name": "a", "price": 1.5})),
        (b'{"name": "a", "price": 1}', None, 422),  # no content type: a strict route's bytes
        (b'{"name": "a"}', "application/json", 422),
        (b'{"name": "a", "price": 1', "application/json", 422),  # broken JSON
        (b"", "application/json", 422),  # no body: required
        (b'{"name": "a", "price": 1}', "text/plain", 422),  # not JSON: the bytes, refused
    ],
)
def test_a_body_only_endpoint_answers_as_a_solved_one(
    body: bytes, content_type: str | None, expected: Any
) -> None:
    # ``call_json_body`` passes a body validated from its bytes straight to the endpoint and
    # solves anything else: every answer equals the one the general step gives.
    answers = []
    for call in (handler.call_json_body, handler.call_async):
        app = FastAPI()
        app.post("/items")(_with_body)
        route = next(r for r in app.routes if getattr(r, "path", None) == "/items")
        assert route.plan.call is handler.call_json_body
        object.__setattr__(route.plan, "call", call)
        headers = {} if content_type is None else {"content_type": content_type}
        scope = _scope("POST", "/items", **headers)
        scope["app"] = app
        answers.append(asyncio.run(_call(app, scope, body)))
    assert answers[0] == answers[1]
    status, payload = answers[0]
    assert (status, payload) == expected if status == 200 else status == expected
    if status == 422:
        assert payload["detail"] and all(e["loc"][0] == "body" for e in payload["detail"])


def test_a_body_only_endpoint_keeps_working_under_overrides() -> None:
    app = FastAPI()
    app.post("/items")(_with_body)
    app.dependency_overrides[_get_token] = lambda: "other"  # nothing this route uses
    scope = _scope("POST", "/items", content_type="application/json")
    scope["app"] = app
    answer = asyncio.run(_call(app, scope, b'{"name": "b", "price": 2}'))
    assert answer == (200, {"name": "b", "price": 2.0})


def test_overrides_pick_the_variant_plan_once_per_version() -> None:
    app = FastAPI()
    app.get("/deps")(_with_deps)
    route = next(r for r in app.routes if getattr(r, "path", None) == "/deps")
    plan = route.plan

    def fake_token() -> str:
        return "fake"

    def yielding_token() -> Iterator[str]:
        yield "yielded"

    overrides: dict[Any, Any] = {fake_token: fake_token}  # nothing this route uses
    same, prepared = runner.for_overrides(plan, overrides)
    assert same is plan and prepared[0] is plan.root

    overrides = {_get_token: fake_token}
    first, _ = runner.for_overrides(plan, overrides)
    again, _ = runner.for_overrides(plan, dict(overrides))
    assert first is again and first is not plan
    assert (first.serve, first.call) == (runner.serve_plain, handler.call_async)

    stacked, _ = runner.for_overrides(plan, {_get_token: yielding_token})
    assert stacked.serve is runner.serve_stacked  # a yield override needs the exit stacks
    assert plan.serve is runner.serve_plain  # the route's own plan is untouched


def test_the_stack_edge_survives_overrides() -> None:
    async def form_with_dep(
        name: Annotated[str, Form()], db: Annotated[str, Depends(_yield_db)]
    ) -> str:
        return name

    plan = _route("/f", form_with_dep).plan
    assert plan.stack_edge and plan.serve is runner.serve_stacked
    variant, _ = runner.for_overrides(plan, {_yield_db: lambda: "plain"})
    assert variant.serve is runner.serve_stacked  # forms still need closing


class _Checked(BaseModel):
    x: int

    @field_validator("x")
    @classmethod
    def _positive(cls, value: int) -> int:
        return abs(value)


class _OddNames(BaseModel):
    """Field names that are also core-schema keys."""

    type: str
    missing: int = 0
    config: _Checked | None = None
    metadata: _Checked | None = None


def _odd_dependency(body: _OddNames) -> _OddNames:
    return body


def test_schema_walk_reads_fields_named_like_schema_keys() -> None:
    from pydantic import TypeAdapter

    from hasten._plan.body import json_mode_safe
    from hasten._plan.schema import schema_nodes

    schema = TypeAdapter(_OddNames).core_schema
    kinds = {node["type"] for node in schema_nodes(schema)}
    assert "function-after" in kinds  # the validator of the field named "config" is seen
    assert not json_mode_safe(schema)  # so the body is not validated from its bytes


def test_models_with_fields_named_like_schema_keys_compile_and_answer() -> None:
    from hasten.testclient import TestClient

    app = FastAPI()

    @app.post("/dep")
    def via_dependency(body: Annotated[_OddNames, Depends(_odd_dependency)]) -> _OddNames:
        return body

    @app.post("/direct")
    def direct(body: _OddNames) -> _OddNames:
        return body

    client = TestClient(app)
    sent = {"type": "a", "config": {"x": -2}}
    expected = {"type": "a", "missing": 0, "config": {"x": 2}, "metadata": None}
    assert client.post("/dep", json=sent).json() == expected
    assert client.post("/direct", json=sent).json() == expected
