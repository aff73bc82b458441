"""Two real server processes share one limit through Redis: with 100 requests per window,
the 101st gets 429 whichever process answers it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import REDIS_URL

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_servers(redis_prefix: str) -> Iterator[list[str]]:
    """Two uvicorn processes serving ratelimit_server_app on their own ports."""
    env = {
        **os.environ,
        "RL_REDIS_URL": REDIS_URL,
        "RL_PREFIX": redis_prefix,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
    }
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "ratelimit_server_app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=HERE,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 20
        for process, url in zip(processes, urls, strict=True):
            while True:
                assert process.poll() is None, process.stderr.read()  # type: ignore[union-attr]
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not start"
                time.sleep(0.05)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            if process.stderr is not None:
                process.stderr.close()


def test_the_101st_request_is_refused_by_either_process(two_servers: list[str]) -> None:
    first, second = two_servers
    pids = set()
    with httpx.Client(timeout=5) as http:
        for n in range(100):
            answer = http.get(f"{two_servers[n % 2]}/x")
            assert answer.status_code == 200, (n, answer.text)
            pids.add(answer.json()["pid"])
    assert len(pids) == 2  # both processes answered, each counting in the same place
    assert answer.headers["ratelimit"].startswith('"default";r=0;t=')  # the 100th: none left
    with httpx.Client(timeout=5) as http:
        refused = [http.get(f"{url}/x") for url in (first, second, first)]
    assert [r.status_code for r in refused] == [429, 429, 429]
    assert refused[0].json() == {"detail": "Rate limit exceeded: 100 requests per 60 seconds"}
    assert all(1 <= int(r.headers["retry-after"]) <= 61 for r in refused)
