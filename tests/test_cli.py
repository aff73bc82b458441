"""hasten.cli: target parsing, app discovery, ``routes``/``openapi`` output, server options."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
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
    # imported from the current directory, as `uvicorn main:app` does
    assert (target.module, target.attribute, target.app_dir) == (
        "examples.demo",
        "app",
        os.getcwd(),
    )
    assert cli.parse_target("examples.demo", "api").attribute == "api"


def test_parse_file_inside_a_package(project: Path) -> None:
    target = cli.parse_target("pkg/web.py:app")
    assert (target.module, target.attribute) == ("pkg.web", "app")
    assert Path(str(target.app_dir)).resolve() == project.resolve()
    assert cli.parse_target("single.py").module == "single"
    assert cli.parse_target("pkg/__init__.py").module == "pkg"
    assert cli.parse_target("pkg").module == "pkg"


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
    assert cli._run(["dev", "pkg/web.py", "--port", "9000"]) == 0  # reload: uvicorn
    run = ["run", "pkg.web:app", "--workers", "2", "--host", "127.0.0.2", "--server", "uvicorn"]
    assert cli._run(run) == 0
    assert cli._run(["dev", "pkg.web", "--no-reload", "--root-path", "/x", "--server=uvicorn"]) == 0
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


# -- default target and app discovery (as `fastapi dev` finds them) ----------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["main.py", "app.py", "api.py", "app/main.py"], "main.py"),
        (["app.py", "api.py", "app/main.py"], "app.py"),
        (["api.py", "app/main.py"], "api.py"),
        (["app/main.py", "app/app.py"], "app/main.py"),
        (["app/app.py", "app/api.py"], "app/app.py"),
        (["app/api.py"], "app/api.py"),
    ],
)
def test_default_target_order(tmp_path: Path, files: list[str], expected: str) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    assert cli.default_target(tmp_path) == expected


def test_default_target_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("")
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi]\nentrypoint = "svc.web:api"\n')
    assert cli.default_target(tmp_path) == "svc.web:api"
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fastapi]\nentrypoint = "svc.web:api"\n[tool.hasten]\nentrypoint = "other:app"\n'
    )
    assert cli.default_target(tmp_path) == "other:app"
    (tmp_path / "pyproject.toml").write_text('[tool.hasten]\nentrypoint = "no_colon"\n')
    with pytest.raises(cli.CLIError, match=r"\[tool.hasten\] entrypoint must be"):
        cli.default_target(tmp_path)


def test_no_default_target(tmp_path: Path) -> None:
    (tmp_path / "server.py").write_text("")
    with pytest.raises(cli.CLIError, match="Could not find a default file to run"):
        cli.default_target(tmp_path)


def test_app_attribute_discovery(project: Path) -> None:
    names = {
        "prefers_app.py": "from pkg.web import app as zzz\nfrom pkg.web import app as aaa\napp = aaa\n",
        "prefers_api.py": "from pkg.web import app as aaa\napi = aaa\napp = 1\n",
        "first_by_name.py": "from pkg.web import app as zeta, app as beta\n",
    }
    for name, source in names.items():
        (project / name).write_text(source)
    assert cli.load_app(cli.parse_target("prefers_app.py"))[1].attribute == "app"
    assert cli.load_app(cli.parse_target("prefers_api.py"))[1].attribute == "api"
    assert cli.load_app(cli.parse_target("first_by_name.py"))[1].attribute == "beta"
    for module in ("prefers_app", "prefers_api", "first_by_name"):
        sys.modules.pop(module, None)


# -- the `hasten` console script, run from the app's directory --------------------------------

FASTAPI_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
def read_item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}
"""

ALIAS_NOTE = "hasten: serving a FastAPI app on Hasten (fastapi → hasten alias"


def _script_env(pythonpath: Path | None = None, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("HASTEN_FASTAPI_ALIAS", None)
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return {**env, **extra}


def _hasten(
    cwd: Path, *args: str, pythonpath: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``hasten`` script (not ``python -m``: cwd is not on its sys.path)."""
    script = Path(sys.executable).with_name("hasten")
    return subprocess.run(
        [str(script), *args],
        capture_output=True,
        encoding="utf-8",
        env=_script_env(pythonpath, **env),
        cwd=cwd,
        timeout=50,
    )


@pytest.fixture
def fastapi_project(tmp_path: Path) -> Path:
    """A directory holding an unchanged FastAPI app in ``main.py``; no fastapi installed."""
    (tmp_path / "main.py").write_text(FASTAPI_APP)
    return tmp_path


def test_script_routes_fastapi_app_from_its_directory(fastapi_project: Path) -> None:
    result = _hasten(fastapi_project, "routes", "main:app")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No module named" not in result.stdout
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["GET", "/items/{item_id}", "read_item"] in rows
    loading_note = ALIAS_NOTE.replace("serving", "loading")
    assert result.stderr.splitlines() == [f"{loading_note}: no fastapi package is installed)"]


def test_script_dev_discovers_main_py(fastapi_project: Path) -> None:
    result = _hasten(fastapi_project, "dev", "--dry-run", "--port", "8123")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == (
        "Would serve main:app on http://127.0.0.1:8123 with uvicorn (dry run: server not started)"
    )
    assert ALIAS_NOTE in result.stderr
    (fastapi_project / "main.py").rename(fastapi_project / "app.py")
    result = _hasten(fastapi_project, "run", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Would serve app:app on http://0.0.0.0:8000" in result.stdout


def test_script_no_alias(fastapi_project: Path) -> None:
    result = _hasten(fastapi_project, "dev", "main.py", "--dry-run", "--no-alias")
    assert result.returncode == 1
    assert "Could not import module 'main': No module named 'fastapi'" in result.stdout
    assert ALIAS_NOTE not in result.stderr


def test_script_native_app_gets_no_note(project: Path) -> None:
    result = _hasten(project, "routes", "pkg.web:app")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert ["GET,HEAD", "/", "home"] in [line.split() for line in result.stdout.splitlines()]


def test_script_leaves_an_installed_fastapi_alone(fastapi_project: Path, tmp_path: Path) -> None:
    # A stand-in for a real FastAPI distribution on sys.path.
    fake = tmp_path / "site"
    (fake / "fastapi").mkdir(parents=True)
    (fake / "fastapi" / "__init__.py").write_text(
        "from starlette.applications import Starlette\n"
        "__version__ = '0.0.fake'\n"
        "class FastAPI(Starlette):\n"
        "    def get(self, path):\n"
        "        return lambda endpoint: endpoint\n"
    )
    result = _hasten(fastapi_project, "routes", "main:app", pythonpath=fake)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""  # the stand-in app has no routes: it really was used
    assert result.stderr.splitlines() == [
        "hasten: this app runs on the installed FastAPI 0.0.fake, not on Hasten "
        "(pass --alias to run it on Hasten)"
    ]
    result = _hasten(fastapi_project, "routes", "main:app", "--alias", pythonpath=fake)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/items/{item_id}" in result.stdout
    assert result.stderr.splitlines() == [f"{ALIAS_NOTE.replace('serving', 'loading')}: --alias)"]


def test_script_alias_from_the_environment(fastapi_project: Path) -> None:
    result = _hasten(fastapi_project, "dev", "--dry-run", HASTEN_FASTAPI_ALIAS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"{ALIAS_NOTE}: HASTEN_FASTAPI_ALIAS=1 or hasten.compat.install())"
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_script_dev_serves_fastapi_app_with_reload(fastapi_project: Path) -> None:
    # The reloader's server process is a fresh interpreter: the alias reaches it through
    # HASTEN_FASTAPI_ALIAS=1 and the start-up hook installed with hasten.
    port = _free_port()
    script = Path(sys.executable).with_name("hasten")
    process = subprocess.Popen(
        [str(script), "dev", "--port", str(port)],
        cwd=fastapi_project,
        env=_script_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 40
        while body is None and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/items/7", timeout=2) as r:
                    body = json.loads(r.read())
            except OSError:
                time.sleep(0.3)
        assert body == {"item_id": 7}
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        assert process.stderr is not None
        with process.stderr:
            stderr = process.stderr.read().decode()
    assert f"{ALIAS_NOTE}: no fastapi package is installed)" in stderr
    assert "No module named 'fastapi'" not in stderr


def test_script_version() -> None:
    from hasten import __version__
    from hasten.compat import FASTAPI_VERSION

    result = _hasten(ROOT, "--version")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip() == f"hasten {__version__} (compatible with FastAPI {FASTAPI_VERSION})"
    )


def test_script_closed_pipe_has_no_traceback(fastapi_project: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("HASTEN_FASTAPI_ALIAS", None)
    script = Path(sys.executable).with_name("hasten")
    process = subprocess.Popen(
        [str(script), "openapi", "main:app"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=fastapi_project,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader goes away before anything is written (`| head -0`)
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=50) == 1
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
    assert "Exception ignored" not in stderr
