"""In-process test client (Starlette's, built on httpx)."""

from starlette.testclient import TestClient as TestClient

__all__ = ["TestClient"]
