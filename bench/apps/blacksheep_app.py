"""The benchmark app written as idiomatic BlackSheep 2.6 with the Pydantic models.

Handlers declare typed parameters that BlackSheep binds (route, query, ``FromJSON``) and return
plain values or models, which BlackSheep serializes. BlackSheep answers bad input with 400; one
exception handler maps that to 422 so that every app gives the same statuses. BlackSheep has
no per-request dependency chain (its container, rodi, resolves services by type), so
``/deps`` uses its idiom for a value computed from the request, a custom binder, which runs
the same three steps as the other apps' dependencies: header, user lookup (401), role (403).
The ``limit`` range is checked in the handler, since query binders carry no constraints.
"""

from __future__ import annotations

import logging
from typing import Any

from blacksheep import Application, Request, Response
from blacksheep.exceptions import BadRequest, Forbidden, Unauthorized
from blacksheep.server.bindings import Binder, BoundValue, FromJSON, MissingParameterError
from blacksheep.server.responses import json, text
from blacksheep.server.routing import Router

from bench.apps._data import PLAINTEXT, TOKENS, USERS, Item, UserOut

router = Router()
app = Application(router=router)
# BlackSheep logs every 4xx answer at INFO; the other apps log none (no benchmarked request
# is an error, this only keeps the semantic check's output readable).
logging.getLogger("blacksheep.server").setLevel(logging.WARNING)


@app.exception_handler(400)
async def unprocessable(app: Application, request: Request, exc: BadRequest) -> Response:
    """Answer 422 where BlackSheep answers 400 (bad parameters, bodies, undecodable JSON)."""
    return json({"detail": str(exc)}, status=422)


@router.get("/plaintext")
async def plaintext() -> Response:
    return text(PLAINTEXT)


@router.get("/json")
async def json_message() -> dict[str, str]:
    return {"message": "Hello, World!"}


@router.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None, limit: int = 10) -> dict[str, Any]:
    if not 1 <= limit <= 100:
        raise BadRequest("limit must be between 1 and 100")
    return {"item_id": item_id, "q": q, "limit": limit}


@router.post("/items")
async def create_item(item: FromJSON[Item]) -> Response:
    return json(item.value, status=201)


async def get_token(request: Request) -> str:
    token = request.get_first_header(b"x-token")
    if token is None:
        raise MissingParameterError("x-token", "header")
    return token.decode()


async def get_user(token: str) -> dict[str, str]:
    user = TOKENS.get(token)
    if user is None:
        raise Unauthorized("Unknown token")
    return user


async def require_admin(user: dict[str, str]) -> dict[str, str]:
    if user["role"] != "admin":
        raise Forbidden("Not enough permissions")
    return user


class FromAdmin(BoundValue[dict[str, str]]):
    """The signed-in user, who must have the admin role."""


class AdminBinder(Binder):
    """Binds ``FromAdmin``: header, then user lookup, then role check."""

    handle = FromAdmin

    async def get_value(self, request: Request) -> dict[str, str]:
        return await require_admin(await get_user(await get_token(request)))


@router.get("/deps")
async def deps(admin: FromAdmin) -> dict[str, str]:
    return {"user": admin.value["name"], "role": admin.value["role"]}


@router.get("/users")
async def list_users() -> list[UserOut]:
    return [UserOut.model_validate(row) for row in USERS]


def make_app(n_routes: int) -> Application:
    """An app of ``n_routes`` routes ``/r{i}/items/{item_id}`` (routing scale)."""
    own = Router()  # an Application needs a router no other Application uses
    for index in range(n_routes):

        async def endpoint(item_id: int) -> dict[str, int]:
            return {"item_id": item_id}

        own.get(f"/r{index}/items/{{item_id}}")(endpoint)
    return Application(router=own)
