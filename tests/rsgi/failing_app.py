"""An app whose lifespan startup fails: served over RSGI, the worker must not serve."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hasten import Hasten


@asynccontextmanager
async def lifespan(app: Hasten) -> AsyncIterator[None]:
    raise RuntimeError("the database is unreachable")
    yield


app = Hasten(lifespan=lifespan)


@app.get("/")
def home() -> str:
    return "should never answer"
