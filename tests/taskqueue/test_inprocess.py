"""The default: no broker, statuses in memory; the same tasks run in the server process."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from tq_support import free_port

from hasten import BackgroundTasks, FastAPI
from hasten.cli import _run
from hasten.taskqueue import TaskInfo, TaskQueue
from hasten.testclient import TestClient


def _app(queue: TaskQueue) -> FastAPI:
    app = FastAPI()
    app.include_router(queue.router())
    return app


def _wait(client: TestClient, task_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        body: dict[str, Any] = client.get(f"/tasks/{task_id}").json()
        if body["state"] == state:
            return body
        assert time.monotonic() < deadline, f"still {body['state']}, waiting for {state}"
        time.sleep(0.01)


def test_enqueue_runs_in_process_and_reports_success() -> None:
    queue = TaskQueue()
    release = threading.Event()

    @queue.task
    def add(a: int, b: int) -> dict[str, int]:
        release.wait(5)
        return {"sum": a + b}

    app = _app(queue)

    @app.post("/add", status_code=202)
    async def send(a: int, b: int) -> TaskInfo:
        return await add.enqueue(a, b)

    with TestClient(app) as client:
        queued = client.post("/add", params={"a": 2, "b": 3})
        assert queued.status_code == 202
        task_id = queued.json()["id"]
        assert queued.json()["state"] == "queued"
        assert _wait(client, task_id, "running")["attempts"] == 1
        release.set()
        done = _wait(client, task_id, "succeeded")
    assert done["result"] == {"sum": 5}
    assert done["name"].endswith("add") and done["max_retries"] == 3
    assert [event["state"] for event in done["history"]] == ["queued", "running", "succeeded"]


def test_retries_then_success_and_exhausted_retries_are_dead() -> None:
    queue = TaskQueue()
    calls: list[str] = []

    @queue.task(retries=2, min_backoff=0.001)
    async def flaky(token: str) -> str:
        calls.append(token)
        if token == "never" or len([c for c in calls if c == token]) < 3:
            raise ConnectionError(f"try {len(calls)}")
        return token

    app = _app(queue)

    @app.post("/flaky", status_code=202)
    async def send(token: str) -> TaskInfo:
        return await flaky.enqueue(token)

    with TestClient(app) as client:
        ok = _wait(client, client.post("/flaky", params={"token": "ok"}).json()["id"], "succeeded")
        dead = _wait(client, client.post("/flaky", params={"token": "never"}).json()["id"], "dead")
    assert ok["attempts"] == 3 and ok["result"] == "ok" and ok["error"] is None
    states = [event["state"] for event in ok["history"]]
    assert states == [
        "queued",
        "running",
        "retrying",
        "running",
        "retrying",
        "running",
        "succeeded",
    ]
    assert dead["attempts"] == 3 and dead["error"].startswith("ConnectionError: try")


def test_thrown_exceptions_fail_at_once() -> None:
    queue = TaskQueue()

    @queue.task(retries=5, throws=(ValueError,))
    def check(value: int) -> None:
        raise ValueError(f"bad {value}")

    app = _app(queue)

    @app.post("/check", status_code=202)
    async def send(value: int) -> TaskInfo:
        return await check.enqueue(value)

    with TestClient(app) as client:
        failed = _wait(client, client.post("/check", params={"value": 7}).json()["id"], "failed")
    assert failed["attempts"] == 1 and failed["error"] == "ValueError: bad 7"


def test_add_task_runs_the_task_after_the_response() -> None:
    queue = TaskQueue()
    done: list[str] = []

    @queue.task
    async def note(text: str) -> None:
        done.append(text)

    app = _app(queue)

    @app.post("/note")
    async def later(text: str, background_tasks: BackgroundTasks) -> dict[str, bool]:
        background_tasks.add_task(note, text)
        return {"sent": bool(done)}

    with TestClient(app) as client:
        assert client.post("/note", params={"text": "hi"}).json() == {"sent": False}
    assert done == ["hi"]


def test_unknown_task_is_404_in_fastapis_shape() -> None:
    with TestClient(_app(TaskQueue())) as client:
        response = client.get("/tasks/missing")
    assert response.status_code == 404 and response.json() == {"detail": "Task not found"}


def test_unreachable_store_is_a_503() -> None:
    queue = TaskQueue(store_url=f"redis://127.0.0.1:{free_port()}/0")

    @queue.task
    def nothing() -> None:
        pass

    app = _app(queue)

    @app.post("/nothing")
    async def send() -> TaskInfo:
        return await nothing.enqueue()

    with TestClient(app) as client:
        sent = client.post("/nothing")
        read = client.get("/tasks/x")
    assert sent.status_code == 503 and sent.json()["detail"].startswith("The task store is")
    assert read.status_code == 503 and list(read.json()) == ["detail"]


def test_a_broker_needs_a_shared_store() -> None:
    with pytest.raises(ValueError, match="store_url"):
        TaskQueue("amqp://guest:guest@127.0.0.1:5672/")


def test_declaring_a_name_twice_is_an_error() -> None:
    queue = TaskQueue()
    queue.task(name="same")(lambda: None)
    with pytest.raises(ValueError, match="already declared"):
        queue.task(name="same")(lambda: None)


def test_worker_command_refuses_what_it_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["worker", "no_such_module_here:queue"]) == 1
    assert "hasten worker: No module named 'no_such_module_here'" in capsys.readouterr().out
    assert _run(["worker", "hasten.taskqueue:TaskQueue"]) == 1
    assert "is not a hasten.taskqueue.TaskQueue" in capsys.readouterr().out
