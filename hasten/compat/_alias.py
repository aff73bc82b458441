"""The `fastapi` -> `hasten` import alias (a `sys.meta_path` finder and loader).

PYTEST_DONT_REWRITE

`AliasFinder` answers every import of ``fastapi.<x>`` by importing ``hasten.<x>`` and handing
back *that same module object*, so that ``sys.modules["fastapi.routing"] is
sys.modules["hasten.routing"]``. Classes are therefore identical objects: ``isinstance``,
``except``, ``monkeypatch.setattr(fastapi.routing, ...)`` all act on Hasten.

The top-level ``fastapi`` is a thin view of ``hasten`` (`AliasModule`): every attribute read,
set or deleted is ``hasten``'s, except ``__version__``, which reads `FASTAPI_VERSION` (the
FastAPI release Hasten is compatible with: third-party code branches on it), while
``hasten.__version__`` stays Hasten's own.

Submodules are aliased lazily, on first import: a submodule Hasten lacks fails exactly like a
missing FastAPI submodule (``ModuleNotFoundError: No module named 'fastapi.xyz'``).

Import hooks see ``fastapi.<x>`` imported as on FastAPI. Instrumentations (ddtrace's
``ModuleWatchdog``, New Relic's ``ImportHookFinder``) wrap the loader of a module they watch and,
once it has executed, run their hooks keyed on ``module.__name__``. So the module that
``create_module`` hands to the import system is an `ImportView`: named ``fastapi.<x>``, its own
import attributes (``__spec__``, ``__loader__``, ``__file__``, …) kept apart, every other
attribute read or set on ``hasten.<x>`` (a hook's ``setattr`` patches Hasten). ``exec_module``
then puts the real module (``hasten.<x>``, or the `AliasModule` for ``fastapi``) in
``sys.modules``, which is what the import statement returns. And ``import fastapi`` imports,
through the import system, the submodules FastAPI's own ``import fastapi`` loads
(`FASTAPI_IMPORTS`, those Hasten has already loaded), so a hook on ``fastapi.routing`` fires
as it does on FastAPI. Hasten's own modules are never touched by the import machinery: their
``__spec__`` stays theirs (function-level relative imports need it).

The loader delegates ``get_code``/``get_source``/``get_filename``/``is_package`` to the target's
loader, so ``python -m fastapi`` (runpy) and ``coverage run -m fastapi`` execute
``hasten/__main__.py``.

``importlib.metadata`` answers for the alias too (`find_distributions`): with no real
``fastapi`` distribution installed, ``version("fastapi")`` is `FASTAPI_VERSION`, so code that
checks the installed FastAPI before patching it (OpenTelemetry's ``FastAPIInstrumentor``) finds
the release Hasten matches. An installed ``fastapi`` distribution still answers for itself.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import pathlib
import re
import sys
import threading
from collections.abc import Iterable, Sequence
from types import CodeType, ModuleType
from typing import Any

__all__ = [
    "ALIAS",
    "ENV_ALIAS",
    "ENV_LEAK_LOG",
    "FASTAPI_IMPORTS",
    "FASTAPI_VERSION",
    "TARGET",
    "AliasFinder",
    "AliasModule",
    "ImportView",
    "alias_distribution",
    "AliasModule",
    "find_finder",
    "install",
    "install_from_env",
    "is_aliased",
    "leaks",
    "uninstall",
]

ALIAS = "fastapi"
TARGET = "hasten"
# The FastAPI release whose behaviour Hasten matches; ``fastapi.__version__`` under the alias.
# compat/FASTAPI_VERSION (the release scripts/compat tests against) must say the same.
FASTAPI_VERSION = "0.165.0"
# What ``import fastapi`` loads on FastAPI 0.165.0, submodules in the order they finish
# importing: under the alias, ``import fastapi`` imports these names too (see the docstring).
FASTAPI_IMPORTS = (
    "concurrency", "exceptions", "openapi", "types", "_compat.shared", "openapi.constants",
    "_compat.v2", "_compat", "logger", "openapi.models", "datastructures", "params", "encoders",
    "utils", "websockets", "exception_handlers", "_body_limit", "_form_limits", "dependencies",
    "security.base", "security.api_key", "security.utils", "security.http", "param_functions",
    "security.oauth2", "security.open_id_connect_url", "security", "dependencies.models",
    "telemetry._api", "telemetry", "background", "dependencies.utils", "sse", "routing",
    "middleware", "middleware.asyncexitstack", "openapi.docs", "responses", "openapi.utils",
    "telemetry._asgi", "applications", "requests",
)  # fmt: skip
ENV_ALIAS = "HASTEN_FASTAPI_ALIAS"
ENV_LEAK_LOG = "HASTEN_FASTAPI_ALIAS_LEAK_LOG"
_TRUE = frozenset({"1", "true", "yes", "on"})

# Marker attribute: lets install() recognise a finder even if this file was loaded twice
# (e.g. once from a .pth file under another module name).
_MARKER = "_hasten_alias_finder"


class AliasModule(ModuleType):
    """The top-level alias module: a view of ``target`` that answers a few names its own way.

    Reading, setting or deleting any other attribute acts on ``target`` itself, so
    ``from fastapi import FastAPI`` gives Hasten's class and ``monkeypatch.setattr(fastapi,
    ...)`` patches Hasten. Setting an overridden name (``__version__``) changes only the view.
    """

    def __init__(self, target: ModuleType, overrides: dict[str, Any]) -> None:
        super().__init__(target.__name__)
        object.__setattr__(self, "_alias_target", target)
        object.__setattr__(self, "_alias_overrides", dict(overrides))

    def __getattribute__(self, name: str) -> Any:
        overrides = object.__getattribute__(self, "_alias_overrides")
        if name in overrides:
            return overrides[name]
        if name in ("_alias_target", "_alias_overrides"):
            return object.__getattribute__(self, name)
        return getattr(object.__getattribute__(self, "_alias_target"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        overrides = object.__getattribute__(self, "_alias_overrides")
        if name in overrides:
            overrides[name] = value
        else:
            setattr(object.__getattribute__(self, "_alias_target"), name, value)

    def __delattr__(self, name: str) -> None:
        overrides = object.__getattribute__(self, "_alias_overrides")
        if name in overrides:
            del overrides[name]
        else:
            delattr(object.__getattribute__(self, "_alias_target"), name)

    def __dir__(self) -> list[str]:
        return dir(object.__getattribute__(self, "_alias_target"))

    def __repr__(self) -> str:
        return repr(object.__getattribute__(self, "_alias_target"))


class ImportView(ModuleType):
    """The module import hooks see while ``alias[.x]`` is imported (see the module docstring).

    Named ``alias[.x]``; the attributes the import system and import hooks set on a module
    while importing it (dunder names) are its own, ``overrides`` answer for themselves, and
    every other attribute is read, set or deleted on ``target``.
    """

    def __init__(self, name: str, target: ModuleType, overrides: dict[str, Any]) -> None:
        super().__init__(name, getattr(target, "__doc__", None))
        object.__setattr__(self, "_alias_view_target", target)
        object.__setattr__(self, "_alias_overrides", overrides)

    def __getattribute__(self, name: str) -> Any:
        overrides = object.__getattribute__(self, "_alias_overrides")
        if name in overrides:
            return overrides[name]
        if name.startswith("_") and name in object.__getattribute__(self, "__dict__"):
            return object.__getattribute__(self, name)
        if name == "__class__":
            return object.__getattribute__(self, name)
        return getattr(object.__getattribute__(self, "_alias_view_target"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        overrides = object.__getattribute__(self, "_alias_overrides")
        if name in overrides:
            overrides[name] = value
        elif name.startswith("__") and name.endswith("__"):
            object.__setattr__(self, name, value)
        else:
            setattr(object.__getattribute__(self, "_alias_view_target"), name, value)

    def __delattr__(self, name: str) -> None:
        if name in object.__getattribute__(self, "__dict__"):
            object.__delattr__(self, name)
        else:
            delattr(object.__getattribute__(self, "_alias_view_target"), name)

    def __dir__(self) -> list[str]:
        return dir(object.__getattribute__(self, "_alias_view_target"))

    def __repr__(self) -> str:
        target = object.__getattribute__(self, "_alias_view_target")
        return f"<module {object.__getattribute__(self, '__name__')!r} (alias of {target!r})>"


class AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Meta path finder + loader that maps ``alias[.x]`` onto the modules of ``target[.x]``.

    ``overrides``: attributes the top-level alias module answers itself (default: for
    ``fastapi``, ``__version__`` is `FASTAPI_VERSION`); with none, the top-level alias is the
    target module object itself, like every submodule. ``submodules``: the ``alias.<x>`` names
    imported with the top-level alias when ``target.<x>`` is loaded (default: for ``fastapi``,
    `FASTAPI_IMPORTS`).
    """

    _hasten_alias_finder = True

    def __init__(
        self,
        alias: str = ALIAS,
        target: str = TARGET,
        overrides: dict[str, Any] | None = None,
        submodules: Sequence[str] | None = None,
    ) -> None:
        self.alias = alias
        self.target = target
        if overrides is None:
            overrides = {"__version__": FASTAPI_VERSION} if alias == ALIAS else {}
        self.overrides = overrides
        if submodules is None:
            submodules = FASTAPI_IMPORTS if alias == ALIAS else ()
        self.submodules = tuple(submodules)

    def __repr__(self) -> str:
        return f"<AliasFinder {self.alias!r} -> {self.target!r}>"

    # -- name mapping -------------------------------------------------------------------------

    def target_name(self, fullname: str) -> str | None:
        """``fastapi.x.y`` -> ``hasten.x.y``; None when the name is not under the alias."""
        if fullname == self.alias:
            return self.target
        if fullname.startswith(self.alias + "."):
            return self.target + fullname[len(self.alias) :]
        return None

    def _require_target(self, fullname: str) -> str:
        tname = self.target_name(fullname)
        if tname is None:
            raise ImportError(f"{self!r} cannot handle {fullname!r}", name=fullname)
        return tname

    def _target_spec(self, fullname: str) -> importlib.machinery.ModuleSpec:
        tname = self._require_target(fullname)
        module = sys.modules.get(tname)
        spec = getattr(module, "__spec__", None) if module is not None else None
        if spec is None:
            spec = importlib.util.find_spec(tname)
        if spec is None:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return _real_spec(spec)

    # -- finder -------------------------------------------------------------------------------

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """The spec of ``alias[.x]``, loaded by this finder, offered to the import hooks behind
        it first (see `_offer`); None for a name outside the alias or a missing submodule."""
        if self.target_name(fullname) is None:
            return None
        pending: dict[tuple[int, str], importlib.machinery.ModuleSpec] | None
        pending = getattr(_PENDING, "specs", None)
        if pending is None:
            pending = _PENDING.specs = {}
        key = (id(self), fullname)
        if key in pending:  # asked back by an import hook this finder consults
            return pending[key]
        spec = self._own_spec(fullname)
        if spec is None:
            return None
        pending[key] = spec
        try:
            self._offer(spec, path, target)
        finally:
            del pending[key]
        return spec

    def _own_spec(self, fullname: str) -> importlib.machinery.ModuleSpec | None:
        tname = self._require_target(fullname)
        tspec = importlib.util.find_spec(tname)
        if tspec is None:
            if fullname == self.alias:
                # Never fall through to PathFinder: it could find a real `fastapi` on sys.path.
                raise ModuleNotFoundError(
                    f"No module named {fullname!r} (aliased to missing {tname!r})", name=fullname
                )
            return None  # a submodule Hasten lacks: ModuleNotFoundError, as with FastAPI
        tspec = _real_spec(tspec)
        is_package = tspec.submodule_search_locations is not None
        spec = importlib.machinery.ModuleSpec(
            fullname, self, origin=tspec.origin, is_package=is_package
        )
        if tspec.submodule_search_locations is not None:
            spec.submodule_search_locations = list(tspec.submodule_search_locations)
        spec.has_location = tspec.has_location
        return spec

    def _offer(
        self,
        spec: importlib.machinery.ModuleSpec,
        path: Sequence[str] | None,
        target: ModuleType | None,
    ) -> None:
        """Let the finders between this one and ``PathFinder`` see the import of ``spec``.

        Import hooks (New Relic's ``ImportHookFinder``, ddtrace's module watchdog) are finders
        that ask the rest of ``sys.meta_path`` for a spec and wrap its loader; this finder,
        first in ``sys.meta_path``, would otherwise answer before them. Each is asked for the
        name; asked back, this finder answers ``spec``, which they wrap in place. What any
        other finder answers (a real ``fastapi`` on a path) is ignored.
        """
        try:
            after = sys.meta_path[sys.meta_path.index(self) + 1 :]
        except ValueError:
            return
        for finder in after:
            if finder is importlib.machinery.PathFinder:
                break
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            try:
                find(spec.name, path, target)
            except Exception:  # a finder that fails on the name never saw it before: skip it
                continue

    # -- loader -------------------------------------------------------------------------------

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self._require_target(spec.name))
        real = getattr(module, "__spec__", None)
        spec.loader_state = _real_spec(real) if real is not None else None
        overrides = self.overrides if spec.name == self.alias else {}
        return ImportView(spec.name, module, dict(overrides))

    def exec_module(self, module: ModuleType) -> None:
        """Put the real module in ``sys.modules`` in place of the view (the import returns
        it); for the top-level alias, import the `submodules` through the import system."""
        try:
            target = object.__getattribute__(module, "_alias_view_target")
        except AttributeError:  # not our view (a caller built the module itself)
            spec = getattr(module, "__spec__", None)
            if spec is not None and _is_alias_finder(spec.loader) and spec.loader_state:
                module.__spec__ = spec.loader_state  # the target's own spec, not ours
            return
        name = object.__getattribute__(module, "__name__")
        if name != self.alias:
            sys.modules[name] = target
            return
        overrides = object.__getattribute__(module, "_alias_overrides")
        sys.modules[name] = AliasModule(target, overrides) if overrides else target
        for sub in self.submodules:
            if f"{self.target}.{sub}" in sys.modules:
                importlib.import_module(f"{name}.{sub}")

    def _delegate(self, fullname: str) -> tuple[Any, str]:
        tspec = self._target_spec(fullname)
        if tspec.loader is None:
            raise ImportError(f"no loader for {tspec.name!r}", name=fullname)
        return tspec.loader, tspec.name

    def get_code(self, fullname: str) -> CodeType | None:
        loader, tname = self._delegate(fullname)
        code: CodeType | None = loader.get_code(tname)
        return code

    def get_source(self, fullname: str) -> str | None:
        loader, tname = self._delegate(fullname)
        source: str | None = loader.get_source(tname)
        return source

    def get_filename(self, fullname: str) -> str:
        loader, tname = self._delegate(fullname)
        filename: str = loader.get_filename(tname)
        return filename

    def is_package(self, fullname: str) -> bool:
        return self._target_spec(fullname).submodule_search_locations is not None

    # -- importlib.metadata -------------------------------------------------------------------

    def find_distributions(self, context: Any = None) -> Iterable[Any]:
        """The alias's distribution for ``importlib.metadata`` (``DistributionFinder`` protocol).

        Only for an alias that claims a version (``fastapi``: `FASTAPI_VERSION`), only for a
        search by that name or by none, and only when no other finder knows a real one.
        """
        version = self.overrides.get("__version__")
        name = getattr(context, "name", None)
        if not isinstance(version, str) or (name is not None and _dist_key(name) != self.alias):
            return ()
        if _installed_elsewhere(self.alias, context):
            return ()
        return (alias_distribution(self.alias, version),)


def _real_spec(spec: importlib.machinery.ModuleSpec) -> importlib.machinery.ModuleSpec:
    """Unwrap an alias spec (ours, possibly left on a module mid-import) to the target's."""
    while getattr(spec.loader, _MARKER, False) and spec.loader_state is not None:
        spec = spec.loader_state
    return spec


def _dist_key(name: str) -> str:
    """A distribution name as ``importlib.metadata`` compares them (PEP 503, ``_`` joined)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _installed_elsewhere(alias: str, context: Any) -> bool:
    """Whether a finder other than the alias's finds a real ``alias`` distribution."""
    import importlib.metadata

    search = importlib.metadata.DistributionFinder.Context(
        name=alias, path=getattr(context, "path", sys.path)
    )
    for finder in sys.meta_path:
        find = getattr(finder, "find_distributions", None)
        if find is None or _is_alias_finder(finder):
            continue
        if next(iter(find(search)), None) is not None:
            return True
    return False


_DISTRIBUTIONS: dict[tuple[str, str], Any] = {}
# Per thread, per finder: the specs being offered to the import hooks (`AliasFinder._offer`).
_PENDING = threading.local()


def alias_distribution(name: str, version: str) -> Any:
    """An ``importlib.metadata.Distribution`` named ``name`` at ``version``, with no files."""
    key = (name, version)
    found = _DISTRIBUTIONS.get(key)
    if found is None:
        found = _DISTRIBUTIONS[key] = _distribution_class()(name, version)
    return found


def _distribution_class() -> type:
    import importlib.metadata

    class AliasDistribution(importlib.metadata.Distribution):
        """The metadata of a package answered by the alias (name, version, its top level)."""

        def __init__(self, name: str, version: str) -> None:
            self._files = {
                "METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                f"Summary: {name} {version}, answered by {TARGET} (hasten.compat alias)\n",
                "top_level.txt": f"{name}\n",
                "INSTALLER": "hasten.compat\n",
            }

        def read_text(self, filename: str) -> str | None:
            return self._files.get(filename)

        def locate_file(self, path: Any) -> Any:
            return pathlib.Path(os.path.dirname(os.path.abspath(__file__)), str(path))

    return AliasDistribution


def _is_alias_finder(obj: object) -> bool:
    return bool(getattr(obj, _MARKER, False))


def find_finder(alias: str = ALIAS) -> AliasFinder | None:
    """The installed finder for ``alias``, if any."""
    for finder in sys.meta_path:
        if _is_alias_finder(finder) and getattr(finder, "alias", None) == alias:
            return finder  # type: ignore[return-value]
    return None


def _is_target_module(module: object, target: str) -> bool:
    try:  # an ImportView a caller kept (module_from_spec + exec_module) stands for its target
        module = object.__getattribute__(module, "_alias_view_target")
    except AttributeError:
        pass
    name = getattr(module, "__name__", None)
    return isinstance(name, str) and (name == target or name.startswith(target + "."))


def is_aliased(alias: str = ALIAS, target: str = TARGET) -> bool:
    """Whether the imported ``alias`` module (``fastapi``) is answered by ``target``."""
    return getattr(sys.modules.get(alias), "__name__", None) == target


def _alias_entries(alias: str) -> list[str]:
    return [n for n in list(sys.modules) if n == alias or n.startswith(alias + ".")]


def leaks(alias: str = ALIAS, target: str = TARGET) -> list[str]:
    """Names in ``sys.modules`` under ``alias`` that are *not* modules of ``target``."""
    return sorted(
        n for n in _alias_entries(alias) if not _is_target_module(sys.modules.get(n), target)
    )


def install(alias: str = ALIAS, target: str = TARGET) -> AliasFinder:
    """Put the alias finder first in ``sys.meta_path``; idempotent.

    Real ``fastapi*`` modules imported before (none should be) are dropped from ``sys.modules``
    so the next import is answered by the alias.
    """
    existing = find_finder(alias)
    if existing is not None:
        if existing.target != target:
            raise ValueError(f"{alias!r} is already aliased to {existing.target!r}, not {target!r}")
        if sys.meta_path[0] is not existing:
            sys.meta_path.remove(existing)
            sys.meta_path.insert(0, existing)
        return existing
    for name in leaks(alias, target):
        del sys.modules[name]
    finder = AliasFinder(alias, target)
    sys.meta_path.insert(0, finder)
    return finder


def uninstall(alias: str = ALIAS, *, purge: bool = True) -> None:
    """Remove the alias finder(s); with ``purge``, forget the ``alias*`` entries of sys.modules."""
    sys.meta_path[:] = [
        f for f in sys.meta_path if not (_is_alias_finder(f) and getattr(f, "alias", None) == alias)
    ]
    if purge:
        for name in _alias_entries(alias):
            del sys.modules[name]


def install_from_env(environ: dict[str, str] | None = None) -> AliasFinder | None:
    """Install the alias when ``HASTEN_FASTAPI_ALIAS`` is true; return the finder or None.

    With ``HASTEN_FASTAPI_ALIAS_LEAK_LOG=<file>``, append one line to that file at exit:
    ``pid <TAB> argv <TAB> number of fastapi* modules <TAB> comma-separated leaks``.
    """
    env: Any = os.environ if environ is None else environ
    if str(env.get(ENV_ALIAS, "")).strip().lower() not in _TRUE:
        return None
    finder = install()
    log_path = env.get(ENV_LEAK_LOG)
    if log_path and not getattr(finder, "_leak_log", None):
        finder._leak_log = str(log_path)  # type: ignore[attr-defined]
        atexit.register(_write_leak_log, str(log_path))
    return finder


def _write_leak_log(path: str) -> None:
    names = _alias_entries(ALIAS)
    found = leaks()
    line = f"{os.getpid()}\t{' '.join(sys.argv)[:200]}\t{len(names)}\t{','.join(found)}\n"
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line)
    except OSError:
        pass
