"""Interpreter start-up hook of the ``hasten`` distribution: ``HASTEN_FASTAPI_ALIAS=1``.

``hasten-fastapi-alias.pth`` (installed into site-packages with the package) imports this module
only when ``HASTEN_FASTAPI_ALIAS`` is set, so an interpreter without the variable pays nothing.
With the variable true (``1``/``true``/``yes``/``on``), `run` installs the ``fastapi`` →
``hasten`` import alias of `hasten.compat` in every Python process of the environment
(subprocesses, xdist workers, ``uvicorn --reload`` children, ``python -m fastapi``).

It does not import the ``hasten`` package: importing Hasten at start-up would import Pydantic,
Starlette and their plugins before the program runs (pytest could no longer rewrite them).
It locates the package without importing it and loads ``hasten/compat/_alias.py`` (standard
library only) as a module of its own; `hasten.compat.install` later recognises the same finder.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from types import ModuleType

ENV_ALIAS = "HASTEN_FASTAPI_ALIAS"
# The module name hasten/compat/_alias.py is loaded under (scripts/compat's own hook uses it too).
ALIAS_MODULE = "_hasten_compat_alias"
_TRUE = frozenset({"1", "true", "yes", "on"})


def _load_alias_module() -> ModuleType | None:
    loaded = sys.modules.get(ALIAS_MODULE)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec("hasten")  # a top-level name: nothing is imported
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "compat", "_alias.py")
    alias_spec = importlib.util.spec_from_file_location(ALIAS_MODULE, path)
    if alias_spec is None or alias_spec.loader is None:
        return None
    module = importlib.util.module_from_spec(alias_spec)
    sys.modules[ALIAS_MODULE] = module
    try:
        alias_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[ALIAS_MODULE]
        raise
    return module


def run(environ: Mapping[str, str] | None = None) -> bool:
    """Install the alias if ``HASTEN_FASTAPI_ALIAS`` is true; return whether it is installed."""
    env = os.environ if environ is None else environ
    if env.get(ENV_ALIAS, "").strip().lower() not in _TRUE:
        return False
    try:
        module = _load_alias_module()
        if module is None:
            raise ImportError("the hasten package cannot be found")
        return module.install_from_env(dict(env)) is not None
    except Exception as exc:  # a start-up hook must not stop the interpreter
        print(f"hasten: {ENV_ALIAS} is set but the alias failed: {exc!r}", file=sys.stderr)
        return False
