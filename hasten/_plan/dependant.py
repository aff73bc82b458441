"""``Dependant``: the analysed form of an endpoint or dependency (startup only).

Public as ``hasten.dependencies.models.Dependant`` (FastAPI's import path)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from ..concurrency import _DependencyConcurrency
from .fields import ParamField

__all__ = ["Dependant"]


#: The name of one of ``call``'s parameters, or None when there is no such parameter.
_ParamName: TypeAlias = str | None
#: OAuth scope names, or None for none declared.
_Scopes: TypeAlias = list[str] | None


def _in_order() -> Any:
    """A list field that starts empty and is filled in declaration order."""
    return field(default_factory=list)


@dataclass(slots=True, eq=False, weakref_slot=True)
class Dependant:
    """Where each parameter of ``call`` comes from; sub-dependencies in declaration order.

    The field names, their order and their defaults are FastAPI's: libraries written for
    FastAPI walk this graph (e.g. to list the query parameters of an endpoint and of its
    dependencies).
    """

    # Request data, one list per location.
    path_params: list[ParamField] = _in_order()
    query_params: list[ParamField] = _in_order()
    header_params: list[ParamField] = _in_order()
    cookie_params: list[ParamField] = _in_order()
    body_params: list[ParamField] = _in_order()
    dependencies: list[Dependant] = _in_order()
    """The sub-dependencies (``Depends``/``Security`` parameters)."""
    name: _ParamName = None
    """The parameter of the dependant above that receives the value; None for an endpoint."""
    call: Callable[..., Any] | None = None
    """The endpoint or dependency (a function, a class or a callable instance)."""

    # The parameters that receive a connection object instead of request data, by type:
    # ``Request``, ``WebSocket``, ``HTTPConnection``, ``Response``, ``BackgroundTasks`` and
    # ``SecurityScopes``.
    request_param_name: _ParamName = None
    websocket_param_name: _ParamName = None
    http_connection_param_name: _ParamName = None
    response_param_name: _ParamName = None
    background_tasks_param_name: _ParamName = None
    security_scopes_param_name: _ParamName = None

    own_oauth_scopes: _Scopes = None
    """The scopes of this dependency's own ``Security(scopes=...)``."""
    parent_oauth_scopes: _Scopes = None
    """The scopes required by the dependencies above it."""
    use_cache: bool = True
    """Whether one request reuses the value (``Depends(use_cache=...)``)."""
    path: str | None = None
    """The route's path (``/items/{id}``)."""
    scope: Literal["function", "request", "app"] | None = None
    """When a ``yield`` dependency's exit code runs (``Depends(scope=...)``); ``"app"``: made
    once per application (a Hasten extension)."""
    concurrency: _DependencyConcurrency | None = None
    """How a plain ``def`` is run (``Depends(concurrency=...)``)."""

    @property
    def oauth_scopes(self) -> list[str]:
        """Parent scopes, then own scopes, without duplicates, in order."""
        scopes = list(self.parent_oauth_scopes or [])
        for item in self.own_oauth_scopes or []:
            if item not in scopes:
                scopes.append(item)
        return scopes
