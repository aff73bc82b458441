"""A bare ASGI callable answering /plaintext and /json: the ceiling of the server itself."""

from __future__ import annotations

import json
from typing import Any

_PLAIN_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON_HEADERS = [(b"content-type", b"application/json")]
_NOT_FOUND = b"Not Found"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer GET /plaintext and GET /json; 404 elsewhere."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/plaintext":
        body, headers, status = b"Hello, World!", _PLAIN_HEADERS, 200
    elif path == "/json":
        body = json.dumps({"message": "Hello, World!"}, separators=(",", ":")).encode()
        headers, status = _JSON_HEADERS, 200
    else:
        body, headers, status = _NOT_FOUND, _PLAIN_HEADERS, 404
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
