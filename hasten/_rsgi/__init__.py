"""Granian's RSGI interface for Hasten apps (``granian --interface rsgi module:app``).

Modules: ``app`` (the ``RSGIApp`` mixin and ``serve_rsgi``), ``scope`` (RSGI → ASGI scope),
``http`` and ``websocket`` (the ``receive``/``send`` adapters), ``direct`` (requests answered
without the ASGI stack where nothing could tell), ``lifespan`` (startup and shutdown from
Granian's worker hooks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import RSGIApp, RSGIServed, serve_rsgi

__all__ = ["RSGIApp", "RSGIServed", "serve_rsgi"]


def __getattr__(name: str) -> Any:
    # ``app`` only when asked for: the runners import ``http`` (its one-call answers), and
    # ``app`` imports the runners (``direct``)
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
