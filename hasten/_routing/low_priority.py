"""Low-priority routes of a router (frontends): tried only when no other route matched.

A mixin of ``APIRouter``: the ``default`` app becomes "low-priority routes first, then the
router's own default", ``frontend()`` declares one, and a change of routes re-arms the
flattening of every router that includes this one (see ``_routing/table.py``).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from .._frontend import (
    Fallback,
    FrontendGroup,
    join_paths,
    normalize_path,
    resolve_check_dir,
    serve_low_priority,
)


class LowPriorityRoutes:
    """The frontends (and other low-priority routes) of an ``APIRouter``."""

    _low_priority_routes: list[BaseRoute]
    _frontend_routes: FrontendGroup | None
    _inclusions: list[Any]
    _default: ASGIApp
    prefix: str
    dependencies: list[Any]
    dependency_overrides_provider: Any

    @property
    def default(self) -> ASGIApp:
        """The app for requests no route matched: low-priority routes first, if any."""
        if self._low_priority_routes or self._inclusions:
            return self._not_matched
        return self._default

    @default.setter
    def default(self, app: ASGIApp) -> None:
        self._default = app

    async def _not_matched(self, scope: Scope, receive: Receive, send: Send) -> None:
        # (the mixin is only ever an APIRouter)
        if not await serve_low_priority(self, scope, receive, send):  # type: ignore[arg-type]
            await self._default(scope, receive, send)

    def frontend(
        self,
        path: str,
        *,
        directory: str | os.PathLike[str],
        fallback: Fallback = "auto",
        check_dir: bool | Literal["auto"] = "auto",
    ) -> None:
        """Serve a built frontend (``directory``) under ``path``, after every other route.

        Files are served with ``ETag``/``Last-Modified``; a directory serves its
        ``index.html``. A path that is no file gets the ``fallback``: ``"404.html"`` (served
        with status 404), ``"index.html"`` (the app shell, for requests that accept HTML),
        ``"auto"`` (``404.html`` if the build has one, else ``index.html`` if it has one) or
        ``None`` (a plain 404). The router's dependencies run before a file is served.
        ``check_dir="auto"`` checks that the directory exists now, except in development
        (``HASTEN_ENV``/``FASTAPI_ENV=development``), where it only warns.
        """
        checked = resolve_check_dir(directory, check_dir)
        where = join_paths(self.prefix, normalize_path(path))
        group = self._frontend_routes or self._first_frontend()
        group.add_frontend_route(where, directory=directory, fallback=fallback, check_dir=checked)
        self._mark_routes_changed()  # type: ignore[attr-defined]

    def _first_frontend(self) -> FrontendGroup:
        """The group of this router's frontends, made and ranked low-priority on first use."""
        group = FrontendGroup(
            dependencies=self.dependencies,
            dependency_overrides_provider=self.dependency_overrides_provider,
        )
        self._frontend_routes = group
        self._low_priority_routes.append(group)
        return group
