# ruff: noqa: E402  (the alias is installed before `fastapi` is imported, as the README shows)
"""Migrating, way 2 in-process: `import fastapi` answered by Hasten (README "Migrating from FastAPI")."""

import hasten.compat

hasten.compat.install()  # `import fastapi` now returns Hasten's modules
from fastapi import FastAPI  # this is hasten.FastAPI

app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, str]:
    return {"ping": "pong"}


def check(client) -> None:
    """The app is Hasten's, reached through `fastapi` (run by tests/docs/test_samples.py)."""
    import fastapi.routing

    import hasten.routing

    assert FastAPI is hasten.FastAPI
    assert fastapi.routing is hasten.routing
    assert client.get("/ping").json() == {"ping": "pong"}
