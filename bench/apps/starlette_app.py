"""The Starlette "floor": the same API hand-written on Starlette + Pydantic.

What a framework built on Starlette could reach at best: no dependency injection and no
signature analysis, but the same work done honestly on every request — path and query
parameters and the body validated with Pydantic (422 on failure), the header → user (401) →
role (403) chain, ``secret`` filtered by validating into ``list[UserOut]``, and every JSON body
serialized by Pydantic's ``dump_json``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bench.apps._data import PLAINTEXT, TOKENS, USERS, Item, UserOut

_JSON = "application/json"
_any_json: TypeAdapter[Any] = TypeAdapter(Any)
_message: TypeAdapter[dict[str, str]] = TypeAdapter(dict[str, str])
_users: TypeAdapter[list[UserOut]] = TypeAdapter(list[UserOut])


class _ItemParams(BaseModel):
    item_id: int
    q: str | None = None
    limit: int = Field(default=10, ge=1, le=100)


class _HTTPError(Exception):
    def __init__(self, status_code: int, detail: Any) -> None:
        self.status_code = status_code
        self.detail = detail


def _error(status_code: int, detail: Any) -> Response:
    return Response(_any_json.dump_json({"detail": detail}), status_code, media_type=_JSON)


def _validation_error(exc: ValidationError) -> Response:
    return _error(422, exc.errors(include_url=False, include_context=False))


async def plaintext(request: Request) -> Response:
    return PlainTextResponse(PLAINTEXT)


async def json_message(request: Request) -> Response:
    return Response(_message.dump_json({"message": "Hello, World!"}), media_type=_JSON)


async def read_item(request: Request) -> Response:
    query = request.query_params
    try:
        params = _ItemParams.model_validate(
            {
                "item_id": request.path_params["item_id"],
                "q": query.get("q"),
                "limit": query.get("limit", 10),
            }
        )
    except ValidationError as exc:
        return _validation_error(exc)
    return Response(params.model_dump_json(), media_type=_JSON)


async def create_item(request: Request) -> Response:
    try:
        item = Item.model_validate_json(await request.body())
    except ValidationError as exc:
        return _validation_error(exc)
    return Response(item.model_dump_json(), 201, media_type=_JSON)


def _get_token(request: Request) -> str:
    token = request.headers.get("x-token")
    if token is None:
        raise _HTTPError(422, [{"type": "missing", "loc": ["header", "x-token"]}])
    return token


def _get_user(token: str) -> dict[str, str]:
    user = TOKENS.get(token)
    if user is None:
        raise _HTTPError(401, "Unknown token")
    return user


def _require_admin(user: dict[str, str]) -> dict[str, str]:
    if user["role"] != "admin":
        raise _HTTPError(403, "Not enough permissions")
    return user


async def deps(request: Request) -> Response:
    try:
        user = _require_admin(_get_user(_get_token(request)))
    except _HTTPError as exc:
        return _error(exc.status_code, exc.detail)
    return Response(
        _message.dump_json({"user": user["name"], "role": user["role"]}), media_type=_JSON
    )


async def list_users(request: Request) -> Response:
    return Response(_users.dump_json(_users.validate_python(USERS)), media_type=_JSON)


app = Starlette(
    routes=[
        Route("/plaintext", plaintext),
        Route("/json", json_message),
        Route("/items/{item_id}", read_item),
        Route("/items", create_item, methods=["POST"]),
        Route("/deps", deps),
        Route("/users", list_users),
    ]
)

_route_out: TypeAdapter[dict[str, int]] = TypeAdapter(dict[str, int])
_route_param: TypeAdapter[int] = TypeAdapter(int)


def make_app(n_routes: int) -> Starlette:
    """An app of ``n_routes`` routes ``/r{i}/items/{item_id}`` (routing scale)."""

    async def endpoint(request: Request) -> Response:
        try:
            item_id = _route_param.validate_python(request.path_params["item_id"])
        except ValidationError as exc:
            return _validation_error(exc)
        return Response(_route_out.dump_json({"item_id": item_id}), media_type=_JSON)

    return Starlette(
        routes=[
            Route(f"/r{index}/items/{{item_id}}", endpoint, name=f"r{index}")
            for index in range(n_routes)
        ]
    )
