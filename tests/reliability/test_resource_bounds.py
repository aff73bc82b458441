"""Hostile sizes cost bounded memory: each test states its bound and measures it.

The app is called over ASGI directly (so the test controls every chunk of the body) with
``tracemalloc`` on; the bound is on the peak of memory traced while the request runs.

* Decompression bombs: Hasten does not decode ``Content-Encoding: gzip`` request bodies, so a
  100 MiB bomb arrives as its ~100 KiB of compressed bytes (peak < 4 MiB); on the response side,
  ``GZipMiddleware`` compresses a 64 MiB streamed body chunk by chunk (peak < 8 MiB).
* Body size: ``Hasten``'s default limit (16 MiB) answers 413 to a chunked 64 MiB body having
  read at most the limit plus one chunk (peak < 24 MiB), and to a declared 10 GiB
  ``Content-Length`` without reading anything.
* Forms (``form_limits``, ``hasten/_form_limits.py``): 10,000 fields, 1,000 files or a 2 MiB
  field answer 400 (fields > 50, files > 5, a part > 1 MiB), peak < 8 MiB.
* JSON nesting: 8 MiB of ``[`` answers 400 (parsers stop at about 1,000 levels), peak < 32 MiB.
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import pytest
from probe_app import make_app

from hasten import Body, Hasten
from hasten.middleware.gzip import GZipMiddleware
from hasten.responses import StreamingResponse

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
CHUNK = 64 * 1024


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Result:
    def __init__(self) -> None:
        self.status = 0
        self.body = bytearray()
        self.body_bytes = 0
        self.chunks_read = 0
        self.peak = 0
        self.decompressed = 0
        self._inflate: Any = None

    def gunzip_as_it_comes(self) -> None:
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def add(self, data: bytes) -> None:
        self.body_bytes += len(data)
        if self._inflate is not None:
            self.decompressed += len(self._inflate.decompress(data))
        elif len(self.body) < MiB:
            self.body += data


async def call(
    app: Any,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    chunks: Iterator[bytes],
    result: Result | None = None,
) -> Result:
    """Run one request with the body in ``chunks`` (pulled lazily) under ``tracemalloc``."""
    result = result or Result()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "state": {},
    }
    pending = iter(chunks)
    next_chunk = next(pending, None)

    body_done = False

    async def receive() -> dict[str, Any]:
        nonlocal next_chunk, body_done
        if next_chunk is None:
            if body_done:  # the client stays: a streamed answer's disconnect listener waits
                await anyio.sleep_forever()
            body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        chunk, next_chunk = next_chunk, next(pending, None)
        result.chunks_read += 1
        return {"type": "http.request", "body": chunk, "more_body": next_chunk is not None}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            result.status = message["status"]
        elif message["type"] == "http.response.body":
            result.add(message.get("body", b""))

    tracemalloc.start()
    try:
        await app(scope, receive, send)
        result.peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result


def repeat(chunk: bytes, total: int) -> Iterator[bytes]:
    for _ in range(total // len(chunk)):
        yield chunk


def _bytes_app() -> Hasten:
    app = Hasten()

    @app.post("/raw")
    def raw(data: Annotated[bytes, Body(media_type="application/octet-stream")]) -> int:
        return len(data)

    @app.post("/json")
    def json_body(data: Annotated[dict[str, Any], Body()]) -> int:
        return len(data)

    return app


def _gzip_bomb(size: int) -> bytes:
    out = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MiB)
    parts = [out.compress(zeros) for _ in range(size // MiB)]
    return b"".join(parts) + out.flush()


BOMB = _gzip_bomb(100 * MiB)


async def test_gzip_request_body_is_not_inflated() -> None:
    """A 100 MiB gzip bomb reaches the endpoint as its compressed bytes (peak < 4 MiB)."""
    assert len(BOMB) < 200 * 1024
    headers = [(b"content-encoding", b"gzip"), (b"content-type", b"application/octet-stream")]
    result = await call(_bytes_app(), "POST", "/raw", headers, iter([BOMB]))
    assert (result.status, bytes(result.body)) == (200, str(len(BOMB)).encode())
    assert result.peak < 4 * MiB


async def test_gzip_json_body_is_a_client_error() -> None:
    headers = [(b"content-encoding", b"gzip"), (b"content-type", b"application/json")]
    result = await call(_bytes_app(), "POST", "/json", headers, iter([BOMB]))
    assert 400 <= result.status < 500
    assert result.peak < 4 * MiB


async def test_gzip_middleware_streams_the_response() -> None:
    """64 MiB streamed through GZipMiddleware: compressed chunk by chunk (peak < 8 MiB)."""
    app = Hasten()

    @app.get("/big")
    async def big() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            block = b"hasten " * (CHUNK // 7)
            for _ in range(64 * MiB // len(block)):
                yield block

        return StreamingResponse(chunks(), media_type="text/plain")

    wrapped = GZipMiddleware(app, minimum_size=500)
    result = Result()
    result.gunzip_as_it_comes()
    await call(wrapped, "GET", "/big", [(b"accept-encoding", b"gzip")], iter(()), result)
    assert result.status == 200
    assert result.decompressed >= 63 * MiB
    assert result.body_bytes < result.decompressed // 100  # it was compressed
    assert result.peak < 8 * MiB


async def test_chunked_body_over_the_limit_stops_being_read() -> None:
    """Hasten's 16 MiB default: a 64 MiB chunked body is cut off after the limit (+ a chunk)."""
    headers = [(b"content-type", b"application/octet-stream"), (b"transfer-encoding", b"chunked")]
    result = await call(_bytes_app(), "POST", "/raw", headers, repeat(bytes(CHUNK), 64 * MiB))
    assert result.status == 413
    assert result.chunks_read * CHUNK <= 16 * MiB + CHUNK
    assert result.peak < 24 * MiB


async def test_declared_content_length_over_the_limit_reads_nothing() -> None:
    headers = [(b"content-type", b"application/octet-stream"), (b"content-length", b"10737418240")]
    result = await call(_bytes_app(), "POST", "/raw", headers, repeat(bytes(CHUNK), 16 * CHUNK))
    assert result.status == 413
    assert result.chunks_read == 0


FORM = [(b"content-type", b"application/x-www-form-urlencoded")]


def _multipart(parts: list[tuple[str, bytes, str | None]]) -> tuple[list[Any], bytes]:
    body = b""
    for name, value, filename in parts:
        extra = f'; filename="{filename}"' if filename else ""
        body += f'--B\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n'.encode()
        body += value + b"\r\n"
    return [(b"content-type", b"multipart/form-data; boundary=B")], body + b"--B--\r\n"


@pytest.mark.parametrize(
    ("path", "case"),
    [
        ("/form", "10000-urlencoded-fields"),
        ("/form", "10000-multipart-fields"),
        ("/upload", "1000-files"),
        ("/upload", "2MiB-field"),
    ],
)
async def test_form_limits_bound_parsing(path: str, case: str) -> None:
    """The probe app's form_limits (50 fields, 5 files) and the 1 MiB part size: 400."""
    if case == "10000-urlencoded-fields":
        headers, body = FORM, b"&".join(b"f%d=v" % n for n in range(10_000))
    elif case == "10000-multipart-fields":
        headers, body = _multipart([(f"f{n}", b"v", None) for n in range(10_000)])
    elif case == "1000-files":
        headers, body = _multipart([("file", b"x" * 100, f"{n}.txt") for n in range(1000)])
    else:
        headers, body = _multipart([("file", b"x", "a.txt"), ("note", bytes(2 * MiB), None)])
    result = await call(make_app(), "POST", path, headers, iter([body]))
    assert result.status == 400, bytes(result.body)
    assert b"detail" in result.body
    assert result.peak < 8 * MiB + len(body)


async def test_deep_json_nesting_is_refused_without_using_the_stack() -> None:
    body = b"[" * (8 * MiB)
    headers = [(b"content-type", b"application/json")]
    result = await call(_bytes_app(), "POST", "/json", headers, iter([body]))
    assert result.status == 400
    assert result.peak < 32 * MiB


def test_bomb_is_a_real_bomb() -> None:
    assert len(gzip.decompress(BOMB)) == 100 * MiB
