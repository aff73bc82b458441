"""A 405 names the methods a path declares: every matching route's on ``Hasten``, the first
matching route's on ``FastAPI`` (FastAPI 0.165's and Starlette's answer, kept exactly)."""

from typing import Any

import pytest

from hasten import APIRouter, FastAPI, Hasten, HTTPException, Request
from hasten.responses import JSONResponse
from hasten.testclient import TestClient


def _app(cls: type[Hasten]) -> Hasten:
    app = cls()

    @app.get("/items/{item_id}")
    def read(item_id: int) -> int:
        return item_id

    router = APIRouter()

    @router.delete("/items/{item_id}")
    def remove(item_id: int) -> None:
        return None

    @router.patch("/items/{item_id}")
    def change(item_id: int) -> int:
        return item_id

    app.include_router(router)

    @app.post("/single")
    def single() -> str:
        return "ok"

    return app


def _allow(response: Any) -> list[str]:
    return [m.strip() for m in response.headers["allow"].split(",")]


def test_hasten_names_every_route_matching_the_path() -> None:
    client = TestClient(_app(Hasten))
    response = client.put("/items/1")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert sorted(_allow(response)) == ["DELETE", "GET", "PATCH"]
    # the routes still answer their own methods
    assert client.delete("/items/1").status_code == 200
    assert client.patch("/items/1").json() == 1


def test_fastapi_keeps_the_first_matching_routes_allow() -> None:
    response = TestClient(_app(FastAPI)).put("/items/1")
    assert response.status_code == 405
    assert _allow(response) == ["GET"]


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_one_route_per_path_is_unchanged(cls: type[Hasten]) -> None:
    response = TestClient(_app(cls)).get("/single")
    assert response.status_code == 405
    assert _allow(response) == ["POST"]


def test_an_apps_own_405_handler_still_answers() -> None:
    app = _app(Hasten)

    @app.exception_handler(405)
    async def custom(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"custom": True}, status_code=405, headers=exc.headers)

    response = TestClient(app).put("/items/1")
    assert response.json() == {"custom": True}
    assert sorted(_allow(response)) == ["DELETE", "GET", "PATCH"]


def test_an_answer_without_allow_is_left_alone() -> None:
    app = _app(Hasten)

    @app.exception_handler(405)
    async def bare(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"bare": True}, status_code=405)

    response = TestClient(app).put("/items/1")
    assert response.status_code == 405 and "allow" not in response.headers
