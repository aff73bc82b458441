"""CORS middleware (Starlette's), and the check against credentialed wildcard origins.

``CORSMiddleware`` is Starlette's class, unchanged (``from fastapi.middleware.cors import
CORSMiddleware`` keeps working through the alias).

``allow_credentials=True`` with origins that admit any site (``allow_origins=["*"]``, or an
``allow_origin_regex`` that matches any origin) lets every web page make credentialed requests:
Starlette then answers each origin with itself and ``Access-Control-Allow-Credentials: true``.
``Hasten`` (production defaults) refuses that configuration when the middleware is added and
when the middleware stack is built (``UnsafeCORSConfigurationError``); ``FastAPI`` keeps
Starlette's behaviour and logs one warning each time its stack is built.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware as CORSMiddleware

from ..exceptions import HastenError
from ..logger import logger

# As FastAPI's module: ``import *`` gives the middleware only (the check is imported by name).
__all__ = ["CORSMiddleware"]

# Origins no configuration names on purpose: a pattern that matches them matches any site.
_PROBE_ORIGINS = ("https://hasten-cors-probe.invalid", "http://a.b.c.hasten-probe.invalid:1")


class UnsafeCORSConfigurationError(HastenError):
    """``allow_credentials=True`` combined with origins that admit any site."""


def _arguments(entry: Middleware) -> dict[str, Any] | None:
    """The CORS middleware's keyword arguments in ``entry``, or None for another middleware."""
    cls = entry.cls
    if not (isinstance(cls, type) and issubclass(cls, CORSMiddleware)):
        return None
    try:
        bound = inspect.signature(CORSMiddleware.__init__).bind_partial(
            None, None, *entry.args, **entry.kwargs
        )
    except TypeError:
        return dict(entry.kwargs)  # the class itself will say what is wrong with its arguments
    return dict(bound.arguments)


def _any_origin(arguments: dict[str, Any]) -> str | None:
    """How ``arguments`` admit every origin (for the message), or None."""
    if "*" in (arguments.get("allow_origins") or ()):
        return 'allow_origins contains "*"'
    pattern = arguments.get("allow_origin_regex")
    if isinstance(pattern, str):
        try:
            compiled = re.compile(pattern)
        except re.error:
            return None  # the class raises on it when it is built
        if all(compiled.fullmatch(origin) for origin in _PROBE_ORIGINS):
            return f"allow_origin_regex={pattern!r} matches any origin"
    return None


def unsafe_reason(entry: Middleware) -> str | None:
    """Why ``entry`` is a credentialed CORS configuration open to any site, or None."""
    arguments = _arguments(entry)
    if arguments is None or not arguments.get("allow_credentials"):
        return None
    return _any_origin(arguments)


def check_cors_middleware(middleware: Iterable[Middleware], *, refuse: bool) -> None:
    """Refuse (``refuse=True``) or log a warning for credentialed wildcard CORS in ``middleware``."""
    for entry in middleware:
        reason = unsafe_reason(entry)
        if reason is None:
            continue
        message = (
            f"CORSMiddleware: allow_credentials=True with {reason} lets every website send "
            "credentialed requests and read the answers; list the allowed origins instead"
        )
        if refuse:
            raise UnsafeCORSConfigurationError(message)
        logger.warning("%s", message)
