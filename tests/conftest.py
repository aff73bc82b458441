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


@pytest.fixture
def matched_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths ``Matcher.route_for`` is asked to match during the test, in order."""
    from hasten._routing.matcher import Matcher

    paths: list[str] = []
    route_for = Matcher.route_for

    def counted(self: Matcher, path: str, method: str) -> Any:
        paths.append(path)
        return route_for(self, path, method)

    monkeypatch.setattr(Matcher, "route_for", counted)
    return paths
