"""The benchmark app written as idiomatic Litestar with Pydantic models.

Litestar answers bad input with 400; one exception handler maps that to 422 so that
every app gives the same statuses. ``secret`` is dropped with a DTO, Litestar's own idiom.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.di import Provide
from litestar.dto import DTOConfig
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    PermissionDeniedException,
)
from litestar.params import Parameter
from litestar.plugins.pydantic import PydanticDTO
from litestar.status_codes import HTTP_400_BAD_REQUEST

from bench.apps._data import PLAINTEXT, TOKENS, USERS, Item, UserRow

USER_ROWS = [UserRow.model_validate(row) for row in USERS]


class UserOutDTO(PydanticDTO[UserRow]):
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


def make_app(n_routes: int) -> Litestar:
    """An app of ``n_routes`` routes ``/r{i}/items/{item_id}`` (routing scale)."""
    handlers = []
    for index in range(n_routes):

        async def endpoint(item_id: int) -> dict[str, int]:
            return {"item_id": item_id}

        handlers.append(get(f"/r{index}/items/{{item_id:str}}", name=f"r{index}")(endpoint))
    return Litestar(route_handlers=handlers)
