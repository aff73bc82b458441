"""Solving an RSGI request's parameters from RSGI's own scope: direct answers with inputs.

A route run by ``serve_plain`` whose dependencies and parameters read nothing of the request
but its header, query and path parameters can be solved and called before any ASGI scope
exists: its validators read the RSGI scope through ``PlannedRequest``, a stand-in for the
``Request`` they would otherwise be given. ``hasten._rsgi.direct`` decides when such a route
is answered that way (what it checks for every direct answer, and
``hasten._plan.planned.route_plan`` for the route) and replays the outcome through the app's
stack when the answer needs it.

Why the values are the same as through the ASGI adapter (``hasten._rsgi.scope``):

* **headers.** The adapter's ASGI headers are RSGI's pairs in order, encoded as UTF-8, and a
  header parameter is the first value of its name decoded as Latin-1. RSGI's ``get`` gives the
  first value of a name (case-insensitive); ``validate.RawHeadersValidator`` reads it through
  ``TextHeaders`` and decodes it the same way. The adapter adds a ``host`` header from the
  HTTP/2 authority: a route that reads ``host`` is left to the stack.
* **query.** ``query_params`` parses the query string the adapter would put in the scope
  (RSGI's text, encoded as UTF-8), with the same function as ``RouteRequest``.
* **path.** A static path has none (``{}``). A path with parameters is matched by the
  router's ``Matcher.route_for``, which ``direct_target`` calls for the stack's scope, with the
  same path and method (the adapter's ``path`` is RSGI's): the same route and the same
  converted values, in a new dict per request as the stack's ``path_params`` is.
* **the rest.** ``endpoint_context`` (a 422's ``endpoint_ctx``) reads the method and the
  root path, which is ``""`` (an app with a ``root_path`` is never answered directly).
  Nothing else of the request is read: a route whose dependency takes the ``Request``,
  ``Response``, ``BackgroundTasks``, ``SecurityScopes`` or a body, or reads cookies or headers
  as a list, an alias set or a ``Headers`` object, or that has yield or app-scoped
  dependencies, is not planned (``ready``).
"""

from __future__ import annotations

from typing import Any

from .._plan.validate import TextHeaders
from .._starlette import query_params

__all__ = ["PlannedRequest"]


class PlannedRequest:
    """What a planned route's validators read of the request, from the RSGI scope ``rsgi``:
    ``scope`` (``"headers"`` as ``TextHeaders``, ``"root_path"``), ``method``,
    ``query_params`` (parsed on first use) and ``path_params`` (the router's match of the
    path, converted; ``{}`` for a static path)."""

    __slots__ = ("_path", "_query", "rsgi", "scope")

    def __init__(self, rsgi: Any, fields: Any, path_params: dict[str, Any] | None = None) -> None:
        self.rsgi = rsgi
        self.scope = {"headers": TextHeaders(fields), "root_path": ""}
        self._query: Any = None
        self._path = path_params

    @property
    def method(self) -> str:
        """Read only for a 422's ``endpoint_ctx``: asked of RSGI then, not per request."""
        return self.rsgi.method  # type: ignore[no-any-return]

    @property
    def query_params(self) -> Any:
        params = self._query
        if params is None:
            params = self._query = query_params(self.rsgi.query_string.encode())
        return params

    @property
    def path_params(self) -> dict[str, Any]:
        return {} if self._path is None else self._path
