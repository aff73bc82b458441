"""``hasten run``/``hasten dev`` choose Granian (RSGI) or uvicorn, and pass their settings.

The choice and the mapping of the command's limits onto Granian's settings are checked as
values; real ``hasten run`` processes show which server answers (its ``server`` header), that
``--workers 2`` gives two worker processes, and that ``--root-path`` reaches the app.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from granian.http import HTTP1Settings, HTTP2Settings
from granian_server import GranianServer, free_port, hasten_command, wait_for

from hasten import cli
from hasten._rsgi import server as rsgi_server
from hasten._rsgi.server import GranianRun, granian_options

HERE = Path(__file__).resolve().parent


_FIND_SPEC = importlib.util.find_spec


def _installed(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    real = _FIND_SPEC

    def find_spec(name: str, *args: Any) -> Any:
        if name in ("granian", "uvicorn"):
            return real(name) if name in names else None
        return real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_auto_prefers_granian_and_reload_prefers_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, "granian", "uvicorn")
    assert cli.choose_server("auto", reload=False) == "granian"
    assert cli.choose_server("auto", reload=True) == "uvicorn"
    assert cli.choose_server("uvicorn", reload=False) == "uvicorn"
    assert cli.choose_server("granian", reload=True) == "granian"


def test_auto_falls_back_to_what_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, "uvicorn")
    assert cli.choose_server("auto", reload=False) == "uvicorn"
    with pytest.raises(cli.CLIError, match="Serving with granian needs it installed"):
        cli.choose_server("granian", reload=False)
    _installed(monkeypatch, "granian")
    assert cli.choose_server("auto", reload=True) == "granian"
    _installed(monkeypatch)
    with pytest.raises(cli.CLIError, match="needs it installed"):
        cli.choose_server("auto", reload=False)


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[GranianRun]]:
    runs: list[GranianRun] = []
    monkeypatch.setattr(rsgi_server, "serve_granian", runs.append)
    yield runs


def test_run_passes_its_options_to_granian(
    captured: list[GranianRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(HERE)
    argv = [
        "run", "rsgi_app:app", "--server", "granian", "--workers", "2", "--port", "9001",
        "--root-path", "/api", "--no-proxy-headers", "--timeout-request-head", "4.5",
        "--max-request-head", "16384", "--limit-concurrency", "64",
        "--timeout-graceful-shutdown", "7", "--timeout-keep-alive", "3",
    ]  # fmt: skip
    assert cli._run(argv) == 0
    (run,) = captured
    assert run == GranianRun(
        target="rsgi_app:app",
        app_dir=str(HERE),
        host="0.0.0.0",
        port=9001,
        workers=2,
        reload=False,
        root_path="/api",
        proxy_headers=False,
        timeout_keep_alive=3,
        timeout_request_head=4.5,
        max_request_head=16384,
        limit_concurrency=64,
        timeout_graceful_shutdown=7,
    )
    assert cli._run(["run", "rsgi_app:app"]) == 0  # auto: Granian is installed here
    assert captured[1].workers == 1 and captured[1].proxy_headers is True


def test_dev_with_granian_keeps_reload(
    captured: list[GranianRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(HERE)
    assert cli._run(["dev", "rsgi_app:app", "--server", "granian"]) == 0
    assert captured[0].reload is True and captured[0].host == "127.0.0.1"


def test_granian_options_map_the_limits() -> None:
    options = granian_options(
        GranianRun(
            target="m:app",
            app_dir=None,
            host="127.0.0.1",
            port=8000,
            workers=3,
            timeout_keep_alive=5,
            timeout_request_head=2.5,
            max_request_head=16384,
            limit_concurrency=10,
            timeout_graceful_shutdown=12,
        )  # fmt: skip
    )
    assert options["workers"] == 3
    assert str(options["interface"]) == "rsgi"
    assert options["http1_settings"] == HTTP1Settings(
        header_read_timeout=2500, keep_alive=True, max_buffer_size=16384
    )
    assert options["http2_settings"] == HTTP2Settings(max_headers_size=16384)
    assert options["backpressure"] == 10
    assert options["workers_kill_timeout"] == 12
    bounded = granian_options(
        GranianRun(
            target="m:app",
            app_dir=None,
            host="h",
            port=1,
            timeout_keep_alive=0,
            timeout_request_head=600,
            max_request_head=100,
            timeout_graceful_shutdown=0,
        )  # fmt: skip
    )
    assert bounded["http1_settings"].keep_alive is False
    assert bounded["http1_settings"].header_read_timeout == 60_000  # Granian's maximum
    assert bounded["http1_settings"].max_buffer_size == 8192  # Granian's minimum
    assert bounded["workers_kill_timeout"] == 1
    assert "backpressure" not in bounded


def test_help_names_the_servers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", "--help"])
    out = capsys.readouterr().out
    assert "--server {auto,granian,uvicorn}" in out
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", "x:app", "--server", "hypercorn"])


# -- real processes --------------------------------------------------------------------------


def _start(tmp_path: Path, *options: str) -> tuple[GranianServer, Path]:
    app_log = tmp_path / "app.log"
    app_log.touch()
    port = free_port()
    command = hasten_command("rsgi_app:app", port, *options)
    server = GranianServer.start(
        command, port, tmp_path / "server.log", {"RSGI_TEST_LOG": str(app_log)}
    )
    return server, app_log


def test_hasten_run_serves_with_granian_by_default(tmp_path: Path) -> None:
    server, _ = _start(tmp_path, "--root-path", "/api")
    try:
        answer = httpx.get(f"{server.url}/json", timeout=20)
        assert answer.status_code == 200
        assert answer.headers["server"] == "granian"
        assert answer.json()["path"] == "/api/json"  # root_path prefixed, as uvicorn does
        assert answer.headers["x-stamp"] == "rsgi"
    finally:
        assert server.stop() == 0
    assert "with granian" in server.log()


def test_hasten_run_server_uvicorn(tmp_path: Path) -> None:
    server, _ = _start(tmp_path, "--server", "uvicorn")
    try:
        answer = httpx.get(f"{server.url}/plaintext", timeout=20)
        assert (answer.status_code, answer.text) == (200, "Hello, World!")
        assert answer.headers["server"] == "uvicorn"
    finally:
        server.stop()


@pytest.mark.parametrize("server_name", ["granian", "uvicorn"])
def test_hasten_run_two_workers(tmp_path: Path, server_name: str) -> None:
    server, app_log = _start(tmp_path, "--server", server_name, "--workers", "2")
    pids: set[int] = set()

    def two_workers_answered() -> bool:
        # a new connection each time: the kernel spreads them over the workers' accepts
        pids.add(httpx.get(f"{server.url}/pool", timeout=20).json()["pid"])
        return len(pids) == 2

    try:
        assert wait_for(two_workers_answered, seconds=60), pids
    finally:
        assert server.stop() == 0
    # each worker ran the lifespan: one app-scoped pool per worker, each closed at the end
    lines = app_log.read_text().splitlines()
    assert lines.count("pool open") == 2 and lines.count("pool closed") == 2


def test_load_served_applies_root_path_and_proxy_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    served = rsgi_server.load_served(
        "rsgi_app:app", app_dir=str(HERE), root_path="/r", proxy_headers=True
    )
    import rsgi_app
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    assert served.root_path == "/r"
    assert isinstance(served.app, ProxyHeadersMiddleware) and served.app.app is rsgi_app.app
    assert served.direct is None  # a root path: every request takes the stack
    plain = rsgi_server.load_served("rsgi_app", app_dir=None, root_path="", proxy_headers=False)
    assert plain.app is rsgi_app.app
    assert plain.direct is not None
    assert (plain.direct.app, plain.direct.outer) == (rsgi_app.app, None)
    proxied = rsgi_server.load_served("rsgi_app", app_dir=None, root_path="", proxy_headers=True)
    assert proxied.direct is not None
    assert (proxied.direct.app, proxied.direct.outer) == (rsgi_app.app, proxied.app)
