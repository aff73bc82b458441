"""Exceptions that reach the app's handlers after the response has started."""

from __future__ import annotations

import traceback

import pytest

from hasten import BackgroundTasks, FastAPI, HTTPException
from hasten.testclient import TestClient


def fail_in_background() -> None:
    raise HTTPException(status_code=503, detail="too late to answer")


def test_http_exception_from_a_background_task_keeps_its_traceback() -> None:
    app = FastAPI()

    @app.get("/")
    def endpoint(tasks: BackgroundTasks) -> str:
        tasks.add_task(fail_in_background)
        return "ok"

    with pytest.raises(RuntimeError, match="response already started") as caught:
        TestClient(app).get("/")

    cause = caught.value.__cause__
    assert isinstance(cause, HTTPException)
    frames = [frame.name for frame in traceback.extract_tb(cause.__traceback__)]
    assert frames[-1] == "fail_in_background"


def test_the_response_was_sent_before_the_background_failure() -> None:
    app = FastAPI()

    @app.get("/")
    def endpoint(tasks: BackgroundTasks) -> str:
        tasks.add_task(fail_in_background)
        return "ok"

    response = TestClient(app, raise_server_exceptions=False).get("/")

    assert (response.status_code, response.json()) == (200, "ok")
