"""Helpers for the metrics tests: the exposition parsed, real uvicorn processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(exposition: str) -> Samples:
    """``{(sample name, sorted labels): value}`` of a text exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def requests_total(parsed: Samples, method: str, route: str, status: int) -> float | None:
    key = (("method", method), ("route", route), ("status", str(status)))
    return parsed.get(("http_requests_total", key))


def duration_count(parsed: Samples, method: str, route: str, status: int) -> float | None:
    key = (("method", method), ("route", route), ("status", str(status)))
    return parsed.get(("http_request_duration_seconds_count", key))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn(app: str, log: Path, env: dict[str, str], *options: str) -> Iterator[int]:
    """A real uvicorn process serving ``app`` (a module of this folder) on a free port."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    environment: dict[str, Any] = {**os.environ, "PYTHONPATH": f"{ROOT}:{HERE}", **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--log-level", "warning", *options],
            cwd=HERE,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        try:
            _wait_ready(process, port, log)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # polling for startup, not a timed assertion
    raise RuntimeError(f"uvicorn did not start: {log.read_text(errors='replace')}")


def wait_for(path: Path, seconds: float = 15.0) -> None:
    """Wait (bounded) until ``path`` exists."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)
