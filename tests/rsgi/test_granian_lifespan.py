"""The lifespan over RSGI, with a real Granian process: Granian calls ``__rsgi_init__`` before
serving and ``__rsgi_del__`` after, and Hasten runs the app's ASGI lifespan in them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from granian_server import GranianServer, free_port, granian_command


@pytest.mark.parametrize("target", ["rsgi_app:app", "rsgi_app:fastapi_app"])
def test_startup_before_serving_and_shutdown_on_sigterm(target: str, tmp_path: Path) -> None:
    app_log = tmp_path / "app.log"
    port = free_port()
    server = GranianServer.start(
        granian_command(target, port),
        port,
        tmp_path / "server.log",
        {"RSGI_TEST_LOG": str(app_log)},
    )
    try:
        answer = httpx.get(f"{server.url}/pool", timeout=20)
        assert answer.status_code == 200
        assert app_log.read_text().splitlines() == ["pool open", f"startup {_class(target)}"]
    finally:
        status = server.stop()
    assert status == 0, server.log()
    assert app_log.read_text().splitlines() == [
        "pool open",
        f"startup {_class(target)}",
        f"shutdown {_class(target)}",
        "pool closed",
    ]


def _class(target: str) -> str:
    return "FastAPI" if target.endswith("fastapi_app") else "Hasten"


def test_failed_startup_stops_the_worker(tmp_path: Path) -> None:
    port = free_port()
    with pytest.raises(RuntimeError, match="server exited") as failed:
        GranianServer.start(
            granian_command("failing_app:app", port), port, tmp_path / "server.log", {}
        )
    log = str(failed.value)
    assert "Application startup failed. Exiting." in log
    assert "RuntimeError: the database is unreachable" in log
    assert "should never answer" not in log
