"""FastAPI's dependency helpers as cadwyn calls them, checked on Hasten.

cadwyn migrates a request body to the newest API version and solves the newest route's
dependant with it through ``solve_dependencies(body=...)``: a form route then gets a plain
mapping, not form data. Each expected value below was observed on FastAPI 0.165.0 with the
same calls.
"""

from __future__ import annotations

import copy
import dataclasses
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Annotated, Any

import pytest
from pydantic import BaseModel, Field
from starlette.requests import Request

from hasten import Body, Depends, FastAPI, Form, Query
from hasten.dependencies.utils import get_dependant, request_params_to_args, solve_dependencies
from hasten.testclient import TestClient

if TYPE_CHECKING:
    from decimal import Decimal  # for type checkers only: not defined when the app runs


class _Inner(BaseModel):
    value: int = Field(alias="x", validation_alias="v")


async def _form_model(body: Annotated[_Inner | None, Form()] = None) -> Any:
    return body


async def _form_fields(
    name: Annotated[str, Form()],
    tags: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Any:
    return name


async def _solve(call: Any, body: Any, embed: bool) -> tuple[dict[str, Any], list[Any]]:
    dependant = get_dependant(path="/", call=call)
    async with AsyncExitStack() as stack:
        scope = {
            "type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b"",
            "fastapi_inner_astack": stack, "fastapi_function_astack": stack,
        }  # fmt: skip
        solved = await solve_dependencies(
            request=Request(scope),
            dependant=dependant,
            body=body,
            async_exit_stack=stack,
            embed_body_fields=embed,
        )
    return solved.values, [(e["type"], e["loc"]) for e in solved.errors]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("call", "embed", "body", "values", "errors"),
    [
        (_form_model, False, {"body": {"v": "2"}}, {"body": _Inner(v=2)}, []),
        (_form_model, False, {"v": "2"}, {"body": None}, []),
        (_form_model, False, None, {}, [("missing", ("body", "body"))]),
        (_form_model, False, [1], {}, [("missing", ("body", "body"))]),
        (_form_fields, True, {"name": "n", "tags": ["a", "b"]}, {"name": "n", "tags": ["a", "b"]}, []),
        (
            _form_fields, True, {"tags": "a"}, {},
            [("missing", ("body", "name")), ("list_type", ("body", "tags"))],
        ),
        (_form_fields, True, {}, {"tags": []}, [("missing", ("body", "name"))]),
    ],
)  # fmt: skip
async def test_form_dependant_solved_with_a_mapping_body(
    call: Any, embed: bool, body: Any, values: dict[str, Any], errors: list[Any]
) -> None:
    # FastAPI 0.165.0 looks each form field (a form model too) up under its aliases in the
    # mapping, as it does embedded JSON fields.
    assert await _solve(call, body, embed) == (values, errors)


def _limit_returning(limit: int) -> Decimal:
    return limit  # type: ignore[return-value]


def _limit_with_parameter(limit: int, price: Decimal | None = None) -> int:
    return limit


class _LimitGetter:
    def __call__(self, limit: int) -> Decimal:
        return limit  # type: ignore[return-value]


def test_dependencies_with_annotations_for_type_checkers_only() -> None:
    app = FastAPI()

    @app.get("/return")
    async def returning(limit: Annotated[int, Depends(_limit_returning)]) -> Any:
        return limit

    @app.get("/parameter")
    async def parameter(limit: Annotated[int, Depends(_limit_with_parameter)]) -> Any:
        return limit

    @app.get("/instance")
    async def instance(limit: Annotated[int, Depends(_LimitGetter())]) -> Any:
        return limit

    client = TestClient(app, raise_server_exceptions=False)
    # FastAPI 0.165.0 leaves an annotation it cannot evaluate as a ForwardRef: the route is
    # declared, the other parameters validate, and only a value for that one fails (500).
    for path in ("/return", "/parameter", "/instance"):
        assert client.get(path, params={"limit": "5"}).json() == 5
        assert client.get(path, params={"limit": "five"}).status_code == 422
    assert client.get("/parameter", params={"limit": "5", "price": "1"}).status_code == 500


class _Other(BaseModel):
    other: str


async def _renamable(
    text: Annotated[_Other, Form()], q: Annotated[int, Query(alias="qq")] = 0
) -> None: ...


def _renamed(field: Any, alias: str) -> Any:
    """A copy of ``field`` looked up under another alias (as cadwyn makes one)."""
    info = copy.copy(field.field_info)
    info.alias = alias
    info.validation_alias = None
    field = copy.copy(field)
    field.field_info = info
    return field


@pytest.mark.anyio
async def test_copied_field_given_another_field_info() -> None:
    dependant = get_dependant(path="/", call=_renamable)
    renamed = dataclasses.replace(
        dependant, body_params=[_renamed(dependant.body_params[0], "key")]
    )
    # FastAPI 0.165.0: a field's aliases follow its field_info; the original keeps its own.
    assert (renamed.body_params[0].alias, dependant.body_params[0].alias) == ("key", "text")
    body = {"key": {"other": "a"}, "text": {"other": "b"}}
    async with AsyncExitStack() as stack:
        scope = {
            "type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b"",
            "fastapi_inner_astack": stack, "fastapi_function_astack": stack,
        }  # fmt: skip
        for solving, expected in ((renamed, "a"), (dependant, "b")):
            solved = await solve_dependencies(
                request=Request(scope),
                dependant=solving,
                body=body,
                async_exit_stack=stack,
                embed_body_fields=False,
            )
            assert (solved.values, solved.errors) == ({"q": 0, "text": _Other(other=expected)}, [])
    query = _renamed(dependant.query_params[0], "other_q")
    assert request_params_to_args([query], {"qq": "1", "other_q": "2"}) == ({"q": 2}, [])


def test_route_level_dependencies_are_cached_whatever_their_use_cache() -> None:
    calls: list[int] = []

    def counted() -> None:
        calls.append(1)

    app = FastAPI()

    @app.get(
        "/a",
        dependencies=[Depends(counted, use_cache=False), Depends(counted, use_cache=False)],
    )
    def endpoint(value: Any = Depends(counted, use_cache=False)) -> int:
        return len(calls)

    # FastAPI 0.165.0 builds route-level dependencies without their use_cache (its
    # get_parameterless_sub_dependant does not pass it on): the two run once, the parameter's
    # uncached one once more.
    assert TestClient(app).get("/a").json() == 2
    route = app.routes[-1]
    assert [d.use_cache for d in route.dependant.dependencies] == [True, True, False]


class _Text(BaseModel):
    text: str


async def _declared_text() -> Any:
    raise NotImplementedError


async def _declared_body() -> Any:
    raise NotImplementedError


async def _text_from_embedded_body(text: str | dict[str, str] = Body(embed=True)) -> Any:
    return text


async def _body_keys(body: dict[str, Any] = Body()) -> list[str]:
    return sorted(body)


def test_override_with_json_body_parameters_on_a_form_route() -> None:
    app = FastAPI()

    @app.post("/test")
    async def endpoint(
        text: Annotated[_Text, Form()],
        from_dependency: Any = Depends(_declared_text),
        body_keys: Any = Depends(_declared_body),
    ) -> Any:
        return [text.text, from_dependency, body_keys]

    app.dependency_overrides.update(
        {_declared_text: _text_from_embedded_body, _declared_body: _body_keys}
    )
    # FastAPI 0.165.0 still reads the form: an embedded Body() takes its own entry, a lone
    # one that is not embedded takes every entry of the form as one value.
    assert TestClient(app).post("/test", data={"text": "sent"}).json() == [
        "sent",
        "sent",
        ["text"],
    ]


if TYPE_CHECKING:
    from collections import OrderedDict as _OnlyForTypeCheckers


def test_endpoint_annotations_for_type_checkers_only() -> None:
    app = FastAPI()

    @app.post("/param")
    def param(item: _OnlyForTypeCheckers) -> int:
        return 1

    @app.get("/returns")
    def returns() -> _OnlyForTypeCheckers:
        return {"a": 1}  # type: ignore[return-value]

    client = TestClient(app, raise_server_exceptions=False)
    # FastAPI 0.165.0: both routes are declared; the undefined type is not complex, so the
    # parameter is a (missing) query parameter, and the response model fails on a request.
    response = client.post("/param", json={})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "item"]
    assert client.get("/returns").status_code == 500
