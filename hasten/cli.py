"""The ``hasten`` command: ``dev`` / ``run`` an app with Granian or uvicorn, list its ``routes``.

``APP`` is an import string (``examples.demo:app``), a file (``main.py`` or ``main.py:app``)
or a module (``examples.demo``), imported from the current directory. Without ``APP``, the
``entrypoint`` of ``[tool.hasten]`` (or ``[tool.fastapi]``) in ./pyproject.toml is used, else the
first of ``main.py``, ``app.py``, ``api.py``, ``app/main.py``, ``app/app.py``, ``app/api.py``
(as ``fastapi dev`` does). Without an attribute name the app is found as ``app``, ``api``, or
the first (by name) application object in the module.

An app written for FastAPI runs unchanged: when no ``fastapi`` package is installed, the
command switches the ``fastapi`` → ``hasten`` alias on (`hasten.compat`) and says so in one line;
a real ``fastapi`` is left alone unless ``--alias`` is given (``--no-alias`` never aliases).

``dev`` and ``run`` serve with Granian's RSGI interface when Granian is installed (``dev
--reload`` with uvicorn), else with uvicorn; ``--server granian|uvicorn`` chooses. They serve
with bounded timeouts and sizes (``server_limits``; on Granian ``hasten._rsgi.server``): an idle
connection, before its first request too, is closed after ``--timeout-keep-alive`` (5 s); a
request head must arrive within ``--timeout-request-head`` (10 s, else 408) and stay within
``--max-request-head`` bytes (32 KiB, else 431); SIGTERM waits at most
``--timeout-graceful-shutdown`` (30 s) for open requests; ``--limit-concurrency`` answers 503
beyond N connections (off by default).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import site
import sys
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["cli_main", "main"]

_DEFAULT_NAMES = ("app", "api")
# Tried in this order when no APP is given (fastapi-cli's order).
DEFAULT_PATHS = ("main.py", "app.py", "api.py", "app/main.py", "app/app.py", "app/api.py")
# The start-up hook installed with the package (see _hasten_alias_hook.py).
_ALIAS_PTH = "hasten-fastapi-alias.pth"
_ENV_ALIAS = "HASTEN_FASTAPI_ALIAS"  # hasten.compat.ENV_ALIAS (not imported at module level)


class CLIError(Exception):
    """A problem with the command line; printed to stdout, exit status 1."""


@dataclass(frozen=True)
class AppTarget:
    """Where the application lives: ``module:attribute``, plus a directory to import from."""

    module: str
    attribute: str | None
    app_dir: str | None

    @property
    def import_string(self) -> str:
        return f"{self.module}:{self.attribute}"


def _module_from_path(path: Path) -> tuple[str, str]:
    """``pkg/sub/main.py`` → (``pkg.sub.main``, the directory above ``pkg``)."""
    path = path.resolve()
    if path.name == "__init__.py":
        path = path.parent  # the package itself, as `fastapi dev pkg/__init__.py` does
    parts = [] if path.is_dir() else [path.stem]
    folder = path if path.is_dir() else path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    if not parts:
        raise CLIError(f"Cannot import {path}: not a Python file or package")
    return ".".join(parts), str(folder)


def parse_target(target: str, app_name: str | None = None) -> AppTarget:
    """Turn the ``APP`` argument into an ``AppTarget`` (checking that a given file exists)."""
    location, _, attribute = target.partition(":")
    looks_like_path = location.endswith(".py") or "/" in location or "\\" in location
    if looks_like_path or Path(location).exists():
        path = Path(location)
        if not path.exists():
            raise CLIError(f"Path does not exist {location}")
        module, app_dir = _module_from_path(path)
    else:  # an import string, resolved from the current directory (as uvicorn does)
        module, app_dir = location, os.getcwd()
    return AppTarget(module, app_name or attribute or None, app_dir)


def _pyproject_entrypoint(directory: Path) -> str | None:
    """``entrypoint`` of ``[tool.hasten]`` or ``[tool.fastapi]`` in ``directory/pyproject.toml``."""
    path = directory / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        tool = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CLIError(f"Cannot read {path}: {exc}") from exc
    for section in ("hasten", "fastapi"):
        entrypoint = tool.get(section, {}).get("entrypoint")
        if entrypoint is not None:
            if not isinstance(entrypoint, str) or ":" not in entrypoint:
                raise CLIError(f"[tool.{section}] entrypoint must be 'module:attribute'")
            return entrypoint
    return None


def default_target(directory: Path | None = None) -> str:
    """The ``APP`` used when none is given: the pyproject entrypoint or a default file."""
    directory = Path.cwd() if directory is None else directory
    entrypoint = _pyproject_entrypoint(directory)
    if entrypoint is not None:
        return entrypoint
    for name in DEFAULT_PATHS:
        if (directory / name).is_file():
            return name
    raise CLIError("Could not find a default file to run, please provide an explicit path")


def resolve_target(target: str | None, app_name: str | None = None) -> AppTarget:
    """`parse_target` of ``target``, or of `default_target` when it is None."""
    return parse_target(default_target() if target is None else target, app_name)


def _is_asgi_app(value: Any) -> bool:
    from starlette.applications import Starlette

    return isinstance(value, Starlette)


def load_app(target: AppTarget) -> tuple[Any, AppTarget]:
    """Import the module and return the app object and a target naming its attribute."""
    if target.app_dir is not None and target.app_dir not in sys.path:
        sys.path.insert(0, target.app_dir)
    try:
        module = importlib.import_module(target.module)
    except ImportError as exc:
        hint = ""
        if getattr(exc, "name", None) == "fastapi":
            hint = " (without --no-alias, Hasten answers `import fastapi`)"
        raise CLIError(f"Could not import module {target.module!r}: {exc}{hint}") from exc
    if target.attribute is not None:
        if not hasattr(module, target.attribute):
            raise CLIError(f"Module {target.module!r} has no attribute {target.attribute!r}")
        return getattr(module, target.attribute), target
    for name in _DEFAULT_NAMES:
        if _is_asgi_app(getattr(module, name, None)):
            return getattr(module, name), AppTarget(target.module, name, target.app_dir)
    found = [name for name in dir(module) if _is_asgi_app(getattr(module, name, None))]
    if not found:
        raise CLIError(f"Could not find the app in {target.module!r}: use MODULE:ATTRIBUTE")
    return getattr(module, found[0]), AppTarget(target.module, found[0], target.app_dir)


# -- the fastapi -> hasten alias ---------------------------------------------------------------


def switch_alias(choice: bool | None) -> str | None:
    """Before the app is imported: switch the ``fastapi`` alias on where it should be.

    ``choice`` is ``--alias`` (True), ``--no-alias`` (False) or neither (None: alias only when no
    real ``fastapi`` can be imported). Returns why the alias is on (``"environment"`` when it
    already was, ``"--alias"``, ``"auto"``) or None when it is off.
    """
    from .compat import _alias

    if _alias.find_finder() is not None:
        return "environment"
    if choice is False:
        return None
    if choice is None and importlib.util.find_spec(_alias.ALIAS) is not None:
        return None  # a real FastAPI is installed: not shadowed unless asked
    _alias.install()
    return "--alias" if choice else "auto"


_REASONS = {
    "environment": f"{_ENV_ALIAS}=1 or hasten.compat.install()",
    "--alias": "--alias",
    "auto": "no fastapi package is installed",
}


def fastapi_note(reason: str | None, verb: str = "serving") -> str | None:
    """After the app is imported: one line saying which package answers its ``import fastapi``."""
    from .compat import _alias

    module = sys.modules.get(_alias.ALIAS)
    if module is None:
        return None  # the app does not use the name `fastapi`
    if _alias.is_aliased():
        why = _REASONS.get(reason or "environment", reason)
        return f"hasten: {verb} a FastAPI app on Hasten (fastapi → hasten alias: {why})"
    version = getattr(module, "__version__", "?")
    return (
        f"hasten: this app runs on the installed FastAPI {version}, not on Hasten "
        "(pass --alias to run it on Hasten)"
    )


def _alias_hook_installed() -> bool:
    dirs = [*site.getsitepackages(), site.getusersitepackages()]
    return any(os.path.isfile(os.path.join(d, _ALIAS_PTH)) for d in dirs)


def _load(args: argparse.Namespace, verb: str) -> tuple[Any, AppTarget, str | None]:
    """Resolve ``APP``, switch the alias as asked, import the app; print the alias note.

    The third item is why the alias is on, when the app imported ``fastapi`` through it.
    """
    target = resolve_target(args.app, args.app_name)
    reason = switch_alias(args.alias)
    app, target = load_app(target)
    note = fastapi_note(reason, verb)
    if note is not None:
        print(note, file=sys.stderr)
    from .compat._alias import ALIAS, is_aliased

    used = reason is not None and ALIAS in sys.modules and is_aliased()
    return app, target, reason if used else None


def choose_server(requested: str, *, reload: bool) -> str:
    """The server ``--server`` names: ``"granian"`` or ``"uvicorn"``.

    ``auto`` is Granian (its RSGI interface) when it is installed, else uvicorn; with
    ``--reload`` (``hasten dev``'s default) it is uvicorn when installed, whose reloader needs
    no extra package. A named server that is not installed is a ``CLIError``.
    """
    installed = {name: importlib.util.find_spec(name) is not None for name in _SERVERS}
    if requested == "auto":
        order = ("uvicorn", "granian") if reload else ("granian", "uvicorn")
        requested = next((name for name in order if installed[name]), order[0])
    if not installed.get(requested, False):
        raise CLIError(
            f'Serving with {requested} needs it installed: pip install "hasten[standard]"'
        )
    return requested


_SERVERS = ("granian", "uvicorn")


def _serve(args: argparse.Namespace, *, reload: bool) -> int:
    _, target, alias_reason = _load(args, "serving")
    workers = None if reload else getattr(args, "workers", None)
    if alias_reason is not None:
        # Server processes (reload, workers) and the app's own subprocesses: the .pth hook.
        os.environ[_ENV_ALIAS] = "1"
        if (reload or (workers or 1) > 1) and not _alias_hook_installed():
            print(
                f"hasten: warning: {_ALIAS_PTH} is not installed (reinstall hasten): "
                "server processes may fail to import fastapi",
                file=sys.stderr,
            )
    server = choose_server(args.server, reload=reload)
    where = f"{target.import_string} on http://{args.host}:{args.port} with {server}"
    if args.dry_run:
        print(f"Would serve {where} (dry run: server not started)")
        return 0
    print(f"Serving {where}")
    if server == "granian":
        _serve_granian(args, target, reload=reload, workers=workers)
        return 0
    import uvicorn

    uvicorn.run(
        target.import_string,
        host=args.host,
        port=args.port,
        reload=reload,
        workers=workers,
        app_dir=target.app_dir,
        root_path=args.root_path,
        proxy_headers=args.proxy_headers,
        **server_limits(args),
    )
    return 0


def _serve_granian(
    args: argparse.Namespace, target: AppTarget, *, reload: bool, workers: int | None
) -> None:
    from ._rsgi.server import GranianRun, serve_granian

    serve_granian(
        GranianRun(
            target=target.import_string,
            app_dir=target.app_dir,
            host=args.host,
            port=args.port,
            workers=workers or 1,
            reload=reload,
            root_path=args.root_path,
            proxy_headers=args.proxy_headers,
            timeout_keep_alive=args.timeout_keep_alive,
            timeout_request_head=args.timeout_request_head,
            max_request_head=args.max_request_head,
            limit_concurrency=args.limit_concurrency,
            timeout_graceful_shutdown=args.timeout_graceful_shutdown,
        )
    )


def server_limits(args: argparse.Namespace) -> dict[str, Any]:
    """Uvicorn's keyword arguments for the timeouts and limits of ``args`` (see ``--help``).

    With httptools installed the server speaks through ``hasten._server``'s protocol, which
    also bounds the time and size of a request head (uvicorn bounds them only with h11).
    ``HASTEN_TIMEOUT_REQUEST_HEAD`` carries that timeout to the server's worker processes.
    """
    os.environ["HASTEN_TIMEOUT_REQUEST_HEAD"] = str(args.timeout_request_head)
    http = "h11" if importlib.util.find_spec("httptools") is None else _GUARDED_PROTOCOL
    return {
        "http": http,
        "timeout_keep_alive": args.timeout_keep_alive,
        "h11_max_incomplete_event_size": args.max_request_head,
        "limit_concurrency": args.limit_concurrency,
        "timeout_graceful_shutdown": args.timeout_graceful_shutdown,
    }


_GUARDED_PROTOCOL = "hasten._server:GuardedHttpToolsProtocol"


def _cmd_dev(args: argparse.Namespace) -> int:
    return _serve(args, reload=args.reload)


def _cmd_run(args: argparse.Namespace) -> int:
    return _serve(args, reload=False)


def iter_routes(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """``(methods, path, name)`` for every route, descending into mounts and routers."""
    for route in routes:
        path = prefix + getattr(route, "path", "")
        children = getattr(route, "routes", None)
        methods = getattr(route, "methods", None)
        if methods:
            yield ",".join(sorted(methods)), path, getattr(route, "name", "") or ""
        elif children:
            yield from iter_routes(children, path)
        elif type(route).__name__.lower().find("websocket") >= 0:
            yield "WS", path, getattr(route, "name", "") or ""
        else:
            yield "*", path, getattr(route, "name", "") or ""


def _cmd_routes(args: argparse.Namespace) -> int:
    app, _, _ = _load(args, "loading")
    rows = list(iter_routes(getattr(app, "routes", [])))
    width = max((len(methods) for methods, _, _ in rows), default=6)
    path_width = max((len(path) for _, path, _ in rows), default=4)
    for methods, path, name in rows:
        print(f"{methods:<{width}}  {path:<{path_width}}  {name}".rstrip())
    return 0


def _cmd_openapi(args: argparse.Namespace) -> int:
    app, _, _ = _load(args, "loading")
    if not callable(getattr(app, "openapi", None)):
        raise CLIError("This app has no OpenAPI schema (no .openapi() method)")
    print(json.dumps(app.openapi(), indent=args.indent))
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    try:
        from .taskqueue._worker import serve
    except ImportError as exc:
        raise CLIError(f'The worker needs Dramatiq: pip install "hasten[queue]" ({exc})') from exc
    try:
        return serve(args.queue, threads=args.threads)
    except (ImportError, ValueError) as exc:
        raise CLIError(f"hasten worker: {exc}") from exc


def _add_app_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "app",
        metavar="APP",
        nargs="?",
        default=None,
        help="module:attribute or file.py[:attribute] (default: pyproject entrypoint, main.py, "
        "app.py, api.py, app/main.py, app/app.py, app/api.py)",
    )
    parser.add_argument("--app", dest="app_name", default=None, help="name of the app object")
    parser.add_argument(
        "--alias",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="answer `import fastapi` with Hasten (default: when no fastapi package is installed)",
    )


def _add_server_args(parser: argparse.ArgumentParser, host: str) -> None:
    parser.add_argument("--host", default=host, help=f"bind address (default {host})")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--server",
        choices=("auto", *_SERVERS),
        default="auto",
        help="granian (its RSGI interface) or uvicorn (default auto: granian when installed, "
        "uvicorn with --reload)",
    )
    parser.add_argument("--root-path", default="", help="ASGI root_path behind a proxy")
    parser.add_argument(
        "--proxy-headers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="trust X-Forwarded-* headers",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="import the app and say what would be served"
    )
    limits = parser.add_argument_group("timeouts and limits (per worker process)")
    limits.add_argument(
        "--timeout-keep-alive",
        type=int,
        default=5,
        metavar="SECONDS",
        help="close a connection idle this long, before its first request too (default 5)",
    )
    limits.add_argument(
        "--timeout-request-head",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="answer 408 and close when a request line and headers take longer (default 10)",
    )
    limits.add_argument(
        "--max-request-head",
        type=int,
        default=32768,
        metavar="BYTES",
        help="answer 431 and close when a request line and headers are larger (default 32768)",
    )
    limits.add_argument(
        "--limit-concurrency",
        type=int,
        default=None,
        metavar="N",
        help="answer 503 beyond N open connections and tasks (default: no limit)",
    )
    limits.add_argument(
        "--timeout-graceful-shutdown",
        type=int,
        default=30,
        metavar="SECONDS",
        help="on SIGTERM, wait this long for open requests and streams (default 30)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hasten`` command."""
    from ._version import __version__
    from .compat._alias import FASTAPI_VERSION

    parser = argparse.ArgumentParser(prog="hasten", description="Run and inspect Hasten apps.")
    parser.add_argument(
        "--version",
        action="version",
        version=f"hasten {__version__} (compatible with FastAPI {FASTAPI_VERSION})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = commands.add_parser("dev", help="serve for development (reload on changes)")
    _add_app_args(dev)
    _add_server_args(dev, "127.0.0.1")
    dev.add_argument("--reload", action=argparse.BooleanOptionalAction, default=True)
    dev.set_defaults(handler=_cmd_dev)

    run = commands.add_parser("run", help="serve for production")
    _add_app_args(run)
    _add_server_args(run, "0.0.0.0")
    run.add_argument(
        "--workers", type=int, default=None, help="worker processes (granian and uvicorn)"
    )
    run.set_defaults(handler=_cmd_run)

    routes = commands.add_parser("routes", help="list the routes: methods, path, name")
    _add_app_args(routes)
    routes.set_defaults(handler=_cmd_routes)

    openapi = commands.add_parser("openapi", help="print the OpenAPI document as JSON")
    _add_app_args(openapi)
    openapi.add_argument("--indent", type=int, default=2)
    openapi.set_defaults(handler=_cmd_openapi)

    worker = commands.add_parser("worker", help="run a task queue's tasks (hasten.taskqueue)")
    worker.add_argument("queue", metavar="MODULE:QUEUE", help="the TaskQueue to consume")
    worker.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    worker.set_defaults(handler=_cmd_worker)
    return parser


def _run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit status."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except CLIError as exc:
        print(exc)
        return 1


cli_main: Callable[..., int] | None = _run
"""The command implementation (``None`` would mean the CLI is unavailable)."""


def _command_name() -> str:
    from .compat._alias import is_aliased

    return "fastapi" if is_aliased() else "hasten"


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``hasten`` script and of ``python -m hasten``."""
    if cli_main is None:
        message = (
            f"To use the {_command_name()} command, please install the CLI dependencies:\n\n"
            '\tpip install "hasten[standard]"\n'
        )
        print(message)
        raise RuntimeError(message)
    try:
        status = cli_main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`hasten routes | head -1`): no traceback. Point stdout at
        # devnull so that the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 1
    sys.exit(status)
