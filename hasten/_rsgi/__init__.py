"""Granian's RSGI interface for Hasten apps (``granian --interface rsgi module:app``).

Modules: ``app`` (the ``RSGIApp`` mixin and ``serve_rsgi``), ``scope`` (RSGI → ASGI scope),
``http`` and ``websocket`` (the ``receive``/``send`` adapters), ``direct`` (requests answered
without the ASGI stack where nothing could tell), ``lifespan`` (startup and shutdown from
Granian's worker hooks).
"""

from __future__ import annotations

from .app import RSGIApp, RSGIServed, serve_rsgi

__all__ = ["RSGIApp", "RSGIServed", "serve_rsgi"]
