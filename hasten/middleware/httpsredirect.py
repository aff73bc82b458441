"""Redirect ``http``/``ws`` requests to ``https``/``wss`` (Starlette's middleware)."""

from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware as HTTPSRedirectMiddleware

__all__ = ["HTTPSRedirectMiddleware"]
