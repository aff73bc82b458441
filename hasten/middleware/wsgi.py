"""Mount a WSGI application (Starlette's ``WSGIMiddleware``, deprecated there in favour of a2wsgi)."""

from starlette.middleware.wsgi import WSGIMiddleware as WSGIMiddleware

__all__ = ["WSGIMiddleware"]
