"""Reject requests whose ``Host`` header is not allowed (Starlette's middleware)."""

from starlette.middleware.trustedhost import TrustedHostMiddleware as TrustedHostMiddleware

__all__ = ["TrustedHostMiddleware"]
