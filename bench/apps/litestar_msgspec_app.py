"""The benchmark app written as idiomatic Litestar with msgspec Structs (Litestar's native
models). Same routes, constraints and statuses as the Pydantic apps; validation failures are
mapped from Litestar's 400 to 422, and ``secret`` is dropped with a DTO.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.di import Provide
from litestar.dto import DTOConfig, MsgspecDTO
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    PermissionDeniedException,
)
from litestar.params import Parameter
from litestar.status_codes import HTTP_400_BAD_REQUEST

from bench.apps._data import PLAINTEXT, TOKENS, USERS

Positive = Annotated[float, msgspec.Meta(gt=0)]


class Dimensions(msgspec.Struct):
    width: Positive
    height: Positive


class Item(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    price: Positive
    dimensions: Dimensions
    tags: list[str] = []


class UserRow(msgspec.Struct):
    id: int
    name: str
    email: str
    secret: str


USER_ROWS = [msgspec.convert(row, UserRow) for row in USERS]


class UserOutDTO(MsgspecDTO[UserRow]):
    config = DTOConfig(exclude={"secret"})


def unprocessable(request: Request[Any, Any, Any], exc: ClientException) -> Response[Any]:
    """Answer 422 where Litestar answers 400 (bad parameters, bodies, undecodable JSON)."""
    return Response({"detail": exc.detail, "extra": exc.extra}, status_code=422)


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return PLAINTEXT


@get("/json")
async def json_message() -> dict[str, str]:
    return {"message": "Hello, World!"}


# `{item_id:int}` would answer 404 to /items/abc; the others validate the int and answer 422.
@get("/items/{item_id:str}")
async def read_item(
    item_id: int,
    q: str | None = None,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "limit": limit}


@post("/items")
async def create_item(data: Item) -> Item:
    return data


async def get_token(x_token: Annotated[str, Parameter(header="x-token")]) -> str:
    return x_token


async def get_user(token: str) -> dict[str, str]:
    user = TOKENS.get(token)
    if user is None:
        raise NotAuthorizedException("Unknown token")
    return user


async def require_admin(user: dict[str, str]) -> dict[str, str]:
    if user["role"] != "admin":
        raise PermissionDeniedException("Not enough permissions")
    return user


@get(
    "/deps",
    dependencies={
        "token": Provide(get_token),
        "user": Provide(get_user),
        "admin": Provide(require_admin),
    },
)
async def deps(admin: dict[str, str]) -> dict[str, str]:
    return {"user": admin["name"], "role": admin["role"]}


@get("/users", return_dto=UserOutDTO)
async def list_users() -> list[UserRow]:
    return USER_ROWS


app = Litestar(
    route_handlers=[plaintext, json_message, read_item, create_item, deps, list_users],
    exception_handlers={HTTP_400_BAD_REQUEST: unprocessable},
)
