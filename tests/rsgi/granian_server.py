"""A real Granian process for tests/rsgi: ``granian --interface rsgi`` (or ``hasten run``).

``GranianServer.start`` runs the command on a free port with this directory on the path,
waits until the port answers, keeps its output in a file, and ``stop()`` sends SIGTERM and
waits for the process to end (the app's shutdown runs in between).
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
from typing import IO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def granian_command(target: str, port: int, *options: str) -> list[str]:
    """``granian --interface rsgi`` serving ``target`` on 127.0.0.1:``port``."""
    return [
        sys.executable, "-m", "granian", "--interface", "rsgi", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", *options, target,
    ]  # fmt: skip


def hasten_command(target: str, port: int, *options: str) -> list[str]:
    """``hasten run`` serving ``target`` on 127.0.0.1:``port``."""
    return [
        sys.executable, "-m", "hasten", "run", target, "--host", "127.0.0.1",
        "--port", str(port), *options,
    ]  # fmt: skip


@dataclass
class GranianServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @classmethod
    def start(
        cls, command: list[str], port: int, log_path: Path, env: dict[str, str]
    ) -> GranianServer:
        log = log_path.open("wb")
        environment = {**os.environ, "PYTHONPATH": f"{ROOT}:{HERE}", **env}
        process = subprocess.Popen(
            command, cwd=HERE, stdout=log, stderr=subprocess.STDOUT, env=environment
        )
        server = cls(process, port, log_path, log)
        server.wait_ready()
        return server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                text = self.log()
                self._log.close()
                raise RuntimeError(f"server exited: {text}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)  # polling for the port to open (startup), not a timed check
        text = self.log()
        self.stop()
        raise RuntimeError(f"server did not start: {text}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return int(self.process.returncode)


def wait_for(predicate: object, seconds: float = 20.0) -> bool:
    """Poll ``predicate()`` until it is true (work in another process), at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False
