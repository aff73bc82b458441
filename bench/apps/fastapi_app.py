"""The benchmark app written as idiomatic FastAPI (bench/apps/hasten_app.py is the same code)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query
from fastapi.responses import PlainTextResponse

from bench.apps._data import PLAINTEXT, TOKENS, USERS, Item, UserOut

app = FastAPI()


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return PLAINTEXT


@app.get("/json")
async def json_message() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/items/{item_id}")
async def read_item(
    item_id: int,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "limit": limit}


@app.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


async def get_token(x_token: Annotated[str, Header()]) -> str:
    return x_token


async def get_user(token: Annotated[str, Depends(get_token)]) -> dict[str, str]:
    user = TOKENS.get(token)
    if user is None:
        raise HTTPException(status_code=401, detail="Unknown token")
    return user


async def require_admin(user: Annotated[dict[str, str], Depends(get_user)]) -> dict[str, str]:
    if user["role"] != "admin":
        raise HTTPException(status_code=403, detail="Not enough permissions")
    return user


@app.get("/deps")
async def deps(user: Annotated[dict[str, str], Depends(require_admin)]) -> dict[str, str]:
    return {"user": user["name"], "role": user["role"]}


@app.get("/users", response_model=list[UserOut])
async def list_users() -> Any:
    return USERS


def make_app(n_routes: int) -> FastAPI:
    """An app of ``n_routes`` routes ``/r{i}/items/{item_id}`` (routing scale)."""
    scaled = FastAPI()
    for index in range(n_routes):

        async def endpoint(item_id: int) -> dict[str, int]:
            return {"item_id": item_id}

        scaled.get(f"/r{index}/items/{{item_id}}", name=f"r{index}")(endpoint)
    return scaled


def make_startup_app(n_routes: int) -> FastAPI:
    """An app of ``n_routes`` routes with path, query and body parameters (startup cost)."""
    big = FastAPI()
    for index in range(n_routes):

        async def endpoint(
            item_id: int,
            item: Item,
            q: str | None = None,
            limit: Annotated[int, Query(ge=1, le=100)] = 10,
        ) -> Item:
            return item

        big.post(f"/r{index}/items/{{item_id}}", name=f"r{index}")(endpoint)
    return big
