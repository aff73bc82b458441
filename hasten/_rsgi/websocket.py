"""One WebSocket connection over RSGI: the ASGI ``receive``/``send`` of an RSGI WebSocket.

The app sees the ASGI WebSocket events: ``websocket.connect`` first, then the client's
messages and ``websocket.disconnect``. ``websocket.accept`` accepts the RSGI connection,
``websocket.close`` before it refuses the handshake with a 403 (as ASGI servers do), after it
closes the connection. What Granian's RSGI interface (2.8) cannot carry is dropped, not faked:

* a subprotocol or extra headers chosen in ``websocket.accept`` are not sent;
* the close code and reason of ``websocket.close`` are not sent (the client sees 1005), and
  the client's close code is not reported: ``websocket.disconnect`` carries 1005 for a close
  frame, 1006 for a connection that ended without one.

A ``send`` after the connection closed raises ``OSError``, which Starlette's ``WebSocket``
turns into ``WebSocketDisconnect``.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Message

__all__ = ["WebSocketCycle"]

_CONNECT: Message = {"type": "websocket.connect"}
_TEXT, _BYTES = 2, 1  # RSGI message kinds (0 is the client's close)
_NO_STATUS, _ABNORMAL = 1005, 1006
_DENIED = 403


class WebSocketCycle:
    """The ASGI ``receive``/``send`` of one RSGI WebSocket (see the module docstring)."""

    __slots__ = ("protocol", "transport", "connected", "closed", "ended")

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.transport: Any = None  # set by websocket.accept
        self.connected = False  # websocket.connect was received by the app
        self.closed = False  # no message goes either way any more
        self.ended = False  # protocol.close was called

    async def receive(self) -> Message:
        """ASGI ``receive``: ``websocket.connect``, then messages, then the disconnect."""
        if not self.connected:
            self.connected = True
            return dict(_CONNECT)
        transport = self.transport
        if transport is None or self.closed:
            return {"type": "websocket.disconnect", "code": _ABNORMAL}
        try:
            message = await transport.receive()
        except RuntimeError:  # RSGIProtocolClosed
            self.closed = True
            return {"type": "websocket.disconnect", "code": _ABNORMAL}
        kind = message.kind
        if kind == _TEXT:
            return {"type": "websocket.receive", "text": message.data}
        if kind == _BYTES:
            return {"type": "websocket.receive", "bytes": message.data}
        self.closed = True
        return {"type": "websocket.disconnect", "code": _NO_STATUS}

    async def send(self, message: Message) -> None:
        """ASGI ``send``: accept, send and close."""
        kind = message["type"]
        if kind == "websocket.send":
            transport = self.transport
            if transport is None or self.closed:
                raise OSError("the WebSocket is not open")
            text = message.get("text")
            try:
                if text is not None:
                    await transport.send_str(text)
                else:
                    await transport.send_bytes(bytes(message.get("bytes") or b""))
            except RuntimeError as exc:  # RSGIProtocolClosed
                self.closed = True
                raise OSError("the WebSocket is closed") from exc
        elif kind == "websocket.accept":
            if self.transport is not None or self.closed:
                raise RuntimeError("websocket.accept sent twice or after close")
            self.transport = await self.protocol.accept()
        elif kind == "websocket.close":
            self.close(_DENIED if self.transport is None else message.get("code", 1000))
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} on a WebSocket")

    def close(self, status: int) -> None:
        """Close the connection (``status`` is the HTTP status before accept); once only."""
        self.closed = True
        if not self.ended:
            self.ended = True
            self.protocol.close(status)

    def finish(self, failed: bool) -> None:
        """After the app returned: a connection it left open is closed (500 if it failed
        before accepting, 403 if it never answered the handshake)."""
        if self.transport is None:
            self.close(500 if failed else _DENIED)
        else:
            self.close(1000)
