"""/products: CRUD, validation messages, pagination and filters, RBAC on writes."""

from __future__ import annotations

from typing import Any

import pytest
from shop_support import Shop

from hasten.testclient import TestClient

VALID = {
    "sku": "ABC-12345",
    "name": "Teapot",
    "description": "A cast-iron teapot, one litre.",
    "price": "25.00",
    "stock": 3,
}


def test_create_read_update_delete(shop: Shop, client: TestClient) -> None:
    admin = shop.admin()
    body = {**VALID, "name": "  Big   teapot ", "cost": "9.99", "internal_notes": "supplier X"}
    created = client.post("/products", json=body, headers=admin)
    assert created.status_code == 201, created.text
    product = created.json()
    assert product == {
        "id": product["id"],
        "sku": "ABC-12345",
        "name": "Big teapot",
        "description": "A cast-iron teapot, one litre.",
        "price": "25.00",
        "stock": 3,
    }
    # Internal fields are stored but never shown.
    shown = client.get(f"/products/{product['id']}").json()
    assert "cost" not in shown and "internal_notes" not in shown and "deleted_at" not in shown
    assert shown == product

    patched = client.patch(
        f"/products/{product['id']}", json={"price": "19.90", "stock": 7}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["price"] == "19.90" and patched.json()["stock"] == 7
    assert patched.json()["name"] == "Big teapot"

    deleted = client.delete(f"/products/{product['id']}", headers=admin)
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(f"/products/{product['id']}").status_code == 404
    assert client.get("/products").json()["total"] == 0


def test_prices_are_normalised_to_cents(shop: Shop, client: TestClient) -> None:
    product = shop.product(shop.admin(), price="1e3")
    assert product["price"] == "1000.00"
    assert client.get(f"/products/{product['id']}").json()["price"] == "1000.00"


def test_duplicate_sku_is_409(shop: Shop, client: TestClient) -> None:
    admin = shop.admin()
    shop.product(admin, sku="ABC-12345")
    response = client.post("/products", json={**VALID, "sku": "ABC-12345"}, headers=admin)
    assert response.status_code == 409
    assert response.json() == {"detail": "SKU ABC-12345 is already used"}


def test_missing_product_is_404(shop: Shop, client: TestClient) -> None:
    admin = shop.admin()
    assert client.get("/products/999").json() == {"detail": "Product not found"}
    assert client.get("/products/999").status_code == 404
    assert client.patch("/products/999", json={"stock": 1}, headers=admin).status_code == 404
    assert client.delete("/products/999", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"price": "0"}, "price", "Value error, price must be positive"),
        ({"price": "-3.5"}, "price", "Value error, price must be positive"),
        ({"price": "1.999"}, "price", "Value error, price must have at most two decimal places"),
        (
            {"sku": "abc-12345"},
            "sku",
            "Value error, SKU must match ABC-12345: three capital letters, a dash and five digits",
        ),
        (
            {"sku": "ABCD-1234"},
            "sku",
            "Value error, SKU must match ABC-12345: three capital letters, a dash and five digits",
        ),
        (
            {"description": "too short"},
            "description",
            "Value error, description must be between 10 and 1000 characters (got 9)",
        ),
        (
            {"description": "x" * 1001},
            "description",
            "Value error, description must be between 10 and 1000 characters (got 1001)",
        ),
        ({"name": "   "}, "name", "Value error, name must not be blank"),
        ({"stock": -1}, "stock", "Input should be greater than or equal to 0"),
        ({"price": "NaN"}, "price", "Input should be a finite number"),
    ],
)
def test_each_validator_answers_422(
    shop: Shop, client: TestClient, changes: dict[str, Any], field: str, message: str
) -> None:
    response = client.post("/products", json={**VALID, **changes}, headers=shop.admin())
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [(e["loc"], e["msg"]) for e in errors] == [(["body", field], message)]


def test_update_rules_and_nulls(shop: Shop, client: TestClient) -> None:
    admin = shop.admin()
    product = shop.product(admin)
    bad_price = client.patch(f"/products/{product['id']}", json={"price": "0"}, headers=admin)
    assert bad_price.status_code == 422
    assert bad_price.json()["detail"][0]["msg"] == "Value error, price must be positive"
    null_name = client.patch(f"/products/{product['id']}", json={"name": None}, headers=admin)
    assert null_name.status_code == 422
    assert null_name.json()["detail"][0]["msg"] == "Value error, name cannot be null"


def test_pagination_and_filters(shop: Shop, client: TestClient) -> None:
    admin = shop.admin()
    for i, (name, price, stock) in enumerate(
        [("Red mug", "5.00", 1), ("Blue mug", "7.50", 0), ("Teapot", "30.00", 2)]
    ):
        shop.product(admin, sku=f"MUG-0000{i}", name=name, price=price, stock=stock)

    page = client.get("/products", params={"limit": 2, "offset": 0}).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
    assert [p["name"] for p in page["items"]] == ["Red mug", "Blue mug"]
    page2 = client.get("/products", params={"limit": 2, "offset": 2}).json()
    assert [p["name"] for p in page2["items"]] == ["Teapot"]

    def names(**params: Any) -> list[str]:
        response = client.get("/products", params=params)
        assert response.status_code == 200, response.text
        return [p["name"] for p in response.json()["items"]]

    assert names(q="MUG") == ["Red mug", "Blue mug"]
    assert names(q="%") == []  # LIKE wildcards in q are matched literally
    assert names(min_price="6") == ["Blue mug", "Teapot"]
    assert names(max_price="7.50") == ["Red mug", "Blue mug"]
    assert names(in_stock="true") == ["Red mug", "Teapot"]
    assert names(in_stock="false") == ["Blue mug"]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 101}, ["query", "limit"]),
        ({"offset": -1}, ["query", "offset"]),
        ({"min_price": "x"}, ["query", "min_price"]),
    ],
)
def test_bad_query_parameters_are_422(
    client: TestClient, params: dict[str, Any], loc: list[str]
) -> None:
    response = client.get("/products", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_inverted_price_range_is_422(client: TestClient) -> None:
    response = client.get("/products", params={"min_price": "10", "max_price": "1"})
    assert response.status_code == 422
    assert "min_price must not exceed max_price" in response.json()["detail"][0]["msg"]


def test_writes_need_a_token_and_a_role(shop: Shop, client: TestClient) -> None:
    no_token = client.post("/products", json=VALID)
    assert no_token.status_code == 401
    assert no_token.headers["www-authenticate"] == "Bearer"
    assert no_token.json() == {"detail": "Not authenticated"}

    customer = shop.user("carol")
    forbidden = client.post("/products", json=VALID, headers=customer)
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "This action requires one of the roles: admin, staff"}

    staff = shop.user("sam", role="staff")
    product = shop.product(staff)  # staff may create (RoleChecker(["admin", "staff"]))
    assert client.patch(f"/products/{product['id']}", json={"stock": 1}, headers=staff).is_success

    # DELETE is admin only: get_db -> get_current_user -> require_admin.
    assert client.delete(f"/products/{product['id']}").status_code == 401
    for headers in (customer, staff):
        denied = client.delete(f"/products/{product['id']}", headers=headers)
        assert denied.status_code == 403
        assert denied.json() == {"detail": "Admin privileges required"}
    assert client.get(f"/products/{product['id']}").status_code == 200
    assert client.delete(f"/products/{product['id']}", headers=shop.admin()).status_code == 204
