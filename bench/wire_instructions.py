"""What the rate limiter and the Prometheus middleware cost over the wire, in instructions.

    .venv/bin/python -m bench.wire_instructions [--requests 1000] [--parts limiter,metrics]

The server is uvicorn (1 worker, uvloop, httptools, no access log) serving the plaintext app
of bench/ratelimit_cost.py (modes ``off``, ``memory``, ``quiet``, ``fixed``) and of bench/metrics_cost.py
(``off``, ``on``), the way section B serves it, under ``valgrind --tool=callgrind``
(``PYTHONHASHSEED=0``, instrumentation off while it starts). A client on one keep-alive
connection sends 300 ``GET /plaintext`` requests to warm it up; then ``callgrind_control``
turns the counting on, the client sends ``--requests`` (and, in a second server, twice as many)
requests, and the counting is turned off before the server stops. The difference of the two
counts divided by ``--requests`` is what one request costs the server process: the server's
parsing and writing as well as the app (what the in-process figures leave out), and it does
not move with the machine's load. All requests come from one client address (as wrk's do): the
limiter counts one key, whose ``RateLimit`` value changes with every answer.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = {
    "limiter": (
        "bench.ratelimit_cost:served_app",
        "BENCH_RATELIMIT_MODE",
        ("off", "memory", "quiet", "fixed"),
    ),
    "metrics": ("bench.metrics_cost:app", "BENCH_METRICS", ("off", "on")),
}
_REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\nAccept: */*\r\n\r\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _connect(port: int, proc: subprocess.Popen[bytes], timeout: float = 180) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=60)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start under valgrind") from None
            time.sleep(0.2)


def _exchange(sock: socket.socket, count: int) -> None:
    """``count`` requests on one connection, each answer read whole before the next."""
    pending = b""
    for _ in range(count):
        sock.sendall(_REQUEST)
        while b"\r\n\r\n" not in pending:
            pending += sock.recv(65536)
        head, _, pending = pending.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"unexpected answer: {head[:200]!r}")
        match = re.search(rb"(?i)content-length:\s*(\d+)", head)
        length = int(match.group(1)) if match else 0
        while len(pending) < length:
            pending += sock.recv(65536)
        pending = pending[length:]


def server_instructions(target: str, env_name: str, mode: str, count: int) -> int:
    """Instructions the uvicorn process executes answering ``count`` requests after warm-up."""
    port = _free_port()
    env = {**os.environ, env_name: mode, "PYTHONHASHSEED": "0"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={out}", sys.executable, "-m", "uvicorn", target,
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        if target.endswith(":served_app"):
            command.append("--factory")
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            with _connect(port, proc) as sock:
                _exchange(sock, 300)
                subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True,
                               capture_output=True)  # fmt: skip
                _exchange(sock, count)
                subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)], check=True,
                               capture_output=True)  # fmt: skip
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=120)
    match = re.search(rb"Collected\s*:\s*(\d+)", err)
    if match is None:
        raise SystemExit(f"callgrind reported nothing:\n{err[-2000:].decode(errors='replace')}")
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--parts", default="limiter,metrics")
    args = parser.parse_args()
    count = args.requests
    for part in args.parts.split(","):
        target, env_name, modes = PARTS[part]
        per_request: dict[str, float] = {}
        for mode in modes:
            once = server_instructions(target, env_name, mode, count)
            twice = server_instructions(target, env_name, mode, 2 * count)
            per_request[mode] = (twice - once) / count
        base = per_request["off"]
        print(f"\n{part}: uvicorn server process, instructions per request "
              f"(callgrind, {count} vs {2 * count} requests), GET /plaintext")  # fmt: skip
        for mode, value in per_request.items():
            extra = value - base
            print(
                f"  {mode:7s} {value:10,.0f}   +{extra:8,.0f} over off   ({extra / base * 100:+.1f} %)"
            )


if __name__ == "__main__":
    main()
