"""``importlib.metadata`` through the alias: ``version("fastapi")`` is the release Hasten matches.

Instrumentations check the installed FastAPI distribution before patching it (OpenTelemetry's
``FastAPIInstrumentor().instrument()`` requires ``fastapi ~= 0.92``). With the alias installed
and no real ``fastapi`` distribution, the alias answers; a real one still answers for itself.
Each check runs in a fresh interpreter so the alias never leaks into other tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

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
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_the_alias_answers_for_fastapi_while_installed(tmp_path: Path) -> None:
    out = run_python(
        """
        import importlib.metadata as metadata
        import hasten.compat

        def version():
            try:
                return metadata.version("fastapi")
            except metadata.PackageNotFoundError:
                return "missing"

        before = version()
        hasten.compat.install()
        during = version()
        dist = metadata.distribution("FastAPI")  # names compare normalised, as pip's
        assert dist.metadata["Name"] == "fastapi"
        assert dist.files is None and dist.requires is None and list(dist.entry_points) == []
        names = [d.metadata["Name"] for d in metadata.distributions()]
        assert names.count("fastapi") == 1, names
        assert metadata.packages_distributions()["fastapi"] == ["fastapi"]
        hasten.compat.uninstall()
        print(before, during, version())
        """,
        tmp_path,
    )
    assert out.split() == ["missing", "0.165.0", "missing"]


def test_an_installed_fastapi_distribution_answers_for_itself(tmp_path: Path) -> None:
    info = tmp_path / "site" / "fastapi-0.100.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fastapi\nVersion: 0.100.0\n")
    out = run_python(
        f"""
        import importlib.metadata as metadata
        import sys
        import hasten.compat

        hasten.compat.install()
        alone = metadata.version("fastapi")
        sys.path.insert(0, {str(tmp_path / "site")!r})
        versions = [d.version for d in metadata.distributions() if d.metadata["Name"] == "fastapi"]
        print(alone, metadata.version("fastapi"), *versions)
        """,
        tmp_path,
    )
    assert out.split() == ["0.165.0", "0.100.0", "0.100.0"]


def test_an_alias_without_a_version_has_no_distribution(tmp_path: Path) -> None:
    (tmp_path / "tgtpkg").mkdir()
    (tmp_path / "tgtpkg" / "__init__.py").write_text("")
    out = run_python(
        """
        import importlib.metadata as metadata
        import sys
        from hasten.compat import AliasFinder

        sys.meta_path.insert(0, AliasFinder("aliaspkg", "tgtpkg"))
        import aliaspkg
        try:
            metadata.version("aliaspkg")
        except metadata.PackageNotFoundError:
            print("missing")
        """,
        tmp_path,
    )
    assert out.split() == ["missing"]
