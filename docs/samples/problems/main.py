"""Problem Details: errors as application/problem+json (docs/problems.md)."""

# --8<-- [start:app]
from hasten import Hasten, HTTPException
from hasten.problems import Problem, install

app = Hasten()
install(app, type_base="https://example.com/problems")


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    if item_id == 0:
        raise HTTPException(404, detail="Item 0 does not exist")
    return {"item_id": item_id}


@app.post("/purchases/{item_id}")
async def buy(item_id: int) -> None:
    raise Problem(
        403,
        type="out-of-credit",
        title="You do not have enough credit.",
        detail="Your current balance is 30, but that costs 50.",
        balance=30,
    )


# --8<-- [end:app]


def check(client):  # type: ignore[no-untyped-def]
    response = client.get("/items/0")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Item 0 does not exist",
        "instance": "/items/0",
    }
    response = client.get("/items/zero")
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["loc"] == ["path", "item_id"]
    assert problem["errors"][0]["type"] == "int_parsing"
    response = client.post("/purchases/1")
    assert response.json() == {
        "type": "https://example.com/problems/out-of-credit",
        "title": "You do not have enough credit.",
        "status": 403,
        "detail": "Your current balance is 30, but that costs 50.",
        "instance": "/purchases/1",
        "balance": 30,
    }
