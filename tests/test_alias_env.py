"""``HASTEN_FASTAPI_ALIAS=1`` in any process: the .pth start-up hook installed with hasten.

Each check runs a fresh interpreter of this environment (the project venv, where hasten is
installed with its ``hasten-fastapi-alias.pth``), as a user's process would start.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest


def _python(code: str, alias: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("HASTEN_FASTAPI_ALIAS", None)
    env.pop("PYTHONPATH", None)
    if alias is not None:
        env["HASTEN_FASTAPI_ALIAS"] = alias
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        encoding="utf-8",
        env=env,
        cwd=cwd,  # not the repository: its root must not be what makes the hook importable
        timeout=50,
    )


def test_hook_is_installed_in_site_packages() -> None:
    dirs = [*site.getsitepackages(), site.getusersitepackages()]
    found = [Path(d, "hasten-fastapi-alias.pth") for d in dirs]
    assert any(path.is_file() for path in found), f"hasten-fastapi-alias.pth not in {dirs}"


@pytest.mark.parametrize("value", ["1", "true", "ON"])
def test_variable_aliases_fastapi_in_a_new_process(tmp_path: Path, value: str) -> None:
    code = (
        "import sys\n"
        "assert 'hasten' not in sys.modules, 'hasten imported at start-up'\n"
        "import fastapi, fastapi.routing, hasten, hasten.routing\n"
        "assert fastapi.FastAPI is hasten.FastAPI\n"
        "assert fastapi.routing is hasten.routing\n"
        "print(fastapi.__version__)\n"
    )
    result = _python(code, value, tmp_path)
    assert result.returncode == 0, result.stderr
    from hasten.compat import FASTAPI_VERSION

    assert result.stdout.strip() == FASTAPI_VERSION
    assert result.stderr == ""


@pytest.mark.parametrize("value", [None, "", "0", "no"])
def test_without_the_variable_fastapi_is_not_importable(tmp_path: Path, value: str | None) -> None:
    code = (
        "import sys\n"
        "print('_hasten_alias_hook' in sys.modules, 'hasten' in sys.modules)\n"
        "try:\n"
        "    import fastapi\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc.name)\n"
    )
    result = _python(code, value, tmp_path)
    assert result.returncode == 0, result.stderr
    # Unset or empty: the .pth line does not even import the hook module.
    hook_loaded = value not in (None, "")
    assert result.stdout.splitlines() == [f"{hook_loaded} False", "fastapi"]


def test_hook_does_not_import_hasten(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('hasten', 'pydantic', 'starlette', 'fastapi')))\n"
        "print('_hasten_compat_alias' in sys.modules)\n"
    )
    result = _python(code, "1", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "True"]


def test_pytest_plugin_still_aliases(tmp_path: Path) -> None:
    (tmp_path / "test_app.py").write_text(
        "import fastapi, hasten\n\n\ndef test_alias():\n    assert fastapi.FastAPI is hasten.FastAPI\n"
    )
    env = {**os.environ}
    env.pop("HASTEN_FASTAPI_ALIAS", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "hasten.compat", "-p", "no:cacheprovider", "-q"],
        capture_output=True,
        encoding="utf-8",
        env=env,
        cwd=tmp_path,
        timeout=50,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_hook_run_ignores_false_values() -> None:
    import _hasten_alias_hook as hook  # installed with the package (py-modules)

    for value in ("", "0", "off", "false"):
        assert hook.run({"HASTEN_FASTAPI_ALIAS": value}) is False
    assert hook.run({}) is False
