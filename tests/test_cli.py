"""hasten.cli: target parsing, app discovery, ``routes``/``openapi`` output, server options."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from hasten import cli

ROOT = Path(__file__).resolve().parents[1]

APP_SOURCE = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, Router, WebSocketRoute


async def home(request):
    return PlainTextResponse("hi")


async def ws(websocket):
    await websocket.close()


sub = Router([Route("/items", home, methods=["GET", "POST"], name="items")])
app = Starlette(
    routes=[Route("/", home, name="home"), WebSocketRoute("/ws", ws, name="ws"), Mount("/api", sub)]
)
app.openapi = lambda: {"openapi": "3.1.0"}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A throw-away project: ``pkg/web.py`` (in a package) and ``single.py``."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "web.py").write_text(textwrap.dedent(APP_SOURCE))
    (tmp_path / "single.py").write_text("from pkg.web import app as application\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name == "single" or name.startswith("pkg"):
            del sys.modules[name]


def test_parse_import_string() -> None:
    target = cli.parse_target("examples.demo:app")
    assert (target.module, target.attribute, target.app_dir) == ("examples.demo", "app", None)
    assert cli.parse_target("examples.demo", "api").attribute == "api"


def test_parse_file_inside_a_package(project: Path) -> None:
    target = cli.parse_target("pkg/web.py:app")
    assert (target.module, target.attribute) == ("pkg.web", "app")
    assert Path(str(target.app_dir)).resolve() == project.resolve()
    assert cli.parse_target("single.py").module == "single"


def test_missing_path_is_reported() -> None:
    with pytest.raises(cli.CLIError, match="Path does not exist nope.py"):
        cli.parse_target("nope.py")


def test_load_app_discovers_the_app(project: Path) -> None:
    app, target = cli.load_app(cli.parse_target("pkg.web"))
    assert target.import_string == "pkg.web:app"
    only, found = cli.load_app(cli.parse_target("single.py"))
    assert found.attribute == "application" and only is app


def test_load_app_errors(project: Path) -> None:
    with pytest.raises(cli.CLIError, match="has no attribute 'missing'"):
        cli.load_app(cli.parse_target("pkg.web:missing"))
    with pytest.raises(cli.CLIError, match="Could not import module"):
        cli.load_app(cli.parse_target("not_a_module_anywhere"))


def test_routes_command(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        cli.main(["routes", "pkg.web:app"])
    assert exc_info.value.code == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        ["GET,HEAD", "/", "home"],
        ["WS", "/ws", "ws"],
        ["GET,HEAD,POST", "/api/items", "items"],
    ]


def test_openapi_command(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        cli.main(["openapi", "pkg/web.py", "--indent", "0"])
    assert exc_info.value.code == 0
    assert '"openapi": "3.1.0"' in capsys.readouterr().out


def test_dev_and_run_start_uvicorn(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    assert cli._run(["dev", "pkg/web.py", "--port", "9000"]) == 0
    assert cli._run(["run", "pkg.web:app", "--workers", "2", "--host", "127.0.0.2"]) == 0
    assert cli._run(["dev", "pkg.web", "--no-reload", "--root-path", "/x"]) == 0
    (dev_app, dev), (run_app, run), (_, no_reload) = calls
    assert dev_app == run_app == "pkg.web:app"
    assert (dev["host"], dev["port"], dev["reload"], dev["workers"]) == (
        "127.0.0.1",
        9000,
        True,
        None,
    )
    assert Path(dev["app_dir"]).resolve() == project.resolve()
    assert (run["host"], run["port"], run["reload"], run["workers"]) == (
        "127.0.0.2",
        8000,
        False,
        2,
    )
    assert no_reload["reload"] is False and no_reload["root_path"] == "/x"


def test_missing_file_exits_with_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli._run(["dev", "non_existent_file.py"]) == 1
    assert "Path does not exist non_existent_file.py" in capsys.readouterr().out


def test_python_dash_m_hasten() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "hasten", "dev", "non_existent_file.py"],
        capture_output=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 1, result.stderr
    assert "Path does not exist non_existent_file.py" in result.stdout


def test_main_without_cli_implementation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "cli_main", None)
    with pytest.raises(RuntimeError, match="please install"):
        cli.main([])
