"""Limits for parsing ``Form``/``File`` parameters, declared on the app, routers and routes.

A setting is a ``_FormLimits`` mapping (any subset of its three keys), checked when it is
declared. Layers combine key by key, the more specific layer winning:
app → router → ``include_router(...)`` → route. Routers and apps that are *called* (the app's
own router, mounted apps and routers) put their layer in the scope at request time; included
routes carry everything below that, merged once when they are declared.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from pydantic import ConfigDict, Field, TypeAdapter, with_config
from starlette.types import ASGIApp, Receive, Scope, Send
from typing_extensions import TypedDict

__all__ = ["FORM_LIMITS_SCOPE_KEY", "FormLimitsScope", "_FormLimits", "validate_form_limits"]

FORM_LIMITS_SCOPE_KEY = "hasten.form_limits"

_Count = Annotated[int, Field(ge=0)]


@with_config(ConfigDict(strict=True, extra="forbid"))
class _FormLimits(TypedDict, total=False):
    """Starlette's ``request.form()`` limits, applied to automatic form parsing."""

    max_fields: _Count
    """Most non-file fields a form may have."""
    max_files: _Count
    """Most files a multipart form may have."""
    max_part_size: _Count
    """Largest non-file field, in bytes."""


_checker: TypeAdapter[_FormLimits] = TypeAdapter(_FormLimits)


def validate_form_limits(limits: Any) -> dict[str, int]:
    """A checked copy of ``limits`` (``{}`` for None); ``ValueError`` names a bad key."""
    if limits is None:
        return {}
    return dict(cast(dict[str, int], _checker.validate_python(limits)))


def combine(*layers: dict[str, int]) -> dict[str, int]:
    """The layers merged key by key; later layers win."""
    merged: dict[str, int] = {}
    for layer in layers:
        merged.update(layer)
    return merged


class FormLimitsScope:
    """Adds a called router's limits to the scope, under those it inherited from above."""

    __slots__ = ("app", "limits")

    def __init__(self, app: ASGIApp, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            inherited = scope.get(FORM_LIMITS_SCOPE_KEY)
            scope[FORM_LIMITS_SCOPE_KEY] = (
                self.limits if inherited is None else {**inherited, **self.limits}
            )
        await self.app(scope, receive, send)


def wrap_form_limits(app: ASGIApp, limits: dict[str, int]) -> ASGIApp:
    """``app`` itself when there are no limits, else ``app`` behind ``FormLimitsScope``."""
    return FormLimitsScope(app, limits) if limits else app
