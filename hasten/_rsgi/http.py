"""One HTTP request over RSGI: the ASGI ``receive``/``send`` pair of an RSGI HTTP protocol.

``HTTPCycle`` is a small slotted object; its bound methods are the ``receive`` and ``send`` the
app's ASGI stack is called with. What goes over the wire is what an ASGI server would send:

* **Responses.** ``http.response.start`` is kept (its headers converted to ``str`` once: a
  list of ``bytes`` pairs through ``RESPONSE_PAIRS``, a bounded table of the pairs seen, since
  responses repeat theirs; anything else pair by pair, as latin-1); a body message without
  ``more_body`` that follows it goes out with the start in one ``response_bytes`` call. A body
  with ``more_body`` opens a ``response_stream`` and each chunk is one ``send_bytes``.
  ``http.response.pathsend`` (advertised in the scope's extensions, so Starlette's
  ``FileResponse`` uses it) becomes ``response_file``: Granian sends the file. As with
  uvicorn, body chunks sent after the client went away are dropped silently. ``answer``
  takes a start and a final body in one call, as the two messages would go: the runners use
  it for a plain answer when the ``send`` they were given is the cycle's own.
* **Request bodies.** A body with a ``Content-Length`` up to ``ONE_READ_LIMIT`` bytes is read
  with one ``await protocol()`` and handed over as a single ``http.request``; any other body
  (larger, chunked, or HTTP/2 without a length) arrives chunk by chunk as Granian reads it, so
  a body size limit stops reading it early. Once the body is read, ``receive`` waits for the
  client to go away (``http.disconnect``), or answers it at once when the response is done.
  A body the app did not read is settled before the response goes out (``_unread_body``).
"""

from __future__ import annotations

from typing import Any

from starlette.types import Message

__all__ = [
    "DRAIN_LIMIT",
    "ONE_READ_LIMIT",
    "RESPONSE_PAIRS",
    "HTTPCycle",
    "ResponsePairs",
    "open_cycle",
]

ONE_READ_LIMIT = 1024 * 1024
"""Bodies declared at most this large are read with one call, larger ones as a stream."""
DRAIN_LIMIT = 64 * 1024
"""An unread request body up to this size is read and dropped before the response is sent."""

_DISCONNECT: Message = {"type": "http.disconnect"}
_START = "http.response.start"
_BODY = "http.response.body"
_PATHSEND = "http.response.pathsend"

# What the request body reader has done so far (HTTPCycle.reading).
_UNREAD, _STREAMING, _READ = 0, 1, 2


class HTTPCycle:
    """The ASGI ``receive``/``send`` of one RSGI HTTP request (see the module docstring).

    Made by ``open_cycle`` (no ``__init__``: a class called from Python code without one is
    made without running Python code).
    """

    protocol: Any
    fields: Any  # the RSGI request headers (read for the body's length only)
    http_version: str
    status: int | None  # of the http.response.start not yet sent
    headers: list[tuple[str, str]]  # set by http.response.start
    stream: Any  # the RSGI stream transport, once a body is streamed
    done: bool  # the response is complete
    gone: bool  # the client went away
    reading: int
    chunks: Any  # set when the body is streamed in

    __slots__ = (
        "protocol", "fields", "http_version", "status", "headers", "stream", "done", "gone",
        "reading", "chunks",
    )  # fmt: skip

    async def send(self, message: Message) -> None:
        """ASGI ``send``: start, body and pathsend messages as RSGI responses."""
        kind = message["type"]
        if kind != _BODY:
            if kind != _START:
                await self._other(message)
                return
            self._start(message["status"], message.get("headers", ()))
            return
        # http.response.body, inlined here: it is every response's last message.
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if self.stream is None:
            status = self.status
            if status is None:
                if self.done:
                    return  # the response is complete: nothing more goes out
                raise RuntimeError("http.response.body sent before http.response.start")
            if not self._body_settled():
                await self._unread_body()
            self.status = None
            if not more:
                self.done = True
                self.protocol.response_bytes(
                    status, self.headers, body if type(body) is bytes else bytes(body)
                )
                return
            self.stream = self.protocol.response_stream(status, self.headers)
        await self._chunk(body, more)

    async def answer(self, status: int, headers: Any, body: bytes) -> None:
        """``send`` of an ``http.response.start`` (``status``, ``headers``) and then of the
        final body, in one call: the runners' plain answers (``hasten._plan.runner``), when
        the ``send`` they were given is this cycle's own. Same checks, same protocol call."""
        self._start(status, headers)
        if not self._body_settled():
            await self._unread_body()  # may add ``connection: close`` to the headers
        self.status = None
        self.done = True
        self.protocol.response_bytes(
            status, self.headers, body if type(body) is bytes else bytes(body)
        )

    async def _other(self, message: Message) -> None:
        kind = message["type"]
        if kind != _PATHSEND:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} in an HTTP response")
        status = self.status
        if status is None:
            raise RuntimeError("http.response.pathsend sent before http.response.start")
        if not self._body_settled():
            await self._unread_body()
        self.status = None
        self.done = True
        self.protocol.response_file(status, self.headers, str(message["path"]))

    async def _chunk(self, body: bytes, more: bool) -> None:
        if body and not (self.gone or self.done):
            try:
                await self.stream.send_bytes(bytes(body))
            except RuntimeError:  # RSGIProtocolClosed: the client went away
                self.gone = True
        if not more:
            self.done = True

    def _start(self, status: int, raw: Any) -> None:
        """An ``http.response.start``: kept, its headers as RSGI's ``str`` pairs (an error
        converting them leaves the response started)."""
        if self.status is not None or self.done or self.stream is not None:
            raise RuntimeError("http.response.start sent twice")
        self.status = status
        if type(raw) is list:
            try:
                self.headers = [*map(_response_pair, raw)]
            except TypeError:  # a pair that is a list, or holds a bytearray
                self.headers = _decode(raw)
        else:
            self.headers = _decode(raw)

    def _body_settled(self) -> bool:
        """Whether the request body needs nothing before the response goes out: read, or
        none declared (then marked read); False: ``_unread_body`` must settle it."""
        reading = self.reading
        if reading == _READ:
            return True
        fields = self.fields
        if (
            reading == _UNREAD
            and "content-length" not in fields
            and "transfer-encoding" not in fields
        ):
            self.reading = _READ
            return True
        return False

    async def _unread_body(self) -> None:
        """Before the response goes out: settle a request body the app did not read to its end.

        Granian closes a connection whose request body was left unread, which a client
        reusing it sees as a dropped request. A body of at most ``DRAIN_LIMIT`` bytes is read
        and discarded, so the connection stays open (as with uvicorn, which reads it anyway);
        a larger or partly read one gets ``connection: close`` on HTTP/1, so the client knows.
        """
        if self.reading == _UNREAD:
            declared = self.fields.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) <= DRAIN_LIMIT:
                self.reading = _READ
                try:
                    await self.protocol()
                except RuntimeError:  # the client went away: nothing to keep open
                    self.gone = True
                return
        self.reading = _READ
        if self.http_version != "2":
            self.headers.append(("connection", "close"))

    async def receive(self) -> Message:
        """ASGI ``receive``: the request body, then ``http.disconnect``."""
        reading = self.reading
        if reading == _UNREAD:
            declared = self.fields.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) <= ONE_READ_LIMIT:
                self.reading = _READ
                try:
                    body = await self.protocol()
                except RuntimeError:  # RSGIProtocolError/Closed: the client went away
                    self.gone = True
                    return _DISCONNECT
                return {"type": "http.request", "body": body, "more_body": False}
            self.reading = _STREAMING
            self.chunks = self.protocol.__aiter__()
            reading = _STREAMING
        if reading == _STREAMING:
            return await self._next_chunk()
        if self.done or self.gone:
            return _DISCONNECT
        await self.protocol.client_disconnect()
        self.gone = True
        return _DISCONNECT

    async def _next_chunk(self) -> Message:
        chunks = self.chunks
        assert chunks is not None
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            self.reading = _READ
            self.chunks = None
            return {"type": "http.request", "body": b"", "more_body": False}
        except RuntimeError:  # RSGIProtocolError/Closed: the client went away mid-body
            self.reading = _READ
            self.chunks = None
            self.gone = True
            return _DISCONNECT
        return {"type": "http.request", "body": chunk, "more_body": True}


def open_cycle(protocol: Any, fields: Any, http_version: str) -> HTTPCycle:
    """The ``HTTPCycle`` of one request: ``fields`` are its RSGI headers."""
    cycle = HTTPCycle()
    cycle.protocol = protocol
    cycle.fields = fields
    cycle.http_version = http_version
    cycle.status = None
    cycle.stream = None
    cycle.done = False
    cycle.gone = False
    cycle.reading = _UNREAD
    return cycle


def _decode(raw: Any) -> list[tuple[str, str]]:
    """ASGI response headers (any iterable of ``bytes`` pairs) as RSGI's ``str`` pairs."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]


class ResponsePairs(dict[tuple[bytes, bytes], tuple[str, str]]):
    """ASGI response header pairs → RSGI ones (latin-1), remembered:
    ``pairs[(b"content-length", b"13")]`` is ``("content-length", "13")``. Values longer than
    ``VALUE_MAX``, and cookies (per user, often secret), are converted but not kept; at
    ``LIMIT`` pairs the table starts afresh, so a stream of distinct values cannot grow it.
    (About 2.8k instructions a request less than decoding each pair: bench/rsgi_cost.py.)"""

    LIMIT = 1024
    VALUE_MAX = 256

    def __missing__(self, pair: tuple[bytes, bytes]) -> tuple[str, str]:
        name, value = pair
        converted = (name.decode("latin-1"), value.decode("latin-1"))
        if len(value) <= self.VALUE_MAX and converted[0].lower() != "set-cookie":
            if len(self) >= self.LIMIT:
                self.clear()
            self[pair] = converted
        return converted


RESPONSE_PAIRS = ResponsePairs()
_response_pair = RESPONSE_PAIRS.__getitem__
