"""A fake RSGI scope and protocols that record what the adapter asks of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


class Headers:
    """RSGI's header mapping: lower-case ``str`` names, repeated names kept."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def __contains__(self, key: str) -> bool:
        return any(name == key for name, _ in self.pairs)

    def get(self, key: str, default: Any = None) -> Any:
        return next((value for name, value in self.pairs if name == key), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)


@dataclass
class Scope:
    path: str = "/"
    method: str = "GET"
    headers: Headers = field(default_factory=lambda: Headers([("host", "test")]))
    query_string: str = ""
    proto: str = "http"
    http_version: str = "1.1"
    scheme: str = "http"
    client: str = "127.0.0.1:5000"
    server: str = "127.0.0.1:8000"
    authority: str | None = None
    rsgi_version: str = "1.6"


class Closed(RuntimeError):
    """Stands for granian's RSGIProtocolClosed (a RuntimeError)."""


class Stream:
    def __init__(self, calls: list[tuple[Any, ...]], fail_after: int | None) -> None:
        self.calls = calls
        self.fail_after = fail_after

    async def send_bytes(self, data: bytes) -> None:
        if self.fail_after is not None and self.fail_after <= 0:
            raise Closed("RSGI transport is closed")
        if self.fail_after is not None:
            self.fail_after -= 1
        self.calls.append(("send_bytes", data))


class HTTPProtocol:
    """Records every call; the body is ``body`` (one read) or ``chunks`` (iteration)."""

    def __init__(
        self, body: bytes = b"", chunks: list[bytes] | None = None, fail_after: int | None = None
    ) -> None:
        self.body = body
        self.chunks = chunks if chunks is not None else [body]
        self.calls: list[tuple[Any, ...]] = []
        self.fail_after = fail_after
        self.disconnected = False

    async def __call__(self) -> bytes:
        self.calls.append(("read",))
        return self.body

    def __aiter__(self) -> AsyncIterator[bytes]:
        self.calls.append(("iterate",))
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    async def client_disconnect(self) -> None:
        self.calls.append(("client_disconnect",))
        self.disconnected = True

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.calls.append(("response_bytes", status, headers, body))

    def response_file(self, status: int, headers: list[tuple[str, str]], file: str) -> None:
        self.calls.append(("response_file", status, headers, file))

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Stream:
        self.calls.append(("response_stream", status, headers))
        return Stream(self.calls, self.fail_after)

    def kinds(self) -> list[str]:
        return [call[0] for call in self.calls]


@dataclass
class Message:
    kind: int
    data: Any = None


class WebSocketTransport:
    def __init__(self, incoming: list[Message], calls: list[tuple[Any, ...]]) -> None:
        self.incoming = incoming
        self.calls = calls

    async def receive(self) -> Message:
        if not self.incoming:
            raise Closed("RSGI transport is closed")
        return self.incoming.pop(0)

    async def send_str(self, data: str) -> None:
        self.calls.append(("send_str", data))

    async def send_bytes(self, data: bytes) -> None:
        self.calls.append(("send_bytes", data))


class WebSocketProtocol:
    def __init__(self, incoming: list[Message]) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.incoming = incoming

    async def accept(self) -> WebSocketTransport:
        self.calls.append(("accept",))
        return WebSocketTransport(self.incoming, self.calls)

    def close(self, status: int | None) -> tuple[int, bool]:
        self.calls.append(("close", status))
        return (status or 0, True)
