"""Run code written for FastAPI on Hasten: ``import fastapi`` answered by ``hasten``.

PYTEST_DONT_REWRITE

Three ways in:

* ``hasten.compat.install()``: put the alias finder first in ``sys.meta_path``. From then on
  ``import fastapi.<x>`` returns the very same module objects as ``hasten.<x>``
  (``sys.modules["fastapi.routing"] is sys.modules["hasten.routing"]``), and ``import fastapi``
  a view of ``hasten`` whose attributes are Hasten's (``from fastapi import FastAPI`` is
  Hasten's class), except ``fastapi.__version__``: ``FASTAPI_VERSION``, the FastAPI release
  Hasten is compatible with. Idempotent. ``uninstall()`` undoes it.
* ``install_from_env()``: the same, but only when ``HASTEN_FASTAPI_ALIAS=1`` is set. Call it
  from a ``sitecustomize`` or a ``.pth`` file so that subprocesses (xdist workers,
  ``python -m fastapi``) are aliased too. With ``HASTEN_FASTAPI_ALIAS_LEAK_LOG=<file>`` every
  such interpreter appends one line at exit: pid, argv, aliased-module count, leaks.
* As a pytest plugin: ``pytest -p hasten.compat``. The alias is installed when the plugin is
  registered (before conftests and test modules are imported), the report header says which
  package answers ``fastapi``, and at the end the plugin checks that every ``fastapi*`` entry in
  ``sys.modules`` is a Hasten module and prints a warning line if not. With
  ``HASTEN_COMPAT_RESULTS=<file>`` the controller writes one JSON line per failed/skipped/
  called test (used by ``scripts/compat``).

Importing this module has no side effect: nothing is aliased until one of the above runs.
(The ``PYTEST_DONT_REWRITE`` marker keeps pytest from warning that the plugin was imported
before it could rewrite it, which ``filterwarnings = error`` would turn into an error.)
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from ._alias import (
    ALIAS,
    ENV_ALIAS,
    ENV_LEAK_LOG,
    FASTAPI_VERSION,
    TARGET,
    AliasFinder,
    AliasModule,
    find_finder,
    install,
    install_from_env,
    is_aliased,
    leaks,
    uninstall,
)

if TYPE_CHECKING:
    import pytest

__all__ = [
    "ALIAS",
    "ENV_ALIAS",
    "ENV_LEAK_LOG",
    "ENV_RESULTS",
    "FASTAPI_VERSION",
    "TARGET",
    "AliasFinder",
    "AliasModule",
    "describe",
    "find_finder",
    "install",
    "install_from_env",
    "is_aliased",
    "leaks",
    "uninstall",
]

ENV_RESULTS = "HASTEN_COMPAT_RESULTS"

# Leak checks of this pytest session: "controller" and one entry per xdist worker.
_session_leaks: dict[str, dict[str, Any]] = {}


def describe() -> str:
    """One line naming the package that answers ``import fastapi`` right now."""
    finder = find_finder()
    if finder is None:
        return f"{ALIAS}: not aliased (hasten.compat alias not installed)"
    module = sys.modules.get(finder.target)
    version = getattr(module, "__version__", "?") if module is not None else "?"
    where = getattr(module, "__file__", None) if module is not None else None
    if where:
        where = os.path.dirname(where)
    else:
        where = "not imported yet"
    line = f"{ALIAS}: answered by {finder.target} {version} ({where}) via hasten.compat alias"
    claimed = finder.overrides.get("__version__")
    return f"{line}, {ALIAS}.__version__ = {claimed}" if claimed else line


# -- pytest plugin ---------------------------------------------------------------------------
# Plain functions (no pytest import at module level): pytest finds them by name.


def pytest_addhooks(pluginmanager: Any) -> None:
    # Called when this plugin is registered (``-p hasten.compat``): the earliest moment.
    install()


def pytest_load_initial_conftests(early_config: Any, parser: Any, args: list[str]) -> None:
    install()  # idempotent; moves the finder back in front of pytest's rewrite hook


def pytest_configure(config: pytest.Config) -> None:
    install()
    _session_leaks.clear()
    path = os.environ.get(ENV_RESULTS)
    if path and not hasattr(config, "workerinput"):
        from ._results import ResultRecorder

        config.pluginmanager.register(ResultRecorder(path), "hasten-compat-results")
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_XdistLeaks(), "hasten-compat-xdist")


def pytest_sessionstart(session: pytest.Session) -> None:
    install()


def pytest_report_header(config: pytest.Config) -> str:
    return describe()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config: Any = session.config
    names = [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]
    found = leaks()
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # xdist worker: hand the result to the controller
        workeroutput["hasten_alias"] = {"modules": len(names), "leaks": found}
        return
    _session_leaks["controller"] = {"modules": len(names), "leaks": found}


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    results = _session_leaks
    modules = sum(int(r.get("modules", 0)) for r in results.values())
    bad = sorted({name for r in results.values() for name in r.get("leaks", [])})
    if bad:
        terminalreporter.write_line(
            f"hasten.compat: WARNING: real {ALIAS} modules were loaded: {', '.join(bad)}",
            red=True,
        )
    else:
        terminalreporter.write_line(
            f"hasten.compat: {modules} {ALIAS}* module(s) in {len(results)} process(es), "
            f"all of them {TARGET} modules"
        )


class _XdistLeaks:
    """Collects the workers' leak checks (registered only when pytest-xdist is present)."""

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", None) or {}
        result = output.get("hasten_alias")
        if result is not None:
            worker_id = output.get("workerid", str(id(node)))
            _session_leaks[str(worker_id)] = result
