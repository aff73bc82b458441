"""A bare RSGI app (Granian's native interface) answering /plaintext and /json.

The ceiling of ``granian --interface rsgi``: what the server does with no framework at all.
It answers like bench/apps/raw_app.py (the bare ASGI callable); section B serves it with
Granian only, since no other server speaks RSGI.
"""

from __future__ import annotations

import json
from typing import Any

_PLAIN_HEADERS = [("content-type", "text/plain; charset=utf-8")]
_JSON_HEADERS = [("content-type", "application/json")]


class RawRSGI:
    """An RSGI application object: Granian calls ``__rsgi__(scope, protocol)`` per request."""

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        """Answer GET /plaintext and GET /json; 404 elsewhere."""
        path = scope.path
        if path == "/plaintext":
            protocol.response_bytes(200, _PLAIN_HEADERS, b"Hello, World!")
        elif path == "/json":
            body = json.dumps({"message": "Hello, World!"}, separators=(",", ":")).encode()
            protocol.response_bytes(200, _JSON_HEADERS, body)
        else:
            protocol.response_bytes(404, _PLAIN_HEADERS, b"Not Found")


app = RawRSGI()
