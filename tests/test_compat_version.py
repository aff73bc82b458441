"""``fastapi.__version__`` under the alias is the FastAPI release Hasten matches.

Third-party code branches on it (``if fastapi.__version__ >= "0.100"``), so it must not read
Hasten's own version; ``hasten.__version__`` stays Hasten's. Each check runs in a fresh
interpreter, so that the alias does not leak into the rest of the test session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import hasten
from hasten import compat

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, cwd: Path) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(cwd), str(ROOT)])
    env.pop("HASTEN_FASTAPI_ALIAS", None)
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_the_version_is_kept_in_one_place() -> None:
    # scripts/compat runs FastAPI's suite of the release named in compat/FASTAPI_VERSION.
    recorded = (ROOT / "compat" / "FASTAPI_VERSION").read_text().strip()
    assert compat.FASTAPI_VERSION == recorded == "0.165.0"
    assert hasten.__version__ != compat.FASTAPI_VERSION


def test_fastapi_version_under_the_alias(tmp_path: Path) -> None:
    out = run_python(
        """
        import sys
        import hasten.compat
        hasten.compat.install()
        import hasten
        import fastapi
        from fastapi import __version__, FastAPI, APIRouter, Query
        assert fastapi.__version__ == __version__ == hasten.compat.FASTAPI_VERSION
        assert hasten.__version__ != fastapi.__version__
        # Everything else is Hasten's, the very same objects.
        assert FastAPI is hasten.FastAPI and APIRouter is hasten.APIRouter
        assert Query is hasten.Query and fastapi.Depends is hasten.Depends
        import fastapi.routing, fastapi.params, fastapi.dependencies.utils
        assert fastapi.routing is hasten.routing is sys.modules["fastapi.routing"]
        assert sys.modules["fastapi.params"] is sys.modules["hasten.params"]
        assert fastapi.dependencies.utils is hasten.dependencies.utils
        assert sys.modules["fastapi"] is fastapi
        assert fastapi.__name__ == "hasten" and fastapi.__path__ == hasten.__path__
        assert hasten.__spec__.name == "hasten"
        assert "FastAPI" in dir(fastapi) and repr(fastapi) == repr(hasten)
        assert hasten.compat.leaks() == []
        assert hasten.compat.describe().endswith(", fastapi.__version__ = 0.165.0")
        print(fastapi.__version__, hasten.__version__)
        """,
        tmp_path,
    )
    assert out.split() == [compat.FASTAPI_VERSION, hasten.__version__]


def test_patching_through_fastapi_patches_hasten(tmp_path: Path) -> None:
    run_python(
        """
        import hasten.compat
        hasten.compat.install()
        import fastapi, hasten
        original = hasten.FastAPI
        fastapi.FastAPI = "patched"          # monkeypatch.setattr(fastapi, "FastAPI", ...)
        assert hasten.FastAPI == "patched"
        fastapi.FastAPI = original
        fastapi.extra_name = 1
        assert hasten.extra_name == 1
        del fastapi.extra_name
        assert not hasattr(hasten, "extra_name")
        fastapi.__version__ = "9.9.9"        # the view's own: Hasten's version is untouched
        assert fastapi.__version__ == "9.9.9" and hasten.__version__ != "9.9.9"
        """,
        tmp_path,
    )


def test_other_aliases_still_return_the_target_itself(tmp_path: Path) -> None:
    (tmp_path / "tgtpkg").mkdir()
    (tmp_path / "tgtpkg" / "__init__.py").write_text('__version__ = "1.2.3"\n')
    run_python(
        """
        import sys
        from hasten.compat import AliasFinder
        sys.meta_path.insert(0, AliasFinder("aliaspkg", "tgtpkg"))
        import aliaspkg, tgtpkg
        assert aliaspkg is tgtpkg and aliaspkg.__version__ == "1.2.3"
        """,
        tmp_path,
    )


def test_python_m_fastapi_still_runs_hasten(tmp_path: Path) -> None:
    out = run_python(
        """
        import runpy, sys
        import hasten.compat
        hasten.compat.install()
        import importlib.util
        spec = importlib.util.find_spec("fastapi.__main__")
        assert spec is not None and spec.origin.endswith("hasten/__main__.py"), spec
        import fastapi
        print(fastapi.__version__)
        """,
        tmp_path,
    )
    assert out.strip() == compat.FASTAPI_VERSION
