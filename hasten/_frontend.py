"""Serving a built frontend: ``app.frontend()`` / ``router.frontend()``.

A frontend is a directory of files produced by a frontend build tool (``dist/``). It is served
as a *low-priority* route: a router tries it only when none of its normal routes matched (and
no trailing-slash redirect applies), so API routes always win over files.

- ``FrontendFiles``: the directory (a ``StaticFiles`` with safe lookups) and the fallback rule
  for paths that are not files: ``404.html`` (answered with status 404), ``index.html`` (the
  single-page app shell, only for requests that accept HTML), ``"auto"`` (``404.html`` when it
  exists, else ``index.html`` when it exists) or ``None``.
- ``FrontendRoute``: one ``frontend()`` call, the path prefix it serves.
- ``FrontendGroup``: all the frontends of one router (``router._frontend_routes``); the most
  specific (longest) prefix wins.
- ``FrontendEntry``: a group as one router sees it, after ``include_router``: the include
  prefixes, the dependencies that apply (run before a file is served, like a route's) and the
  body limit. A router computes its entries when a request reaches its fallback, not per route.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from ._body_limit import limit_body
from ._routing.include import ROUTE_CLASSES
from ._starlette import get_route_path
from .exceptions import HastenError, InvalidDeclarationError
from .telemetry._api import SCOPE_KEY as _TELEMETRY_KEY
from .telemetry._api import route_selected

if TYPE_CHECKING:
    from .params import Depends

APIRouter = Any  # hasten.routing.APIRouter: the router imports this module, not the reverse

__all__ = [
    "Fallback",
    "FrontendEntry",
    "FrontendFiles",
    "FrontendGroup",
    "FrontendRoute",
    "join_paths",
    "normalize_path",
    "resolve_check_dir",
]

Fallback = Literal["auto", "index.html", "404.html"] | None

_FALLBACKS = ("auto", "index.html", "404.html", None)
# FastAPI's per-request dict in the scope, and the names it gives the matched frontend there.
_SCOPE_KEY = "fastapi"
_PATH_KEY = "frontend_path"
_SPECIFICITY_KEY = "frontend_specificity"
_SELECTED_KEY = "hasten.frontend_route"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_DEV_ENV_VARS = ("HASTEN_ENV", "FASTAPI_ENV")


def normalize_path(path: str) -> str:
    """``path`` as a frontend prefix: starts with ``/``, no trailing ``/`` (except ``/``)."""
    if not path:
        raise InvalidDeclarationError("A frontend path cannot be empty", route=_where(path))
    if not path.startswith("/"):
        raise InvalidDeclarationError("A frontend path must start with '/'", route=_where(path))
    return path if path == "/" else path.rstrip("/") or "/"


def check_fallback(fallback: Any, where: str) -> None:
    """``fallback`` is one of the four a frontend knows (``where``: the frontend's location)."""
    if fallback not in _FALLBACKS:
        raise InvalidDeclarationError(
            "fallback must be 'auto', 'index.html', '404.html', or None", route=where
        )


def _where(path: str) -> str:
    return f"frontend path={path!r}"


def join_paths(prefix: str, path: str) -> str:
    """``prefix`` (a router or include prefix) in front of a frontend prefix."""
    if not prefix:
        return path
    return prefix if path == "/" else prefix + path


def _specificity(path: str) -> int:
    return 0 if path == "/" else len(path)


def _absolute(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.fspath(path))


def _in_development() -> bool:
    return any(os.environ.get(name) == "development" for name in _DEV_ENV_VARS)


def resolve_check_dir(directory: str | os.PathLike[str], check_dir: bool | str) -> bool:
    """``check_dir="auto"``: check at declaration time, except in development.

    In development (``HASTEN_ENV`` or ``FASTAPI_ENV`` set to ``development``) a missing
    directory only warns, since the frontend may not be built yet. Called directly by the
    public ``frontend()`` methods, so the warning points at the user's call.
    """
    if check_dir != "auto":
        return bool(check_dir)
    if not _in_development():
        return True
    if not os.path.isdir(directory):
        warnings.warn(
            f"Frontend directory '{os.fspath(directory)}' does not exist. "
            f"Resolved absolute path: '{_absolute(directory)}'",
            stacklevel=3,
        )
    return False


def _accepts_html(scope: Scope) -> bool:
    """Whether the request names HTML (or XHTML) in ``Accept`` with a non-zero quality."""
    accept = ""
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            accept = value.decode("latin-1")
            break
    for item in accept.split(","):
        media_type, *params = item.split(";")
        if media_type.strip().lower() not in _HTML_TYPES:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    pass  # an unreadable quality counts as the default, 1
        if quality != 0:
            return True
    return False


class FrontendFiles(StaticFiles):
    """The files of one frontend build, and what to answer for paths that are not files."""

    def __init__(
        self, *, directory: str | os.PathLike[str], fallback: Fallback, check_dir: bool
    ) -> None:
        check_fallback(fallback, f"frontend directory={os.fspath(directory)!r}")
        if check_dir and not os.path.isdir(directory):
            raise HastenError(
                f"Frontend directory '{os.fspath(directory)}' does not exist. "
                f"Resolved absolute path: '{_absolute(directory)}'"
            )
        # follow_symlink=False: a link must not lead out of the directory.
        super().__init__(directory=directory, html=True, check_dir=check_dir, follow_symlink=False)
        self.fallback = fallback
        if check_dir and fallback in ("index.html", "404.html"):
            _, found = self.lookup_path(fallback)
            if found is None or not stat.S_ISREG(found.st_mode):
                raise self._missing_fallback(fallback)

    def _missing_fallback(self, name: str) -> HastenError:
        directory = os.fspath(self.directory or "")
        return HastenError(
            f"Frontend fallback file '{name}' does not exist in directory '{directory}'. "
            f"Resolved absolute directory: '{_absolute(directory)}'"
        )

    async def _lookup(self, path: str) -> tuple[str, os.stat_result | None]:
        try:
            return await run_in_threadpool(self.lookup_path, path)
        except PermissionError:
            raise HTTPException(status_code=401) from None
        except ValueError:  # e.g. a NUL byte in the path
            raise HTTPException(status_code=404) from None
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise HTTPException(status_code=404) from None
            raise

    async def _find(self, path: str) -> tuple[str, os.stat_result, bool] | None:
        """The file for ``path`` (a directory's ``index.html``: third item True), or None."""
        full_path, found = await self._lookup(path)
        if found is None:
            return None
        if stat.S_ISREG(found.st_mode):
            return full_path, found, False
        if stat.S_ISDIR(found.st_mode):
            full_path, found = await self._lookup(os.path.join(path, "index.html"))
            if found is not None and stat.S_ISREG(found.st_mode):
                return full_path, found, True
        return None

    async def _is_file(self, name: str) -> bool:
        _, found = await self._lookup(name)
        return found is not None and stat.S_ISREG(found.st_mode)

    async def respond(self, scope: Scope) -> Response:
        """The response for the frontend path stored in the scope (raises 404/405)."""
        if not self.config_checked:
            await self.check_config()
            self.config_checked = True
        raw = scope.get(_SCOPE_KEY, {}).get(_PATH_KEY, "")
        path = os.path.normpath(os.path.join(*raw.split("/")))
        found = await self._find(path)
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=404 if found is None else 405)
        if found is not None:
            full_path, stat_result, is_index = found
            if is_index and not scope["path"].endswith("/"):
                url = URL(scope=scope)
                return RedirectResponse(url=url.replace(path=url.path + "/"))
            return self.file_response(full_path, stat_result, scope)
        return await self._fallback_response(scope)

    async def _fallback_response(self, scope: Scope) -> Response:
        fallback = self.fallback
        if fallback == "404.html" or (fallback == "auto" and await self._is_file("404.html")):
            return await self._serve_fallback("404.html", scope, 404)
        use_index = fallback == "index.html" or (
            fallback == "auto" and await self._is_file("index.html")
        )
        if use_index and _accepts_html(scope):
            return await self._serve_fallback("index.html", scope, 200)
        raise HTTPException(status_code=404)

    async def _serve_fallback(self, name: str, scope: Scope, status_code: int) -> Response:
        full_path, found = await self._lookup(name)
        if found is None or not stat.S_ISREG(found.st_mode):
            raise self._missing_fallback(name)
        return self.file_response(full_path, found, scope, status_code=status_code)


class FrontendRoute(BaseRoute):
    """One ``frontend()`` call: a path prefix and the files served under it."""

    def __init__(
        self,
        path: str,
        *,
        directory: str | os.PathLike[str],
        fallback: Fallback = "auto",
        check_dir: bool = True,
    ) -> None:
        check_fallback(fallback, _where(path))
        self.path = normalize_path(path)
        self.methods = {"GET", "HEAD"}
        self.app = FrontendFiles(directory=directory, fallback=fallback, check_dir=check_dir)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return self.matches_with_path(scope, self.path)

    def matches_with_path(self, scope: Scope, path: str) -> tuple[Match, Scope]:
        """Match as if this frontend were served at ``path``: FULL for GET/HEAD, else PARTIAL."""
        if scope["type"] != "http":
            return Match.NONE, {}
        rest = _rest_of(path, get_route_path(scope))
        if rest is None:
            return Match.NONE, {}
        child = {_SCOPE_KEY: {_PATH_KEY: rest, _SPECIFICITY_KEY: _specificity(path)}}
        return (Match.FULL if scope["method"] in self.methods else Match.PARTIAL), child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.app.respond(scope)
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)


def _rest_of(prefix: str, route_path: str) -> str | None:
    """The part of ``route_path`` under ``prefix`` (whole segments only), or None."""
    if prefix == "/":
        return route_path.lstrip("/")
    if route_path == prefix:
        return ""
    if route_path.startswith(prefix + "/"):
        return route_path[len(prefix) + 1 :]
    return None


class FrontendGroup(BaseRoute):
    """The frontends of one router; the longest matching prefix serves a request."""

    def __init__(
        self,
        *,
        dependencies: Sequence[Depends] | None = None,
        dependency_overrides_provider: Any = None,
    ) -> None:
        self.routes: list[FrontendRoute] = []
        self.dependencies = list(dependencies or [])
        self.dependency_overrides_provider = dependency_overrides_provider
        self._own: FrontendEntry | None = None

    def add_frontend_route(
        self,
        path: str,
        *,
        directory: str | os.PathLike[str],
        fallback: Fallback = "auto",
        check_dir: bool = True,
    ) -> None:
        """Serve ``directory`` under ``path`` (already joined with the router's prefix)."""
        self.routes.append(
            FrontendRoute(path, directory=directory, fallback=fallback, check_dir=check_dir)
        )

    def select(self, scope: Scope, prefix: str) -> tuple[Match, Scope, FrontendRoute | None]:
        """The best match under ``prefix``: a FULL one before a PARTIAL one, longest first."""
        best: tuple[Match, Scope, FrontendRoute | None] = (Match.NONE, {}, None)
        best_rank = (-1, -1)
        for route in self.routes:
            path = join_paths(prefix, route.path)
            match, child = route.matches_with_path(scope, path)
            if match is Match.NONE:
                continue
            rank = (int(match is Match.FULL), _specificity(path))
            if rank > best_rank:
                best, best_rank = (match, child, route), rank
        return best

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return self.matches_with_prefix(scope, "")

    def matches_with_prefix(self, scope: Scope, prefix: str) -> tuple[Match, Scope]:
        match, child, _ = self.select(scope, prefix)
        return match, child

    def own_entry(self) -> FrontendEntry:
        """This group as its own router sees it (no include prefix)."""
        if self._own is None:
            self._own = FrontendEntry(
                self,
                prefix="",
                dependencies=self.dependencies,
                overrides_provider=self.dependency_overrides_provider,
                max_body_size=None,  # an included router's limit comes with its inclusion
            )
        return self._own

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.own_entry().handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)


class FrontendEntry:
    """A frontend group as seen from one router: include prefix, dependencies, body limit."""

    def __init__(
        self,
        group: FrontendGroup,
        *,
        prefix: str,
        dependencies: Sequence[Depends],
        overrides_provider: Any,
        max_body_size: int | None,
    ) -> None:
        self.group = group
        self.prefix = prefix
        self.dependencies = list(dependencies)
        self.overrides_provider = overrides_provider
        self.max_body_size = max_body_size
        self._with_dependencies: ASGIApp | None = None
        self._plain: ASGIApp = limit_body(self._serve, max_body_size)

    def included(
        self, prefix: str, dependencies: Sequence[Depends], overrides: Any, limit: int | None
    ) -> FrontendEntry:
        """This entry one ``include_router`` level up."""
        return FrontendEntry(
            self.group,
            prefix=prefix + self.prefix,
            dependencies=[*dependencies, *self.dependencies],
            overrides_provider=overrides or self.overrides_provider,
            max_body_size=self.max_body_size if self.max_body_size is not None else limit,
        )

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child, _ = self.group.select(scope, self.prefix)
        return match, child

    @staticmethod
    def specificity(child_scope: Scope) -> int | None:
        """The prefix length of a frontend match (None for other routes' child scopes)."""
        value = child_scope.get(_SCOPE_KEY, {}).get(_SPECIFICITY_KEY)
        return value if isinstance(value, int) else None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request: dependencies first (GET/HEAD only), then the file."""
        match, child, route = self.group.select(scope, self.prefix)
        if route is None:
            raise HTTPException(status_code=404)
        scope.setdefault(_SCOPE_KEY, {}).update(child[_SCOPE_KEY])
        scope[_SELECTED_KEY] = route
        if _TELEMETRY_KEY in scope:  # a traced request: name its route
            template = join_paths(self.prefix, route.path).rstrip("/") + "/{path}"
            route_selected(scope, template, False)
        if match is Match.FULL and self.dependencies:
            await self._dependency_app()(scope, receive, send)
        else:
            await self._plain(scope, receive, send)

    @staticmethod
    async def _serve(scope: Scope, receive: Receive, send: Send) -> None:
        response = await scope[_SELECTED_KEY].app.respond(scope)
        await response(scope, receive, send)

    def _dependency_app(self) -> ASGIApp:
        """A route plan whose endpoint serves the selected file (built on first use)."""
        if self._with_dependencies is None:
            route = ROUTE_CLASSES["http"](  # APIRoute (routing imports this module)
                join_paths(self.prefix, "/"),
                _serve_endpoint,
                dependencies=self.dependencies,
                dependency_overrides_provider=self.overrides_provider,
                include_in_schema=False,
                max_body_size=self.max_body_size,
            )
            self._with_dependencies = route.app
        return self._with_dependencies


async def _serve_endpoint(request: Request, response: Response) -> Response:
    """The endpoint of a frontend with dependencies: the file, plus the dependencies' headers."""
    scope = request.scope
    served = await scope[_SELECTED_KEY].app.respond(scope)
    served.headers.raw.extend(response.headers.raw)
    return served  # type: ignore[no-any-return]


def low_priority_entries(router: APIRouter) -> list[Any]:
    """The low-priority routes ``router`` tries when nothing else matched, in order.

    Its own (``router._low_priority_routes``), then those of each included router, seen
    through the inclusion (prefix, dependencies, limits). Cached until a router in the tree
    changes (``_mark_routes_changed`` or a new low-priority route).
    """
    key = _version(router)
    cached = router._low_priority_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    entries: list[Any] = [
        r.own_entry() if isinstance(r, FrontendGroup) else r for r in router._low_priority_routes
    ]
    for include in router._inclusions:
        for entry in low_priority_entries(include.router):
            entries.append(_through(router, include, entry))
    router._low_priority_cache = (key, entries)
    return entries


def _version(router: APIRouter, seen: frozenset[int] = frozenset()) -> tuple[int, ...]:
    if id(router) in seen:
        return ()
    seen = seen | {id(router)}
    key: tuple[int, ...] = (router._routes_version, len(router._low_priority_routes))
    for include in router._inclusions:
        key += _version(include.router, seen)
    return key


def _through(router: APIRouter, include: Any, entry: Any) -> Any:
    """``entry`` (a low-priority route of ``include.router``) as ``router`` sees it."""
    prefix = router.prefix + include.prefix
    if isinstance(entry, FrontendEntry):
        dependencies = [*router.dependencies, *(include.dependencies or [])]
        overrides = router.dependency_overrides_provider
        return entry.included(prefix, dependencies, overrides, include.max_body_size)
    # Another kind of route: declared again on a throwaway copy of ``router``, the way
    # ``include_router`` re-declares included routes.
    import copy

    collector = copy.copy(router)
    collector._included_by = []  # declaring on the copy must not re-arm the real tree
    collector.routes = []
    redeclare = copy.copy(include)
    redeclare.parent = collector
    redeclare.add(entry)
    return collector.routes[-1] if collector.routes else entry


async def serve_low_priority(router: APIRouter, scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer with the best low-priority route of ``router``; False when none matches."""
    found = _best(low_priority_entries(router), scope)
    if found is None:
        return False
    entry, child = found
    if isinstance(entry, FrontendEntry):
        await entry.handle(scope, receive, send)
        return True
    scope["route"] = entry
    scope.update(child)
    if _TELEMETRY_KEY in scope:
        route_selected(scope, getattr(entry, "path_format", None), False)
    await entry.handle(scope, receive, send)
    return True


def _best(entries: list[Any], scope: Scope) -> tuple[Any, Scope] | None:
    full: tuple[Any, Scope] | None = None
    partial: tuple[Any, Scope] | None = None
    for entry in entries:
        match, child = entry.matches(scope)
        if match is Match.FULL and (full is None or _more_specific(child, full[1])):
            full = (entry, child)
        elif match is Match.PARTIAL and (partial is None or _more_specific(child, partial[1])):
            partial = (entry, child)
    return full or partial


def _more_specific(child: Scope, previous: Scope) -> bool:
    """Frontends: a longer prefix wins; any other route keeps declaration order."""
    new, old = FrontendEntry.specificity(child), FrontendEntry.specificity(previous)
    return new is not None and old is not None and new > old
