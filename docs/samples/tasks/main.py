"""Tasks in-process by default, on RabbitMQ when configured (docs/tasks.md)."""

# --8<-- [start:app]
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hasten import BackgroundTasks, Hasten
from hasten.taskqueue import TaskInfo, TaskQueue

# Nothing configured: tasks run in this process, statuses in its memory.
# TASKS_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/ and TASKS_STORE_URL=redis://127.0.0.1:6379/0
# send them to RabbitMQ (`hasten worker main:queue` runs them) and keep statuses in Redis.
queue = TaskQueue(
    os.environ.get("TASKS_BROKER_URL"),
    store_url=os.environ.get("TASKS_STORE_URL"),
    queue_name=os.environ.get("TASKS_QUEUE", "emails"),
)


@queue.task(name="send_welcome", retries=3, min_backoff=1.0)
async def send_welcome(email: str) -> dict[str, str]:
    # ... talk to the mail service; an exception is retried (1 s, 2 s, 4 s), then dead-lettered
    return {"sent_to": email}


@asynccontextmanager
async def lifespan(app: Hasten) -> AsyncIterator[None]:
    yield
    await queue.aclose()


app = Hasten(lifespan=lifespan)
app.include_router(queue.router())  # GET /tasks/{task_id}


@app.post("/signup", status_code=202)
async def signup(email: str) -> TaskInfo:
    return await send_welcome.enqueue(email)  # sent now; 503 when the broker is unreachable


@app.post("/signup-later")
async def signup_later(email: str, background_tasks: BackgroundTasks) -> dict[str, bool]:
    background_tasks.add_task(send_welcome, email)  # FastAPI code: sent after the response
    return {"accepted": True}


# --8<-- [end:app]


def check(client):  # type: ignore[no-untyped-def]
    import time

    task = client.post("/signup", params={"email": "ada@example.com"}).json()
    assert task["state"] == "queued" and task["name"] == "send_welcome"
    deadline = time.monotonic() + 10
    while (status := client.get(f"/tasks/{task['id']}").json())["state"] != "succeeded":
        assert time.monotonic() < deadline, status
        time.sleep(0.01)
    assert status["result"] == {"sent_to": "ada@example.com"} and status["attempts"] == 1
    assert client.post("/signup-later", params={"email": "bob@example.com"}).json() == {
        "accepted": True
    }
    assert client.get("/tasks/unknown").status_code == 404
