"""``Dependant``: the analysed form of an endpoint or dependency (startup only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .._plan.fields import ParamField
from ..concurrency import _DependencyConcurrency

__all__ = ["Dependant"]


@dataclass(slots=True, eq=False)
class Dependant:
    """Where each parameter of ``call`` comes from; sub-dependencies in declaration order."""

    path_params: list[ParamField] = field(default_factory=list)
    query_params: list[ParamField] = field(default_factory=list)
    header_params: list[ParamField] = field(default_factory=list)
    cookie_params: list[ParamField] = field(default_factory=list)
    body_params: list[ParamField] = field(default_factory=list)
    dependencies: list[Dependant] = field(default_factory=list)
    name: str | None = None
    call: Callable[..., Any] | None = None
    request_param_name: str | None = None
    websocket_param_name: str | None = None
    http_connection_param_name: str | None = None
    response_param_name: str | None = None
    background_tasks_param_name: str | None = None
    security_scopes_param_name: str | None = None
    own_oauth_scopes: list[str] | None = None
    parent_oauth_scopes: list[str] | None = None
    use_cache: bool = True
    path: str | None = None
    scope: Literal["function", "request"] | None = None
    concurrency: _DependencyConcurrency | None = None

    @property
    def oauth_scopes(self) -> list[str]:
        """Parent scopes, then own scopes, without duplicates, in order."""
        scopes = list(self.parent_oauth_scopes or [])
        for item in self.own_oauth_scopes or []:
            if item not in scopes:
                scopes.append(item)
        return scopes
