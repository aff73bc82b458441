"""The demo app (examples/demo/main.py): every endpoint and error path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.demo import main as demo
from hasten.testclient import TestClient

ADMIN = {"X-Token": "alice-token"}
PLAIN_USER = {"X-Token": "bob-token"}
ITEM = {"name": "Hammer", "description": "Heavy", "price": 9.5, "tags": ["tools"]}


@pytest.fixture
def client() -> Iterator[TestClient]:
    demo.reset_state()
    with TestClient(demo.app) as client:
        yield client
    demo.reset_state()


def create(client: TestClient, **changes: object) -> dict[str, object]:
    response = client.post("/items/", json={**ITEM, **changes}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello from Hasten", "docs": "/docs"}


def test_create_item_returns_201_and_the_response_model(client: TestClient) -> None:
    response = client.post("/items/", json={"name": "Saw", "price": 3, "extra": 1}, headers=ADMIN)
    assert response.status_code == 201
    assert response.json() == {
        "id": 1,
        "name": "Saw",
        "description": None,
        "price": 3.0,
        "tags": [],
    }


def test_read_item(client: TestClient) -> None:
    created = create(client)
    response = client.get(f"/items/{created['id']}")
    assert response.status_code == 200
    assert response.json() == {"id": 1, **ITEM}


def test_read_missing_item_is_404(client: TestClient) -> None:
    response = client.get("/items/42")
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


def test_item_id_must_be_an_int(client: TestClient) -> None:
    response = client.get("/items/abc")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "abc",
            }
        ]
    }


def test_item_id_must_be_positive(client: TestClient) -> None:
    response = client.get("/items/0")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "greater_than_equal",
                "loc": ["path", "item_id"],
                "msg": "Input should be greater than or equal to 1",
                "input": "0",
                "ctx": {"ge": 1},
            }
        ]
    }


def test_list_items_with_query_filters(client: TestClient) -> None:
    create(client, name="Hammer")
    create(client, name="Saw")
    create(client, name="Sledgehammer")
    assert [i["name"] for i in client.get("/items/").json()] == ["Hammer", "Saw", "Sledgehammer"]
    assert [i["name"] for i in client.get("/items/?q=hammer").json()] == [
        "Hammer",
        "Sledgehammer",
    ]
    assert [i["id"] for i in client.get("/items/", params={"skip": 1, "limit": 1}).json()] == [2]


def test_list_items_validates_query_constraints(client: TestClient) -> None:
    response = client.get("/items/", params={"limit": 0, "skip": -1})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "greater_than_equal",
                "loc": ["query", "skip"],
                "msg": "Input should be greater than or equal to 0",
                "input": "-1",
                "ctx": {"ge": 0},
            },
            {
                "type": "greater_than_equal",
                "loc": ["query", "limit"],
                "msg": "Input should be greater than or equal to 1",
                "input": "0",
                "ctx": {"ge": 1},
            },
        ]
    }


def test_create_item_validates_the_body(client: TestClient) -> None:
    response = client.post("/items/", json={"name": "", "price": 0}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "string_too_short",
                "loc": ["body", "name"],
                "msg": "String should have at least 1 character",
                "input": "",
                "ctx": {"min_length": 1},
            },
            {
                "type": "greater_than",
                "loc": ["body", "price"],
                "msg": "Input should be greater than 0",
                "input": 0,
                "ctx": {"gt": 0.0},
            },
        ]
    }


def test_create_item_with_missing_body(client: TestClient) -> None:
    response = client.post("/items/", headers=ADMIN)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    }


def test_replace_item(client: TestClient) -> None:
    create(client)
    response = client.put("/items/1", json={"name": "Mallet", "price": 4}, headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {
        "id": 1,
        "name": "Mallet",
        "description": None,
        "price": 4.0,
        "tags": [],
    }
    assert client.get("/items/1").json()["name"] == "Mallet"


def test_replace_missing_item_is_404(client: TestClient) -> None:
    response = client.put("/items/7", json=ITEM, headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


def test_delete_item(client: TestClient) -> None:
    create(client)
    response = client.delete("/items/1", headers=ADMIN)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/items/1").status_code == 404
    assert client.delete("/items/1", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/items/"), ("put", "/items/1"), ("delete", "/items/1")],
)
def test_writes_without_token_are_401(client: TestClient, method: str, path: str) -> None:
    kwargs = {"json": ITEM} if method != "delete" else {}
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Token"


def test_unknown_token_is_401(client: TestClient) -> None:
    response = client.post("/items/", json=ITEM, headers={"X-Token": "nope"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token"}
    assert response.headers["www-authenticate"] == "Token"


def test_user_without_admin_role_is_403(client: TestClient) -> None:
    response = client.post("/items/", json=ITEM, headers=PLAIN_USER)
    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}
    assert "www-authenticate" not in response.headers
    assert client.get("/items/").json() == []


def test_dependencies_run_before_the_body_is_validated(client: TestClient) -> None:
    # As in FastAPI, sub-dependencies are solved (and called) before the endpoint's own body
    # is validated: without a token, an invalid body still answers 401.
    response = client.post("/items/", json={"price": "x"})
    assert response.status_code == 401
    response = client.post("/items/", json={"price": "x"}, headers=ADMIN)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "name"], ["body", "price"]]


def test_users_me(client: TestClient) -> None:
    assert client.get("/users/me", headers=PLAIN_USER).json() == {"username": "bob", "roles": []}
    assert client.get("/users/me").status_code == 401


def test_background_task_writes_the_audit_log(client: TestClient) -> None:
    assert client.get("/audit").json() == []
    create(client)
    create(client)
    assert client.get("/audit").json() == ["alice created item 1", "alice created item 2"]


def test_failed_request_runs_no_background_task(client: TestClient) -> None:
    client.post("/items/", json=ITEM, headers=PLAIN_USER)
    assert client.get("/audit").json() == []


def test_generator_dependency_teardown_runs(client: TestClient) -> None:
    assert client.get("/db/stats").json() == {"opened": 0, "closed": 0}
    create(client)
    client.get("/items/1")
    client.get("/items/999")  # the 404 raised in the endpoint still closes the session
    assert client.get("/db/stats").json() == {"opened": 3, "closed": 3}


def test_router_prefix_and_tags_reach_the_routes() -> None:
    paths = {route.path: route for route in demo.app.routes if hasattr(route, "tags")}
    assert paths["/items/"].tags == ["items"]  # type: ignore[attr-defined]
    assert paths["/items/{item_id}"].tags == ["items"]  # type: ignore[attr-defined]
    assert paths["/audit"].tags == ["meta"]  # type: ignore[attr-defined]
