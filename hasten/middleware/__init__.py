"""Middleware declarations: ``Middleware(cls, **options)`` for ``app.add_middleware``."""

from starlette.middleware import Middleware as Middleware

__all__ = ["Middleware"]
