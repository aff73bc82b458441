"""What a request costs the server process, in instructions: Hasten against a raw app, and
what the rate limiter and the Prometheus middleware add.

    .venv/bin/python -m bench.wire_instructions [--requests 1000] [--parts framework,limiter,metrics]
                                                [--server uvicorn|granian] [--endpoint plaintext]
                                                [--cache]
    .bench-venv/bin/python -m bench.wire_instructions --parts fastapi --endpoint path-query

The server is uvicorn (1 worker, uvloop, httptools, no access log) or Granian's RSGI interface
(``hasten run``'s server: 1 worker, 1 runtime thread, uvloop), serving ``GET /plaintext`` of:
``framework``, the raw app (bench/apps/raw_app.py, raw_rsgi_app.py on Granian) and Hasten's
(bench/apps/hasten_app.py); ``limiter``, bench/ratelimit_cost.py's app in its modes ``off``,
``memory``, ``headers``, ``fixed``; ``metrics``, bench/metrics_cost.py's ``off`` and ``on``.
Each runs under ``valgrind --tool=callgrind`` (``PYTHONHASHSEED=0``, instrumentation off while
it starts, Granian's worker process traced too). A client on one keep-alive connection sends
300 requests to warm it up; then ``callgrind_control`` turns the counting on, the client sends
``--requests`` (and, in a second server, twice as many) requests, and the counting is turned
off before the server stops. The difference of the two counts divided by ``--requests`` is
what one request costs the server's processes: the server's parsing and writing as well as the
app (what the in-process figures leave out). It does not move with the machine's load beyond
about 1–2k instructions (the event loop's own iterations vary a little). All requests come from
one client address (as wrk's do): the limiter counts one key, whose ``RateLimit`` value changes
with every answer.

``--endpoint`` sends another of the benchmark's requests (bench/_spec.py's ``BENCH_REQUESTS``:
``json``, ``path-query``, ``body``, ``deps``, ``users``) instead of ``GET /plaintext``; the part
``fastapi`` (FastAPI against Hasten, bench/apps/) needs the bench venv, which has FastAPI, and
the part ``hasten`` counts Hasten's app alone (on either server, for any endpoint).

``--cache`` runs callgrind's cache simulation too and adds each server's level-1 misses per
request (``I1mr`` instruction, ``D1mr``/``D1mw`` data read/write): a request's time behind a
real server follows them as well as its instructions (bench/README.md, eleventh round).
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
#: part -> (label, server target, environment) per mode; the first mode is the baseline.
PARTS: dict[str, tuple[tuple[str, str, dict[str, str]], ...]] = {
    "limiter": tuple(
        (mode, "bench.ratelimit_cost:served_app", {"BENCH_RATELIMIT_MODE": mode})
        for mode in ("off", "memory", "headers", "fixed")
    ),
    "metrics": tuple(
        (mode, "bench.metrics_cost:app", {"BENCH_METRICS": mode}) for mode in ("off", "on")
    ),
    # FastAPI against Hasten on the same server (every endpoint; the bench venv has FastAPI)
    "fastapi": (
        ("fastapi", "bench.apps.fastapi_app:app", {}),
        ("hasten", "bench.apps.hasten_app:app", {}),
    ),
    # Hasten alone: any endpoint (the raw apps answer only plaintext and json)
    "hasten": (("hasten", "bench.apps.hasten_app:app", {}),),
    # Hasten against the raw app on the same server (RSGI: the raw RSGI app under Granian)
    "framework": (
        ("raw", "bench.apps.raw_app:app", {}),
        ("hasten", "bench.apps.hasten_app:app", {}),
    ),
}


def raw_request(endpoint: str) -> bytes:
    """The HTTP/1.1 bytes of the benchmark's request for ``endpoint`` (as wrk sends it)."""
    from bench._spec import BENCH_REQUESTS

    req = BENCH_REQUESTS[endpoint]
    lines = [f"{req.method} {req.target} HTTP/1.1", "Host: bench", "Accept: */*"]
    lines += [f"{name}: {value}" for name, value in req.headers]
    if req.body:
        lines.append(f"Content-Length: {len(req.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + req.body


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


def _exchange(sock: socket.socket, count: int, request: bytes) -> None:
    """``count`` requests on one connection, each answer read whole before the next."""
    pending = b""
    for _ in range(count):
        sock.sendall(request)
        while b"\r\n\r\n" not in pending:
            pending += sock.recv(65536)
        head, _, pending = pending.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 20"):
            raise SystemExit(f"unexpected answer: {head[:200]!r}")
        match = re.search(rb"(?i)content-length:\s*(\d+)", head)
        length = int(match.group(1)) if match else 0
        while len(pending) < length:
            pending += sock.recv(65536)
        pending = pending[length:]


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            todo.extend(int(child) for child in children)
    return found


def _instrument(pids: list[int], state: str) -> None:
    for pid in pids:
        subprocess.run(["callgrind_control", "-i", state, str(pid)], check=True,
                       capture_output=True)  # fmt: skip


def server_instructions(
    target: str,
    extra_env: dict[str, str],
    count: int,
    server: str = "uvicorn",
    request: bytes | None = None,
) -> int:
    """Instructions the server's processes execute answering ``count`` requests after the
    warm-up (``server``: ``uvicorn`` or ``granian``, its RSGI interface; ``request``: the
    bytes of one request, ``GET /plaintext`` by default)."""
    return server_events(target, extra_env, count, server, request)["Ir"]


def server_events(
    target: str,
    extra_env: dict[str, str],
    count: int,
    server: str = "uvicorn",
    request: bytes | None = None,
    cache: bool = False,
) -> dict[str, int]:
    """Callgrind's events over the server's processes for ``count`` requests after the
    warm-up (``server_instructions``): ``Ir`` (instructions), and with ``cache`` its cache
    simulation's too (``I1mr``, ``D1mr``, ``D1mw``: level-1 instruction, data-read and
    data-write misses; ``ILmr``… for the last level)."""
    request = raw_request("plaintext") if request is None else request
    port = _free_port()
    env = {**os.environ, **extra_env, "PYTHONHASHSEED": "0"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", "--trace-children=yes",
            f"--callgrind-out-file={out}.%p",
        ]  # fmt: skip
        if cache:
            command.append("--cache-sim=yes")
        if server == "uvicorn":
            command += [
                sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1",
                "--port", str(port), "--loop", "uvloop", "--http", "httptools",
                "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        else:  # Granian's RSGI (``hasten run``'s server): a worker process, one runtime thread
            command += [
                str(Path(sys.executable).with_name("granian")), "--interface", "rsgi",
                "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                "--runtime-threads", "1", "--loop", "uvloop", "--no-ws", "--log-level", "warning",
            ]  # fmt: skip
            command += ["--factory", target] if target.endswith(":served_app") else [target]
        if server == "uvicorn" and target.endswith(":served_app"):
            command.append("--factory")
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            with _connect(port, proc) as sock:
                _exchange(sock, 300, request)
                # the server's processes only (Granian's worker is a child): callgrind_control
                # without a pid would switch every callgrind run of the user, other benches too
                pids = _process_tree(proc.pid)
                _instrument(pids, "on")
                _exchange(sock, count, request)
                _instrument(pids, "off")
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=120)
    names = re.findall(rb"Events\s*:\s*([A-Za-z0-9 ]+)", err)
    rows = re.findall(rb"Collected\s*:\s*([0-9 ]+)", err)
    if not rows or len(names) != len(rows):
        raise SystemExit(f"callgrind reported nothing:\n{err[-2000:].decode(errors='replace')}")
    totals: dict[str, int] = {}
    for events, row in zip(names, rows, strict=True):  # the server's processes (one: uvicorn)
        for event, value in zip(events.decode().split(), row.split(), strict=False):
            totals[event] = totals.get(event, 0) + int(value)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--parts", default="framework,limiter,metrics")
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    parser.add_argument("--endpoint", default="plaintext", help="a BENCH_REQUESTS name")
    parser.add_argument(
        "--cache", action="store_true", help="also the simulated level-1 cache misses"
    )
    args = parser.parse_args()
    count = args.requests
    request = raw_request(args.endpoint)
    line = request.split(b"\r\n", 1)[0].decode()
    for part in args.parts.split(","):
        per_request: dict[str, float] = {}
        misses: dict[str, str] = {}
        for label, target, extra_env in PARTS[part]:
            if args.server == "granian" and target == "bench.apps.raw_app:app":
                target = "bench.apps.raw_rsgi_app:app"
            once = server_events(target, extra_env, count, args.server, request, args.cache)
            twice = server_events(target, extra_env, 2 * count, args.server, request, args.cache)
            per_request[label] = (twice["Ir"] - once["Ir"]) / count
            misses[label] = "".join(
                f"   {event} {(twice[event] - once[event]) / count:6,.0f}"
                for event in ("I1mr", "D1mr", "D1mw")
                if event in once
            )
        base = next(iter(per_request.values()))
        print(f"\n{part}: {args.server} server, instructions per request "
              f"(callgrind, {count} vs {2 * count} requests), {line}")  # fmt: skip
        for mode, value in per_request.items():
            extra = value - base
            print(
                f"  {mode:7s} {value:10,.0f}   +{extra:8,.0f} over {next(iter(per_request))}   ({extra / base * 100:+.1f} %){misses[mode]}"
            )


if __name__ == "__main__":
    main()
