"""GZip compression middleware (Starlette's)."""

from starlette.middleware.gzip import GZipMiddleware as GZipMiddleware

__all__ = ["GZipMiddleware"]
