"""Migrating, way 1: the same app with Hasten's import (README "Migrating from FastAPI")."""

from hasten import Depends, FastAPI  # was: from fastapi import Depends, FastAPI
from hasten.responses import JSONResponse  # was: from fastapi.responses import JSONResponse

app = FastAPI()


def common(q: str | None = None) -> dict[str, str | None]:
    return {"q": q}


@app.get("/items/{item_id}")
def read_item(item_id: int, params: dict = Depends(common)) -> dict:
    return {"item_id": item_id, **params}


@app.get("/teapot", response_class=JSONResponse)
def teapot() -> JSONResponse:
    return JSONResponse({"tea": True}, status_code=418)


def check(client) -> None:
    """FastAPI's answers, from Hasten (run by tests/docs/test_samples.py)."""
    assert client.get("/items/3", params={"q": "x"}).json() == {"item_id": 3, "q": "x"}
    assert client.get("/items/three").json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "three",
            }
        ]
    }
    response = client.get("/teapot")
    assert (response.status_code, response.json()) == (418, {"tea": True})
    # FastAPI's defaults: the docs load Swagger UI from the CDN, as FastAPI's do.
    assert "cdn.jsdelivr.net" in client.get("/docs").text
