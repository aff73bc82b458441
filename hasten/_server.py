"""Uvicorn's HTTP/1.1 protocol (httptools) with the limits an exposed server needs.

Uvicorn arms its keep-alive timer only after a response, and bounds neither the size of a
request head nor the time to send it (with httptools): a connection that sends nothing, or a
header line a byte at a time (slowloris), or a 10 MB header, is kept and read. ``hasten run``
and ``hasten dev`` serve with this protocol, which adds:

* a connection that has not started a request within ``timeout_keep_alive`` seconds of
  opening is closed (as an idle keep-alive connection is);
* a request head (request line and headers) must be complete within
  ``HASTEN_TIMEOUT_REQUEST_HEAD`` seconds (environment, default 10) of its first byte, else
  ``408`` and the connection is closed;
* a request head larger than ``h11_max_incomplete_event_size`` bytes (uvicorn's own setting
  for its h11 protocol; default 32 KiB here) answers ``431`` and the connection is closed.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["DEFAULT_MAX_REQUEST_HEAD", "ENV_TIMEOUT_REQUEST_HEAD", "GuardedHttpToolsProtocol"]

DEFAULT_MAX_REQUEST_HEAD = 32 * 1024
"""Bytes of request line and headers accepted when no limit is configured."""
ENV_TIMEOUT_REQUEST_HEAD = "HASTEN_TIMEOUT_REQUEST_HEAD"
DEFAULT_TIMEOUT_REQUEST_HEAD = 10.0


def _answer(status: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(status)).encode() + b"\r\nconnection: close\r\n\r\n" + status
    )


_TOO_LARGE = _answer(b"431 Request Header Fields Too Large")
_TOO_SLOW = _answer(b"408 Request Timeout")


class _HeadTooLarge(Exception):
    """Raised inside the parser's callback to stop parsing a head over the limit."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with an idle timeout before the first request, a time limit on
    each request head and a size limit on it (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config = kwargs.get("config", args[0] if args else None)
        limit = getattr(config, "h11_max_incomplete_event_size", None)
        self._head_limit: int = limit or DEFAULT_MAX_REQUEST_HEAD
        timeout = os.environ.get(ENV_TIMEOUT_REQUEST_HEAD)
        self._head_timeout = float(timeout) if timeout else DEFAULT_TIMEOUT_REQUEST_HEAD
        self._head_bytes = 0  # of the current head, as parsed (request line and headers)
        self._raw_head = 0  # bytes received while a head is incomplete
        self._in_head = True
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Nothing sent yet: the same grace as an idle keep-alive connection.
        self._arm(float(self.timeout_keep_alive), b"")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float, answer: bytes) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(seconds, self._time_out, answer)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _time_out(self, answer: bytes) -> None:
        self._head_timer = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # A pipelined head waits while the previous answer (a long stream, say) is sent:
            # its time starts again rather than cutting that answer off.
            self._arm(self._head_timeout, answer)
            return
        if not self.transport.is_closing():
            if answer:
                self.transport.write(answer)
            self.transport.close()

    def _refuse(self) -> None:
        self._disarm()
        self._refused = True
        if not self.transport.is_closing():
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self._head_limit:
            self._refuse()
            raise _HeadTooLarge  # httptools stops parsing; data_received sees a parser error

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._raw_head += len(data)
        super().data_received(data)
        # httptools hands a header over only once complete: one that never ends is refused
        # here, having buffered at most one read beyond the limit.
        if self._in_head and self._raw_head > self._head_limit and not self._refused:
            self._refuse()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # a refused head was answered already (431)
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._arm(self._head_timeout, _TOO_SLOW)

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head, self._raw_head = True, 0
        super().on_message_complete()
