"""``hasten run`` serves with bounded timeouts and sizes (issue 14, finding 12).

Under uvicorn's defaults a connection that never sends a request, a request head sent a byte
at a time (slowloris) or a 10 MB header is kept and read. Against a real ``hasten run``
process (``--timeout-keep-alive 2 --timeout-request-head 2``, the default 32 KiB head
limit), this proves that:

* an idle connection is closed by the server, before its first request and after a
  response (keep-alive), with nothing sent (the socket read ends; bounded by a 15 s timeout);
* a head that does not complete in time answers 408 and is closed;
* a head over the limit (one long header, many headers, a long URL, a header that never
  ends) answers 431 and is closed, while one just under the limit is served;
* ``--max-request-head`` changes the limit; the options reach ``uvicorn.run`` with their
  defaults (``server_limits``), and ``--help`` documents them;
* the server still answers afterwards.
"""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import LiveServer, connect, exchange, http_get, read_all, statuses

from hasten import cli

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc (Linux)")

LIMIT = 32 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer.start("probe_app:app", tmp_path_factory.mktemp("limits") / "server.log")
    try:
        yield live
    finally:
        live.stop()


def _get(path: str = "/items/1", headers: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: probe\r\n" + headers + b"\r\n"


def test_idle_connection_before_any_request_is_closed(server: LiveServer) -> None:
    with connect(server.port, timeout=15) as sock:
        assert read_all(sock) == b""  # the server closed it; a timeout would raise first


def test_idle_keep_alive_connection_is_closed_after_a_response(server: LiveServer) -> None:
    with connect(server.port, timeout=15) as sock:
        sock.sendall(_get())
        raw = read_all(sock)  # the response, then the close after the keep-alive timeout
    assert statuses(raw) == [200]


def test_slow_request_head_answers_408(server: LiveServer) -> None:
    with connect(server.port, timeout=15) as sock:
        sock.sendall(b"GET /items/1 HTTP/1.1\r\nHost: probe\r\nX-Slow: ")
        raw = read_all(sock)  # the rest never comes
    assert statuses(raw) == [408]


@pytest.mark.parametrize(
    "request_bytes",
    [
        _get(headers=b"X-Big: " + b"a" * (LIMIT + 1) + b"\r\n"),
        _get(headers=b"X-Big: " + b"a" * (10 * 1024 * 1024) + b"\r\n"),
        _get(headers=b"".join(b"X-H%d: v\r\n" % n for n in range(4000))),
        _get(path="/items/1?q=" + "a" * (LIMIT + 10)),
        b"GET /items/1 HTTP/1.1\r\nHost: probe\r\nX-Endless: " + b"a" * (4 * LIMIT),
    ],
    ids=["header", "10MB-header", "4000-headers", "url", "unterminated-header"],
)
def test_oversized_request_head_answers_431(server: LiveServer, request_bytes: bytes) -> None:
    raw = exchange(server.port, request_bytes, timeout=15)
    assert statuses(raw) == [431]
    assert http_get(server.port, "/items/2")[0] == 200


def test_head_under_the_limit_is_served(server: LiveServer) -> None:
    raw = exchange(
        server.port, _get(headers=b"X-Big: " + b"a" * (LIMIT - 200) + b"\r\nConnection: close\r\n")
    )
    assert statuses(raw) == [200]


def test_max_request_head_option(tmp_path: Path) -> None:
    live = LiveServer.start("probe_app:app", tmp_path / "log", "--max-request-head", "2048")
    try:
        small = exchange(
            live.port, _get(headers=b"X-A: " + b"a" * 1500 + b"\r\nConnection: close\r\n")
        )
        large = exchange(live.port, _get(headers=b"X-A: " + b"a" * 2100 + b"\r\n"))
    finally:
        live.stop()
    assert statuses(small) == [200]
    assert statuses(large) == [431]


def _args(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["run", "main.py", *argv])


def test_server_limits_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HASTEN_TIMEOUT_REQUEST_HEAD", raising=False)
    defaults = cli.server_limits(_args())
    assert defaults == {
        "http": "hasten._server:GuardedHttpToolsProtocol",
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 32768,
        "limit_concurrency": None,
        "timeout_graceful_shutdown": 30,
    }
    assert os.environ["HASTEN_TIMEOUT_REQUEST_HEAD"] == "10.0"
    given = cli.server_limits(
        _args(
            "--timeout-keep-alive=7",
            "--max-request-head=1000",
            "--limit-concurrency=50",
            "--timeout-graceful-shutdown=3",
            "--timeout-request-head=4.5",
        )
    )
    assert given["timeout_keep_alive"] == 7
    assert given["h11_max_incomplete_event_size"] == 1000
    assert given["limit_concurrency"] == 50
    assert given["timeout_graceful_shutdown"] == 3
    assert os.environ["HASTEN_TIMEOUT_REQUEST_HEAD"] == "4.5"


def test_help_documents_the_limits(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", "--help"])
    out = capsys.readouterr().out
    for option in (
        "--timeout-keep-alive",
        "--timeout-request-head",
        "--max-request-head",
        "--limit-concurrency",
        "--timeout-graceful-shutdown",
    ):
        assert option in out


def test_server_still_answers(server: LiveServer) -> None:
    assert server.alive()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5):
        pass
    assert http_get(server.port, "/items/3")[0] == 200
    assert "Traceback" not in server.log()
