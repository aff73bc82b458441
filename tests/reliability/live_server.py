"""A real server process for the reliability tests: ``hasten run`` on a free port.

``LiveServer.start`` runs ``python -m hasten run APP --server uvicorn`` (so the settings ``hasten run``
passes to uvicorn are the ones tested) with short timeouts, waits until it answers, and
keeps its output in a file; ``rss()``/``fds()`` read its memory and open files from /proc;
``stop()`` sends SIGTERM and waits. Raw-socket helpers send bytes and read what comes back.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

#: The options every test server runs with: ``hasten run``'s defaults, timeouts shortened.
TEST_OPTIONS = ("--timeout-keep-alive", "2", "--timeout-request-head", "2")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @classmethod
    def start(
        cls, app: str, log_path: Path, *options: str, cwd: Path = HERE, env: Any = None
    ) -> LiveServer:
        port = free_port()
        log = log_path.open("wb")
        command = [sys.executable, "-m", "hasten", "run", app, "--server", "uvicorn"]
        command += ["--host", "127.0.0.1"]
        command += ["--port", str(port), *TEST_OPTIONS, *options]
        environment = {**os.environ, "PYTHONPATH": f"{ROOT}:{cwd}", **(env or {})}
        process = subprocess.Popen(
            command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=environment
        )
        server = cls(process, port, log_path, log)
        server._wait_ready()
        return server

    def _wait_ready(self, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)  # polling for the port to open (startup), not a timed check
        raise RuntimeError(f"server did not start: {self.log()}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def rss(self) -> int:
        """Resident memory of the server process, in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return int(self.process.returncode)


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or the socket's timeout)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send ``data`` on a fresh connection and read until the server closes it."""
    with connect(port, timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before we finished sending: what it answered is read below
        return read_all(sock)


def responses(raw: bytes) -> list[tuple[int, bytes]]:
    """The HTTP/1.x responses in ``raw`` (status, body), in order, read by their framing
    (``Content-Length`` or chunked; a response without either runs to the end)."""
    found: list[tuple[int, bytes]] = []
    rest = raw
    while rest.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")):
        head, sep, rest = rest.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        code = lines[0][9:12]
        if not sep or not code.isdigit():
            break
        fields = dict(line.lower().split(b":", 1) for line in lines[1:] if b":" in line)
        length = fields.get(b"content-length")
        if int(code) in (100, 101, 204, 304):
            body = b""
        elif length is not None:
            body, rest = rest[: int(length)], rest[int(length) :]
        elif b"chunked" in fields.get(b"transfer-encoding", b""):
            body, rest = _dechunk(rest)
        else:
            body, rest = rest, b""
        found.append((int(code), body))
    return found


def _dechunk(data: bytes) -> tuple[bytes, bytes]:
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            return body, data.partition(b"\r\n")[2]
        body, data = body + data[:size], data[size + 2 :]


def statuses(raw: bytes) -> list[int]:
    """The status codes of the HTTP/1.x responses in ``raw``, in order."""
    return [code for code, _ in responses(raw)]


def http_get(port: int, path: str, timeout: float = 15.0) -> tuple[int, bytes]:
    """``GET path`` with ``Connection: close``; status and body."""
    request = f"GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n".encode()
    answers = responses(exchange(port, request, timeout))
    return answers[0] if answers else (0, b"")
