"""Getting started: the app's tests, as a user writes them (docs/getting-started.md)."""

from main import ITEMS, app

from hasten.testclient import TestClient

client = TestClient(app)


def test_put_then_get() -> None:
    ITEMS.clear()
    response = client.put(
        "/items/1", json={"name": "pen", "price": 1.5}, headers={"X-Token": "secret"}
    )
    assert response.status_code == 201
    assert client.get("/items/1").json() == {"name": "pen", "price": 1.5}


def test_token_required() -> None:
    response = client.put("/items/1", json={"name": "pen", "price": 1.5})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Token"


def test_price_must_be_positive() -> None:
    response = client.put(
        "/items/1", json={"name": "pen", "price": 0}, headers={"X-Token": "secret"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "price"]
