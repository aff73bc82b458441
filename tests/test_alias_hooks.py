"""Import hooks see ``fastapi.<x>`` imported through the alias as on FastAPI.

APM agents wrap the loader of the modules they watch (a finder that asks the rest of
``sys.meta_path`` and wraps the spec's loader, as New Relic's ``ImportHookFinder`` and ddtrace's
module watchdog do) and run their hooks keyed on ``module.__name__`` once the module executed.
The hook here is such a finder, put before or behind the alias finder; each check runs in a
fresh interpreter so the alias never leaks into other tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A loader-wrapping import hook, keyed on module names (New Relic's and ddtrace's shape).
HOOK = """
import importlib.util
import sys

seen = []

class Wrapping:
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        if module.__name__ in WATCHED:
            seen.append(module.__name__)
            WATCHED[module.__name__](module)

class HookFinder:
    def __init__(self):
        self.busy = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in WATCHED or fullname in self.busy:
            return None
        self.busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self.busy.discard(fullname)
        if spec is not None and not isinstance(spec.loader, Wrapping):
            spec.loader = Wrapping(spec.loader)
        return spec

def patch_routing(module):
    original = module.serialize_response
    async def serialize_response(**kwargs):
        return await original(**kwargs)
    module.serialize_response = serialize_response  # set on the module the hook was given

WATCHED = {
    "fastapi": lambda module: setattr(module, "_hook_patched", True),
    "fastapi.routing": patch_routing,
}
"""


def run_python(code: str, cwd: Path) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(cwd), str(ROOT)])
    env.pop("HASTEN_FASTAPI_ALIAS", None)
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", HOOK + textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.parametrize("hook_first", [False, True], ids=["hook-behind", "hook-in-front"])
def test_hooks_on_fastapi_modules_fire_and_patch_hasten(tmp_path: Path, hook_first: bool) -> None:
    out = run_python(
        f"""
        import hasten.compat
        if {hook_first}:
            hasten.compat.install()
            sys.meta_path.insert(0, HookFinder())
        else:
            sys.meta_path.insert(0, HookFinder())
            hasten.compat.install()  # in front of the hook, as when an agent starts first

        import fastapi  # FastAPI's import loads fastapi.routing: so does the alias
        import hasten, hasten.routing
        assert seen == ["fastapi.routing", "fastapi"], seen
        assert sys.modules["fastapi.routing"] is hasten.routing
        assert hasten.routing.serialize_response.__qualname__ == "patch_routing.<locals>.serialize_response"
        assert hasten._hook_patched is True and fastapi._hook_patched is True
        # The import machinery never touched Hasten's own modules.
        assert hasten.routing.__spec__.name == "hasten.routing"
        assert hasten.routing.__loader__.__class__.__name__ == "SourceFileLoader"
        assert hasten.__spec__.name == "hasten" and fastapi.__version__ == "0.165.0"
        assert hasten.compat.leaks() == []
        print("ok")
        """,
        tmp_path,
    )
    assert out.split() == ["ok"]


def test_import_fastapi_imports_fastapis_submodules(tmp_path: Path) -> None:
    out = run_python(
        """
        import hasten.compat
        from hasten.compat._alias import FASTAPI_IMPORTS
        hasten.compat.install()
        import fastapi
        loaded = {name[len("fastapi."):] for name in sys.modules if name.startswith("fastapi.")}
        # Each of FastAPI's that Hasten loads on its own import (the rest stay lazy).
        want = {sub for sub in FASTAPI_IMPORTS if "hasten." + sub in sys.modules}
        assert loaded == want, (sorted(loaded ^ want))
        for sub in loaded:
            assert sys.modules["fastapi." + sub] is sys.modules["hasten." + sub]
        print("routing" in loaded, "applications" in loaded, "dependencies.utils" in loaded)
        """,
        tmp_path,
    )
    assert out.split() == ["True", "True", "True"]


def test_a_hook_registered_after_import_finds_the_module(tmp_path: Path) -> None:
    # Agents initialised late look the module up in sys.modules and patch it there.
    out = run_python(
        """
        import hasten.compat
        hasten.compat.install()
        import fastapi
        import hasten.routing
        patch_routing(sys.modules["fastapi.routing"])
        print(hasten.routing.serialize_response.__qualname__)
        """,
        tmp_path,
    )
    assert out.split() == ["patch_routing.<locals>.serialize_response"]


def test_a_module_built_from_the_alias_spec_acts_on_hasten(tmp_path: Path) -> None:
    # Lazy importers build the module from the spec themselves and keep it.
    out = run_python(
        """
        import importlib.util
        import hasten.compat
        import hasten.params
        hasten.compat.install()
        spec = importlib.util.find_spec("fastapi.params")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert sys.modules["fastapi.params"] is hasten.params
        assert module.Depends is hasten.params.Depends and module.__name__ == "fastapi.params"
        module.MARK = 1
        sys.modules["fastapi.params"] = module  # what a lazy importer does
        print(hasten.params.MARK, hasten.compat.leaks())
        """,
        tmp_path,
    )
    assert out.split() == ["1", "[]"]
