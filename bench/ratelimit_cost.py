"""What the app-wide memory rate limiter costs on the plaintext endpoint.

    .venv/bin/python -m bench.ratelimit_cost [--rounds 7] [--requests 30000] [--wire]
    .venv/bin/python -m bench.ratelimit_cost --instructions [--requests 2000] [--modes off,memory]

The app is bench/apps/hasten_app.py (``GET /plaintext``), as section A of the benchmark runs
it. Modes:

  off      the app as it is
  noop     + a pure ASGI middleware that does nothing (what any one layer costs)
  memory   + ``RateLimitMiddleware(policy=SlidingWindow(10**9, 60))``: the default memory
           backend, keys by client address, the ``RateLimit`` headers on refusals only (the
           default; a limit nobody reaches: every request is counted and allowed)
  headers  ``memory`` with ``headers=True``: ``RateLimit``/``RateLimit-Policy`` on every answer
  bucket   ``memory`` with ``TokenBucket(10**9, 0.001)`` (a token back every 1,000 s: a key
           stays in the table for the whole run, as under ``memory``; with a faster refill
           its bucket is full again, and the key forgotten, sooner under callgrind's slowdown
           than in a timed run, and the count would measure that churn)

and, asked for by name (``--modes``), what parts of that cost:

  layer    a do-nothing layer that Hasten may put around its core stack (as it did with the
           limiter before it ran as a step of the core: hasten/_observed.py)
  wrapper  ``layer`` wrapping ``send`` to add one header (as the limiter did then)
  fixed    ``memory`` plus two fixed header lines as long as ``headers``' (what carrying the
           ``RateLimit`` headers costs, apart from counting)

In-process (default): each (mode, round) runs in a fresh interpreter that builds the app,
warms it up and times ``--requests`` sequential ASGI calls (no server, no sockets) from 10,000
rotating client addresses (10,000 keys in the table), in CPU time of the process
(``time.process_time``: on a shared machine, wall time mostly measures the neighbours). ``--wire``: each (mode, round) starts a
uvicorn process (1 worker, httptools, no access log) and runs ``wrk`` against it
(``--wire-seconds``, 1 thread, 32 connections); the figure is requests per CPU second of the
server process (its user + system time from /proc, around the timed run), which a busy machine
disturbs far less than wall-clock req/s. Modes are interleaved round by round; the medians are
reported with their ratio to ``off``.

``--instructions``: a deterministic count instead of a timing. Each mode runs twice under
``valgrind --tool=callgrind`` (``PYTHONHASHSEED=0``), once with ``--requests`` requests after
the warm-up and once with twice as many; the difference of the two instruction counts divided
by ``--requests`` is what one request costs, start-up and warm-up cancelled out. There the
warm-up is 300 requests and the other client keys are counted into the limiter's table
directly (the same table, far fewer instructions under valgrind), start-up objects are frozen
out of the garbage collector, and counting starts after the warm-up where gcc can build the
small helper that starts callgrind's instrumentation. Reported per mode with its difference to
``off``.

The machine these numbers come from may be shared and noisy: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

MODES = ("off", "noop", "memory", "headers", "bucket")
CLIENTS = 10_000


def make_app(mode: str) -> Any:
    """The benchmark app, with the limiter of ``mode`` added app-wide."""
    from bench.apps.hasten_app import app
    from hasten.ratelimit import RateLimitMiddleware, SlidingWindow, TokenBucket

    if mode == "noop":
        app.add_middleware(_Noop)
    elif mode == "layer":
        app.add_middleware(_Layer)
    elif mode == "wrapper":
        app.add_middleware(_Wrapper)
    elif mode == "fixed":
        app.add_middleware(RateLimitMiddleware, policy=SlidingWindow(10**9, 60))
        app.add_middleware(_FixedHeaders)
    elif mode == "memory":
        app.add_middleware(RateLimitMiddleware, policy=SlidingWindow(10**9, 60))
    elif mode == "headers":
        app.add_middleware(RateLimitMiddleware, policy=SlidingWindow(10**9, 60), headers=True)
    elif mode == "bucket":
        app.add_middleware(RateLimitMiddleware, policy=TokenBucket(10**9, 0.001))
    elif mode != "off":
        raise SystemExit(f"unknown mode {mode}")
    return app


class _Noop:
    """A pure ASGI middleware that only passes the call on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class _Layer(_Noop):
    """``_Noop`` allowed around the core stack (as Hasten's middleware is): one layer."""

    hasten_outside_core = True


class _Wrapper(_Layer):
    """``_Layer`` that also wraps ``send`` to add a header (what a middleware did before
    ``hasten._observed``)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        def wrapped(message: Any) -> Any:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x", b"y")]
            return send(message)

        await self.app(scope, receive, wrapped)


class _FixedHeaders(_Layer):
    """A step of the core adding two fixed header lines as long as ``memory``'s: what carrying
    the ``RateLimit`` headers costs apart from counting (``fixed`` = ``memory`` + these)."""

    steppable = True
    leave = None
    headers = (
        (b"ratelimit", b'"default";r=999999999;t=60'),
        (b"ratelimit-policy", b'"default";q=1000000000;w=60'),
    )

    def enter(self, scope: Any, observed: Any) -> None:
        observed.add_headers(self.headers)


def _scope(client: int) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/plaintext",
        "raw_path": b"/plaintext",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"accept", b"*/*")],
        "client": (f"10.{client >> 16 & 255}.{client >> 8 & 255}.{client & 255}", 50000),
        "server": ("bench", 80),
    }


async def _run(app: Any, count: int, mode: str, timed: bool = True) -> float:
    seen: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.append(message)

    if timed:
        for n in range(CLIENTS):  # warm-up: every client key is in the table
            await app(_scope(n), receive, send)
    else:  # counted: a short warm-up, the table filled directly, start-up objects frozen
        for n in range(300):
            await app(_scope(n), receive, send)
        _fill_table(app)
        gc.collect()
        gc.freeze()
        start_counting()
    start = seen[-1]
    headers = dict(start["headers"])
    if start["status"] != 200 or (mode in ("headers", "fixed")) != (b"ratelimit" in headers):
        raise SystemExit(f"unexpected answer in mode {mode}: {start}")
    seen.clear()
    started = time.process_time()
    for i in range(count):
        await app(_scope(i % CLIENTS), receive, send)
        if len(seen) > 1000:
            seen.clear()
    rate = count / (time.process_time() - started) if timed else 0.0
    if any(message["status"] != 200 for message in seen):
        raise SystemExit("a request was refused: the limit must not be reached")
    return rate


def _fill_table(app: Any) -> None:
    """Count one request of every client in the app's limiter, as the timed warm-up does."""
    from hasten.ratelimit import RateLimitMiddleware

    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, RateLimitMiddleware):
        steps = [
            step for step in getattr(layer, "steps", ()) if isinstance(step, RateLimitMiddleware)
        ]
        layer = steps[0] if steps else getattr(layer, "app", None)
    if layer is not None:
        for n in range(300, CLIENTS):
            layer.limiter._store.hit(_scope(n)["client"][0], 1)


def _child(mode: str, count: int) -> None:
    rate = asyncio.run(_run(make_app(mode), count, mode))
    print(json.dumps({"mode": mode, "rps": rate}))


_START_C = """#include <valgrind/callgrind.h>
void start_instrumentation(void) { CALLGRIND_START_INSTRUMENTATION; }
"""
_START_ENV = "BENCH_CALLGRIND_START"


def _start_library() -> str | None:
    """A tiny shared library whose function starts callgrind's instrumentation (so start-up
    runs uninstrumented, several times faster); None without gcc or valgrind's headers."""
    import hashlib
    import shutil
    import tempfile

    if shutil.which("gcc") is None or not Path("/usr/include/valgrind/callgrind.h").exists():
        return None
    digest = hashlib.sha256(_START_C.encode()).hexdigest()[:12]
    lib = Path(tempfile.gettempdir()) / f"bench-callgrind-start-{digest}.so"
    if not lib.exists():
        source = lib.with_suffix(".c")
        source.write_text(_START_C)
        built = subprocess.run(
            ["gcc", "-shared", "-fPIC", "-O1", "-o", str(lib), str(source)], capture_output=True
        )
        if built.returncode != 0:
            return None
    return str(lib)


def start_counting() -> None:
    """Under ``callgrind_instructions``: start counting here (a no-op otherwise)."""
    lib = os.environ.get(_START_ENV)
    if lib:
        import ctypes

        ctypes.CDLL(lib).start_instrumentation()


def callgrind_instructions(command: list[str]) -> int:
    """Instructions ``command`` executes under ``valgrind --tool=callgrind`` (hash seed 0),
    from its call of `start_counting` on when gcc can build the helper, from its start if not."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    options = ["--tool=callgrind", "--callgrind-out-file=/dev/null"]
    lib = _start_library()
    if lib is not None:
        env[_START_ENV] = lib
        options.append("--instr-atstart=no")
    done = subprocess.run(
        ["valgrind", *options, *command], capture_output=True, text=True, env=env, cwd=root
    )
    match = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"callgrind failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return int(match.group(1))


def per_request_instructions(module: str, child: list[str], count: int) -> float:
    """Instructions per request: runs of ``count`` and ``2 * count`` requests, differenced."""
    base = [sys.executable, "-m", module, *child, "--requests"]
    once = callgrind_instructions([*base, str(count)])
    twice = callgrind_instructions([*base, str(2 * count)])
    return (twice - once) / count


def _instructions(modes: list[str], count: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def measure(mode: str) -> float:
        return per_request_instructions("bench.ratelimit_cost", ["--count-only", mode], count)

    with ThreadPoolExecutor(2) as pool:  # the counts do not depend on what runs beside them
        counts = dict(zip(modes, pool.map(measure, modes), strict=True))
    base = counts[modes[0]]
    print(
        f"\ninstructions per request (callgrind, {count} vs {2 * count} requests), GET /plaintext"
    )
    for mode in modes:
        extra = counts[mode] - base
        print(
            f"  {mode:8s} {counts[mode]:10,.0f}   +{extra:8,.0f} over {modes[0]}"
            f"   ({extra / base * 100:+.1f} %)"
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wire(mode: str, seconds: float) -> float:
    """Requests per CPU second of a uvicorn serving the app in ``mode``, under wrk."""
    port = _free_port()
    env = {**os.environ, "BENCH_RATELIMIT_MODE": mode}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.ratelimit_cost:served_app", "--factory",
         "--port", str(port), "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"uvicorn did not start for mode {mode}") from None
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/plaintext"
        subprocess.run(["wrk", "-t1", "-c32", "-d1s", url], capture_output=True, check=True)
        cpu = _cpu_seconds(server.pid)
        out = subprocess.run(
            ["wrk", "-t1", "-c32", f"-d{seconds:g}s", url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        if "Non-2xx" in out:
            raise SystemExit(f"non-2xx answers in mode {mode}:\n{out}")
        cpu = _cpu_seconds(server.pid) - cpu
        match = re.search(r"(\d+) requests in", out)
        if match is None:
            raise SystemExit(f"no request count in wrk's output:\n{out}")
        return int(match.group(1)) / cpu
    finally:
        server.terminate()
        server.wait(10)


def served_app() -> Any:
    """The app uvicorn serves in ``--wire`` runs (mode from ``BENCH_RATELIMIT_MODE``)."""
    return make_app(os.environ["BENCH_RATELIMIT_MODE"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, help="30000 (timed), 2000 (--instructions)")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--wire", action="store_true", help="uvicorn + wrk instead of in-process")
    parser.add_argument("--wire-seconds", type=float, default=5.0)
    parser.add_argument(
        "--instructions", action="store_true", help="callgrind instructions per request"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--count-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.requests is None:
        args.requests = 2000 if args.instructions else 30000
    if args.child:
        _child(args.child, args.requests)
        return
    modes = args.modes.split(",")
    if args.count_only:
        mode = args.count_only
        asyncio.run(_run(make_app(mode), args.requests, mode, timed=False))
        return
    if args.instructions:
        _instructions(modes, args.requests)
        return
    results: dict[str, list[float]] = {mode: [] for mode in modes}
    for round_no in range(args.rounds):
        for mode in modes:
            if args.wire:
                results[mode].append(_wire(mode, args.wire_seconds))
                continue
            out = subprocess.run(
                [sys.executable, "-m", "bench.ratelimit_cost", "--child", mode,
                 "--requests", str(args.requests)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results[mode].append(json.loads(out.stdout.strip().splitlines()[-1])["rps"])
        done = ", ".join(f"{m} {results[m][-1]:,.0f}" for m in modes)
        print(f"round {round_no + 1}/{args.rounds}: {done} req/s", flush=True)
    base = statistics.median(results[modes[0]])
    where = "uvicorn + wrk, requests per server CPU second" if args.wire else "in-process"
    print(f"\nmedian req/s over {args.rounds} rounds ({where}), GET /plaintext")
    for mode in modes:
        median = statistics.median(results[mode])
        spread = f"{min(results[mode]):,.0f}..{max(results[mode]):,.0f}"
        print(
            f"  {mode:8s} {median:10,.0f}   ratio to {modes[0]}: {median / base:.3f}   ({spread})"
        )


if __name__ == "__main__":
    main()
