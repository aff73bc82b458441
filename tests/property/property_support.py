"""Helpers of the property tests (imported as ``property_support``)."""

from __future__ import annotations

import os
from typing import Any

import anyio
from hypothesis import settings
from starlette.types import ASGIApp

# Derandomised by default (the same examples on every run, in CI and locally);
# HASTEN_HYPOTHESIS_RANDOM=1 explores new ones. Hypothesis's own "ci" profile (loaded when CI is
# set) is derandomised too.
_RANDOM = os.environ.get("HASTEN_HYPOTHESIS_RANDOM") == "1"


def bounded(max_examples: int) -> settings:
    """Settings of a property test: ``max_examples`` cases, no deadline, derandomised."""
    return settings(
        max_examples=max_examples, deadline=None, derandomize=not _RANDOM, database=None
    )


def call(
    app: ASGIApp,
    path: str,
    *,
    method: str = "GET",
    raw_path: bytes | None = None,
    query_string: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    """One request straight into ``app`` (no client normalises anything): status, headers, body."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw_path if raw_path is not None else path.encode("utf-8", "surrogatepass"),
        "root_path": "",
        "query_string": query_string,
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await app(scope, receive, send)

    anyio.run(run)
    start = next(m for m in sent if m["type"] == "http.response.start")
    response_headers = {
        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])
    }
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], response_headers, content
