"""The ``hasten`` command: ``dev`` / ``run`` an app with uvicorn, list its ``routes``.

``APP`` is an import string (``examples.demo:app``), a file (``main.py`` or ``main.py:app``)
or a module (``examples.demo``). Without an attribute name the app is found as ``app``,
``api``, or the only ASGI application object in the module.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["cli_main", "main"]

_DEFAULT_NAMES = ("app", "api")


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
    else:
        module, app_dir = location, None
    return AppTarget(module, app_name or attribute or None, app_dir)


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
        raise CLIError(f"Could not import module {target.module!r}: {exc}") from exc
    if target.attribute is not None:
        if not hasattr(module, target.attribute):
            raise CLIError(f"Module {target.module!r} has no attribute {target.attribute!r}")
        return getattr(module, target.attribute), target
    for name in _DEFAULT_NAMES:
        if _is_asgi_app(getattr(module, name, None)):
            return getattr(module, name), AppTarget(target.module, name, target.app_dir)
    found = [name for name, value in vars(module).items() if _is_asgi_app(value)]
    if len(found) != 1:
        raise CLIError(f"Could not find the app in {target.module!r}: use MODULE:ATTRIBUTE")
    return getattr(module, found[0]), AppTarget(target.module, found[0], target.app_dir)


def _serve(args: argparse.Namespace, *, reload: bool) -> int:
    _, target = load_app(parse_target(args.app, args.app_name))
    try:
        import uvicorn
    except ImportError as exc:
        raise CLIError('Serving needs uvicorn: pip install "hasten[standard]"') from exc
    print(f"Serving {target.import_string} on http://{args.host}:{args.port}")
    uvicorn.run(
        target.import_string,
        host=args.host,
        port=args.port,
        reload=reload,
        workers=None if reload else getattr(args, "workers", None),
        app_dir=target.app_dir,
        root_path=args.root_path,
        proxy_headers=args.proxy_headers,
    )
    return 0


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
    app, _ = load_app(parse_target(args.app, args.app_name))
    rows = list(iter_routes(getattr(app, "routes", [])))
    width = max((len(methods) for methods, _, _ in rows), default=6)
    path_width = max((len(path) for _, path, _ in rows), default=4)
    for methods, path, name in rows:
        print(f"{methods:<{width}}  {path:<{path_width}}  {name}".rstrip())
    return 0


def _cmd_openapi(args: argparse.Namespace) -> int:
    app, _ = load_app(parse_target(args.app, args.app_name))
    if not callable(getattr(app, "openapi", None)):
        raise CLIError("This app has no OpenAPI schema (no .openapi() method)")
    print(json.dumps(app.openapi(), indent=args.indent))
    return 0


def _add_app_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", metavar="APP", help="module:attribute, file.py[:attribute]")
    parser.add_argument("--app", dest="app_name", default=None, help="name of the app object")


def _add_server_args(parser: argparse.ArgumentParser, host: str) -> None:
    parser.add_argument("--host", default=host, help=f"bind address (default {host})")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--root-path", default="", help="ASGI root_path behind a proxy")
    parser.add_argument(
        "--proxy-headers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="trust X-Forwarded-* headers",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hasten`` command."""
    parser = argparse.ArgumentParser(prog="hasten", description="Run and inspect Hasten apps.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = commands.add_parser("dev", help="serve for development (reload on changes)")
    _add_app_args(dev)
    _add_server_args(dev, "127.0.0.1")
    dev.add_argument("--reload", action=argparse.BooleanOptionalAction, default=True)
    dev.set_defaults(handler=_cmd_dev)

    run = commands.add_parser("run", help="serve for production")
    _add_app_args(run)
    _add_server_args(run, "0.0.0.0")
    run.add_argument("--workers", type=int, default=None, help="worker processes")
    run.set_defaults(handler=_cmd_run)

    routes = commands.add_parser("routes", help="list the routes: methods, path, name")
    _add_app_args(routes)
    routes.set_defaults(handler=_cmd_routes)

    openapi = commands.add_parser("openapi", help="print the OpenAPI document as JSON")
    _add_app_args(openapi)
    openapi.add_argument("--indent", type=int, default=2)
    openapi.set_defaults(handler=_cmd_openapi)
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
    sys.exit(cli_main(argv))
