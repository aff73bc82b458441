"""A task queued by one server process, run by a real worker process, read from another server.

Against the real RabbitMQ (Dramatiq's broker) and Redis (the status store); see conftest.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import redis
from tq_support import Env, dead_letters, free_port, wait_until

# Process start-ups take seconds, much longer on a loaded machine: the deadlines inside are
# generous bounds, and so is the test timeout.
pytestmark = pytest.mark.timeout(150)


def _status(url: str, task_id: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/tasks/{task_id}", timeout=5)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _wait_state(url: str, task_id: str, state: str, timeout: float = 20) -> dict[str, Any]:
    seen: list[str] = []

    def reached() -> dict[str, Any] | None:
        body = _status(url, task_id)
        if not seen or seen[-1] != body["state"]:
            seen.append(body["state"])
        return body if body["state"] == state else None

    try:
        result: dict[str, Any] = wait_until(reached, timeout=timeout, what=f"state {state}")
    except BaseException:
        print("states seen:", seen)
        raise
    return result


def _send(url: str, name: str, token: str) -> dict[str, Any]:
    response = httpx.post(f"{url}/jobs/{name}", params={"token": token}, timeout=10)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def _open_gate(env: Env, token: str) -> None:
    client = redis.Redis.from_url(env.store_url)
    client.set(f"{env.prefix}gate:{token}", "1")
    client.close()


def _starts(env: Env, token: str) -> int:
    client = redis.Redis.from_url(env.store_url)
    value = client.get(f"{env.prefix}starts:{token}")
    client.close()
    return int(value or 0)


def _states(body: dict[str, Any]) -> list[str]:
    return [event["state"] for event in body["history"]]


def test_queued_by_one_server_run_by_worker_read_from_the_other(env: Env) -> None:
    server_a, server_b = env.start(servers=2, worker=False)
    queued = _send(server_a, "gated", "t1")
    assert queued["state"] == "queued" and queued["attempts"] == 0
    # Nothing runs it yet: server B sees it queued too.
    assert _status(server_b, queued["id"])["state"] == "queued"
    env.worker()
    running = _wait_state(server_b, queued["id"], "running")
    assert running["attempts"] == 1 and running["started_at"] is not None
    _open_gate(env, "t1")
    done = _wait_state(server_b, queued["id"], "succeeded")
    assert done["result"] == {"token": "t1", "starts": 1}
    assert done["error"] is None and done["finished_at"] is not None
    assert _states(done) == ["queued", "running", "succeeded"]
    assert _status(server_a, queued["id"]) == _status(server_b, queued["id"])


def test_add_task_sends_after_the_response(env: Env) -> None:
    (server,) = env.start()
    response = httpx.post(f"{server}/later/mark", params={"token": "bg"}, timeout=10)
    assert response.json() == {"status": "accepted"}
    client = redis.Redis.from_url(env.store_url)
    try:
        wait_until(lambda: client.get(f"{env.prefix}done:bg"), timeout=15, what="the task")
    finally:
        client.close()


def test_killed_worker_is_lost_then_retried_and_succeeds(env: Env) -> None:
    server_a, server_b = env.start(servers=2)
    first = env.last_worker
    task_id = _send(server_a, "gated", "k1")["id"]
    _wait_state(server_b, task_id, "running")
    # "running" is written just before the function is called: wait until it has begun.
    wait_until(lambda: _starts(env, "k1") == 1, timeout=20, what="the task to begin")
    first.kill()  # SIGKILL mid-task: no chance to ack or to write anything
    first.wait(timeout=10)
    lost = _wait_state(server_b, task_id, "lost")  # the heartbeat went stale
    assert lost["attempts"] == 1
    _open_gate(env, "k1")
    env.worker()  # RabbitMQ redelivered the unacked message; the new worker gets it
    done = _wait_state(server_b, task_id, "succeeded")
    assert done["attempts"] == 2 and done["result"] == {"token": "k1", "starts": 2}
    states = _states(done)
    assert states[:2] == ["queued", "running"] and states[-2:] == ["running", "succeeded"]
    assert "lost" in states and "retrying" in states
    assert _starts(env, "k1") == 2


def test_killed_worker_without_retries_goes_to_the_dead_letter_queue(env: Env) -> None:
    server_a, server_b = env.start(servers=2)
    first = env.last_worker
    task_id = _send(server_a, "gated_once", "k2")["id"]
    _wait_state(server_b, task_id, "running")
    # "running" is written just before the function is called: wait until it has begun.
    wait_until(lambda: _starts(env, "k2") == 1, timeout=20, what="the task to begin")
    first.kill()
    first.wait(timeout=10)
    _wait_state(server_b, task_id, "lost")
    env.worker()
    dead = _wait_state(server_b, task_id, "dead")
    assert dead["attempts"] == 1 and "WorkerLost" in dead["error"]
    assert _starts(env, "k2") == 1  # not run again
    wait_until(lambda: dead_letters(env) == 1, timeout=10, what="the dead letter")


def test_failing_task_is_retried_then_dead_lettered(env: Env) -> None:
    server_a, server_b = env.start(servers=2)
    task_id = _send(server_a, "always_fails", "f1")["id"]
    dead = _wait_state(server_b, task_id, "dead")
    assert dead["attempts"] == 2 and dead["max_retries"] == 1, dead
    assert dead["error"] == "RuntimeError: boom f1", dead
    assert _states(dead) == ["queued", "running", "retrying", "running", "dead"], dead
    assert _starts(env, "f1") == 2
    wait_until(lambda: dead_letters(env) == 1, timeout=10, what="the dead letter")


def test_thrown_exception_fails_without_retry(env: Env) -> None:
    (server,) = env.start()
    task_id = _send(server, "refuses", "r1")["id"]
    failed = _wait_state(server, task_id, "failed")
    assert failed["attempts"] == 1 and failed["error"] == "ValueError: bad input r1"


def test_unreachable_broker_is_a_503_without_hanging(env: Env) -> None:
    closed = f"amqp://guest:guest@127.0.0.1:{_closed_port()}/"
    (server,) = env.start(worker=False, TQ_BROKER_URL=closed)
    # The client's timeout bounds the wait: a hang would raise instead of answering.
    response = httpx.post(f"{server}/jobs/gated", params={"token": "u1"}, timeout=15)
    assert response.status_code == 503
    body = response.json()
    assert list(body) == ["detail"]
    assert body["detail"].startswith("The task queue is unavailable: ")
    # An unknown task is still a 404 (the store answers).
    assert httpx.get(f"{server}/tasks/nope", timeout=5).status_code == 404


def _closed_port() -> int:
    return free_port()  # bound then released: nothing listens there
