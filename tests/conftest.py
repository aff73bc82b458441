"""Shared test helpers."""

from collections.abc import Callable
from typing import Any

import pytest


def _http_scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }


@pytest.fixture
def http_scope() -> Callable[[str], dict[str, Any]]:
    """Build a minimal ASGI HTTP ``GET`` scope for ``path`` (to call an app directly)."""
    return _http_scope
