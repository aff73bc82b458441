"""Getting started: a small items API (docs/getting-started.md)."""

# --8<-- [start:app]
from typing import Annotated

from pydantic import BaseModel, Field

from hasten import Depends, Hasten, Header, HTTPException, Query

app = Hasten(title="Items")


class Item(BaseModel):
    name: str = Field(min_length=1)
    price: float = Field(gt=0)


ITEMS: dict[int, Item] = {}


def require_token(x_token: Annotated[str | None, Header()] = None) -> str:
    if x_token != "secret":
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Token"})
    return x_token


@app.put("/items/{item_id}", status_code=201)
def put_item(item_id: int, item: Item, token: Annotated[str, Depends(require_token)]) -> Item:
    ITEMS[item_id] = item
    return item


@app.get("/items/{item_id}")
def get_item(item_id: int) -> Item:
    if item_id not in ITEMS:
        raise HTTPException(404, "Item not found")
    return ITEMS[item_id]


@app.get("/items/")
def list_items(limit: Annotated[int, Query(ge=1, le=100)] = 10) -> list[Item]:
    return list(ITEMS.values())[:limit]


# --8<-- [end:app]


def check(client) -> None:
    """What the page says about this app, asserted (run by tests/docs/test_samples.py)."""
    ITEMS.clear()
    auth = {"X-Token": "secret"}
    created = client.put("/items/1", json={"name": "pen", "price": 1.5}, headers=auth)
    assert created.status_code == 201
    assert created.json() == {"name": "pen", "price": 1.5}
    assert client.put("/items/2", json={"name": "cap", "price": 2}).status_code == 401
    assert client.get("/items/1").json() == {"name": "pen", "price": 1.5}
    assert client.get("/items/9").json() == {"detail": "Item not found"}
    bad = client.get("/items/", params={"limit": 0})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "limit"]
    assert client.get("/openapi.json").json()["info"]["title"] == "Items"
