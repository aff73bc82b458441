"""The `fastapi` -> `hasten` import alias (hasten.compat).

Every check runs in a fresh interpreter so the alias never leaks into other tests. The
mechanism is exercised twice: on small throw-away packages (``aliaspkg`` -> ``tgtpkg``) that
cover the corner cases, and on the real ``fastapi`` -> ``hasten`` pair.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join([str(cwd), str(ROOT)])
    full_env.pop("HASTEN_FASTAPI_ALIAS", None)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture
def packages(tmp_path: Path) -> Path:
    """``tgtpkg`` (the target) with a subpackage, a lazy relative import and a __main__."""
    pkg = tmp_path / "tgtpkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("VALUE = 1\n")
    (pkg / "helpers.py").write_text("HELPER = 'help'\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "leaf.py").write_text(
        "def lazy():\n    from ..helpers import HELPER\n    return HELPER\n"
    )
    (pkg / "__main__.py").write_text("print('main of', __name__, __spec__.name)\n")
    return tmp_path


def test_alias_returns_the_same_module_objects(packages: Path) -> None:
    out = run_python(
        """
        import sys
        from hasten.compat import AliasFinder
        sys.meta_path.insert(0, AliasFinder("aliaspkg", "tgtpkg"))
        import aliaspkg, tgtpkg
        assert aliaspkg is tgtpkg
        import aliaspkg.sub.leaf
        from aliaspkg.sub.leaf import lazy
        import tgtpkg.sub.leaf
        assert sys.modules["aliaspkg.sub.leaf"] is sys.modules["tgtpkg.sub.leaf"]
        assert sys.modules["aliaspkg.sub"] is sys.modules["tgtpkg.sub"]
        assert aliaspkg.sub.leaf.lazy is tgtpkg.sub.leaf.lazy is lazy
        # the real spec is restored: function-level relative imports raise no ImportWarning
        assert tgtpkg.sub.leaf.__spec__.name == "tgtpkg.sub.leaf"
        assert tgtpkg.__spec__.name == "tgtpkg"
        assert lazy() == "help"
        print("ok")
        """,
        packages,
    )
    assert out.strip() == "ok"


def test_target_imported_first_then_alias(packages: Path) -> None:
    run_python(
        """
        import sys
        import tgtpkg.sub.leaf
        from hasten.compat import AliasFinder
        sys.meta_path.insert(0, AliasFinder("aliaspkg", "tgtpkg"))
        import aliaspkg.sub.leaf
        assert aliaspkg.sub.leaf is tgtpkg.sub.leaf
        assert tgtpkg.sub.leaf.__spec__.name == "tgtpkg.sub.leaf"
        assert tgtpkg.sub.leaf.lazy() == "help"
        """,
        packages,
    )


def test_missing_submodule_raises_module_not_found(packages: Path) -> None:
    run_python(
        """
        import importlib.util, sys
        from hasten.compat import AliasFinder
        sys.meta_path.insert(0, AliasFinder("aliaspkg", "tgtpkg"))
        try:
            import aliaspkg.nope
        except ModuleNotFoundError as exc:
            assert exc.name == "aliaspkg.nope", exc.name
            assert str(exc) == "No module named 'aliaspkg.nope'", str(exc)
        else:
            raise AssertionError("no error")
        assert importlib.util.find_spec("aliaspkg.nope") is None
        assert "aliaspkg.nope" not in sys.modules
        """,
        packages,
    )


def test_missing_target_never_falls_through(packages: Path) -> None:
    # a real `shadowpkg` is importable from sys.path, but the alias points at a missing package
    (packages / "shadowpkg").mkdir()
    (packages / "shadowpkg" / "__init__.py").write_text("REAL = True\n")
    run_python(
        """
        import sys
        from hasten.compat import AliasFinder
        sys.meta_path.insert(0, AliasFinder("shadowpkg", "nosuchtarget"))
        try:
            import shadowpkg
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError("the real shadowpkg was imported")
        """,
        packages,
    )


def test_run_module_through_the_alias(packages: Path) -> None:
    out = run_python(
        """
        import runpy, sys
        from hasten.compat import AliasFinder
        sys.meta_path.insert(0, AliasFinder("aliaspkg", "tgtpkg"))
        runpy.run_module("aliaspkg", run_name="__main__", alter_sys=True)
        """,
        packages,
    )
    assert out.strip() == "main of __main__ aliaspkg.__main__"


def test_loader_delegates_source_and_filename(packages: Path) -> None:
    run_python(
        """
        import sys
        from hasten.compat import AliasFinder
        finder = AliasFinder("aliaspkg", "tgtpkg")
        sys.meta_path.insert(0, finder)
        import aliaspkg
        assert finder.is_package("aliaspkg.sub") and not finder.is_package("aliaspkg.helpers")
        assert finder.get_filename("aliaspkg.helpers").endswith("helpers.py")
        assert "HELPER" in finder.get_source("aliaspkg.helpers")
        assert finder.get_code("aliaspkg.helpers") is not None
        """,
        packages,
    )


def test_fastapi_is_hasten(tmp_path: Path) -> None:
    out = run_python(
        """
        import sys
        import hasten.compat
        hasten.compat.install()
        import fastapi, hasten
        # The top-level name is a view of hasten (only __version__ differs).
        assert fastapi.FastAPI is hasten.FastAPI and fastapi.__version__ == "0.165.0"
        import fastapi.params
        from fastapi.params import Query
        import hasten.params
        assert sys.modules["fastapi.params"] is sys.modules["hasten.params"]
        assert Query is hasten.params.Query
        assert hasten.params.__spec__.name == "hasten.params"
        assert hasten.compat.leaks() == []
        try:
            import fastapi.definitely_not_a_module
        except ModuleNotFoundError as exc:
            assert exc.name == "fastapi.definitely_not_a_module"
        else:
            raise AssertionError("no error")
        print(hasten.compat.describe())
        """,
        tmp_path,
    )
    assert out.startswith("fastapi: answered by hasten")


def test_install_is_idempotent(tmp_path: Path) -> None:
    run_python(
        """
        import sys
        import hasten.compat as compat
        first = compat.install()
        assert compat.install() is first
        assert sys.meta_path[0] is first
        sys.meta_path.insert(0, object())       # someone else got in front
        assert compat.install() is first
        assert sys.meta_path[0] is first
        assert sum(1 for f in sys.meta_path if f is first) == 1
        assert compat.find_finder() is first
        compat.uninstall()
        assert compat.find_finder() is None
        """,
        tmp_path,
    )


def test_install_drops_stale_real_modules(tmp_path: Path) -> None:
    run_python(
        """
        import sys, types
        import hasten.compat as compat
        sys.modules["fastapi"] = types.ModuleType("fastapi")   # a "real" fastapi
        assert compat.leaks() == ["fastapi"]
        compat.install()
        import fastapi, hasten
        assert fastapi.FastAPI is hasten.FastAPI and compat.leaks() == []
        """,
        tmp_path,
    )


def test_install_from_env(tmp_path: Path) -> None:
    log = tmp_path / "leaks.log"
    out = run_python(
        """
        import os
        import hasten.compat as compat
        assert compat.install_from_env({}) is None
        assert compat.find_finder() is None
        # Set here, not in the child's environment: there the start-up hook installed with
        # hasten (hasten-fastapi-alias.pth, tests/test_alias_env.py) would alias at start.
        os.environ["HASTEN_FASTAPI_ALIAS"] = "1"
        assert compat.install_from_env() is not None
        import sys
        import fastapi.params
        print(sum(1 for name in sys.modules if name.split(".")[0] == "fastapi"))
        """,
        tmp_path,
        env={"HASTEN_FASTAPI_ALIAS_LEAK_LOG": str(log)},
    )
    pid, _argv, count, found = log.read_text().rstrip("\n").split("\t")
    # ``import fastapi`` also imports FastAPI's submodules (fastapi.params among them).
    assert int(pid) > 0 and int(count) == int(out) > 2 and found == ""


def test_pytest_plugin(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    (tmp_path / "test_sample.py").write_text(
        "import fastapi.params\nimport hasten.params\n\n"
        "def test_same():\n    assert fastapi.params is hasten.params\n"
    )
    results = tmp_path / "results.jsonl"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env["HASTEN_COMPAT_RESULTS"] = str(results)
    env.pop("HASTEN_FASTAPI_ALIAS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "hasten.compat", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fastapi: answered by hasten" in proc.stdout
    assert "all of them hasten modules" in proc.stdout
    assert "1 passed" in proc.stdout
    assert '"outcome": "passed"' in results.read_text()
