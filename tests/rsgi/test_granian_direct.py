"""Trivial routes answered without the ASGI stack by a real Granian process
(``hasten._rsgi.direct``): served by ``granian --interface rsgi`` and by ``hasten run`` (whose
proxy-headers layer a replayed request goes through). The app (tests/rsgi/direct_app.py)
counts the requests that went through the ASGI adapter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from granian_server import GranianServer, free_port, granian_command, hasten_command, wait_for


@pytest.fixture(scope="module", params=["granian", "hasten run"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, Path, str]]:
    folder = tmp_path_factory.mktemp("direct")
    app_log = folder / "app.log"
    app_log.touch()
    port = free_port()
    make = granian_command if request.param == "granian" else hasten_command
    server = GranianServer.start(
        make("direct_app:app", port), port, folder / "server.log", {"RSGI_TEST_LOG": str(app_log)}
    )
    try:
        with httpx.Client(base_url=server.url, timeout=20) as client:
            yield client, app_log, request.param
    finally:
        assert server.stop() == 0, server.log()


def _cycles(client: httpx.Client) -> int:
    return int(client.get("/cycles").json())


def test_trivial_routes_are_answered_directly(served: tuple[httpx.Client, Path, str]) -> None:
    client, _, _ = served
    for path in ("/text", "/json"):
        client.get(path)  # found by the router the first time
    before = _cycles(client)
    for _ in range(5):
        text = client.get("/text")
        assert (text.status_code, text.text) == (200, "Hello, World!")
        assert text.headers["content-type"] == "text/plain; charset=utf-8"
        assert text.headers["content-length"] == "13"
        answer = client.get("/json")
        assert (answer.status_code, answer.json()) == (200, {"message": "Hello, World!"})
    assert _cycles(client) == before + 1  # only the /cycles request itself


def test_failures_and_own_responses_are_replayed_through_the_app(
    served: tuple[httpx.Client, Path, str],
) -> None:
    client, app_log, server = served
    for _ in range(2):
        teapot = client.get("/teapot", headers={"x-forwarded-for": "203.0.113.9"})
        assert teapot.status_code == 418
        conflict = client.get("/conflict")
        assert (conflict.status_code, conflict.json()) == (409, {"detail": "taken"})
        boom = client.get("/boom")
        assert (boom.status_code, boom.text) == (500, "Internal Server Error")
        own = client.get("/response")
        assert (own.status_code, own.json()) == (201, {"own": True})
    body = teapot.json()
    assert body["pool"] == "started" and body["route"] == "/teapot"
    # hasten run trusts the proxy headers of 127.0.0.1; granian alone does not read them
    assert body["client"] == ("203.0.113.9" if server == "hasten run" else "127.0.0.1")
    assert wait_for(lambda: app_log.read_text().count("background") >= 2)
    assert client.get("/text").text == "Hello, World!"  # the connection is still good


def test_planned_routes_are_answered_directly(served: tuple[httpx.Client, Path, str]) -> None:
    client, _, _ = served
    token = {"x-token": "secret"}
    client.get("/user", headers=token)  # found by the router the first time
    before = _cycles(client)
    for _ in range(3):
        answer = client.get("/user", params={"q": "a b/é", "limit": "3"}, headers=token)
        assert (answer.status_code, answer.json()) == (
            200,
            {"name": "admin", "agent": None, "q": "a b/é", "limit": 3},
        )
        # the first of a repeated header, names in any case
        repeated = [("X-Token", "secret"), ("x-token", "other"), ("X-Agent", "probe")]
        assert client.get("/user", headers=repeated).json()["agent"] == "probe"
    assert _cycles(client) == before + 1  # only the /cycles request itself
    # failures are replayed through the app: each opens the adapter's cycle
    wrong = client.get("/user", headers={"x-token": "wrong"})
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "bad token"})
    missing = client.get("/user", params={"limit": "many"}, headers={"x-tokens": "1"})
    assert missing.status_code == 422
    locations = [error["loc"] for error in missing.json()["detail"]]
    assert locations == [["header", "x-token"], ["query", "limit"]]
    # a value that is not ASCII does not reach the app on Granian: missing, as on the stack
    latin = client.get(
        "/user", headers=[("x-token", "secret"), ("x-agent", "caf\xe9".encode("latin-1"))]
    )
    assert (latin.status_code, latin.json()["agent"]) == (200, None)
    assert _cycles(client) == before + 2 + 2


def test_paths_with_parameters_are_answered_directly(
    served: tuple[httpx.Client, Path, str],
) -> None:
    client, _, _ = served
    before = _cycles(client)
    for number in range(3):
        answer = client.get(f"/items/{number}", params={"q": "x"})
        assert (answer.status_code, answer.json()) == (200, {"item_id": number, "q": "x"})
        spaced = client.get("/names/a%20b/c/d%2Fe.txt")  # RSGI's path is decoded, as ASGI's
        assert spaced.json() == {"name": "a b", "rest": "c/d/e.txt"}
    assert _cycles(client) == before + 1  # only the /cycles request itself
    wrong = client.get("/items/seven")  # a 422 from the path, replayed through the app
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["path", "item_id"]
    put = client.put("/items/4", content=b"data")  # a body: the stack's way
    assert (put.status_code, put.json()) == (200, {"item_id": 4, "body": "data"})
    assert client.post("/items/4").status_code == 405
    # the two /cycles requests since, then the replay, the PUT and the 405
    assert _cycles(client) == before + 2 + 3


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    folder = tmp_path_factory.mktemp("metered")
    port = free_port()
    server = GranianServer.start(
        granian_command("direct_app:app", port),
        port,
        folder / "server.log",
        {"RSGI_TEST_METRICS": "1"},
    )
    try:
        with httpx.Client(base_url=server.url, timeout=20) as client:
            yield client
    finally:
        assert server.stop() == 0, server.log()


def _count(exposition: str, route: str, status: int) -> float:
    for line in exposition.splitlines():
        if line.startswith("http_requests_total{") and f'route="{route}"' in line:
            if f'status="{status}"' in line:
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_the_prometheus_middleware_counts_direct_answers(metered: httpx.Client) -> None:
    for path in ("/text", "/boom"):
        metered.get(path)  # found by the router the first time
    before = _cycles(metered)
    for _ in range(4):
        assert metered.get("/text").text == "Hello, World!"
        assert metered.get("/boom").status_code == 500  # replayed through the stack
    assert _cycles(metered) == before + 1 + 4  # /cycles itself and the four replays
    exposition = metered.get("/metrics").text
    assert _count(exposition, "/text", 200) == 5
    assert _count(exposition, "/boom", 500) == 5
    assert _count(exposition, "/cycles", 200) == 2
    assert "http_requests_in_progress 1.0" in exposition  # the /metrics request itself
