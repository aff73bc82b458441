"""The soak behind ``./scripts/soak``: a real ``hasten run`` server under load, then SIGTERM.

1. Serve the bench app (``bench/apps/hasten_app.py``) with ``hasten run`` (its default
   timeouts and limits) on 127.0.0.1 and a free port.
2. Load it for ``--seconds`` (default 60) over the bench endpoints in turn: with ``wrk`` when
   it is installed (``--latency``, a Lua script rotating the requests), else with the small
   asyncio client below (keep-alive connections, one request at a time each).
3. Sample the server's RSS every second; print requests, errors, p50/p99 latency and RSS at
   the start (after a 10 % warm-up), the middle and the end.
4. Graceful shutdown: clients keep sending; SIGTERM; every request written before the signal
   must be answered in full (none lost), and the server must exit by itself.

Exit status 1 when there were errors, RSS grew by more than ``--rss-bound`` MiB after the
warm-up, or a request was lost at shutdown.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._spec import BENCH_REQUESTS  # noqa: E402

APP = "bench.apps.hasten_app:app"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def start_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "hasten", "run", APP, "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server did not start:\n{log.read_text()}")


def request_bytes(name: str, keep_alive: bool = True) -> bytes:
    req = BENCH_REQUESTS[name]
    headers = [("Host", "soak"), *req.headers]
    if req.body:
        headers.append(("Content-Length", str(len(req.body))))
    if not keep_alive:
        headers.append(("Connection", "close"))
    head = f"{req.method} {req.target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode() + b"\r\n" + req.body


# -- wrk ---------------------------------------------------------------------------------------


def _lua() -> str:
    entries = []
    for req in BENCH_REQUESTS.values():
        headers = ", ".join(f'["{k}"] = "{v}"' for k, v in req.headers)
        if req.body:
            headers = (headers + ", " if headers else "") + '["Content-Type"] = "application/json"'
        body = req.body.decode().replace("\\", "\\\\").replace('"', '\\"')
        entries.append(f'wrk.format("{req.method}", "{req.target}", {{{headers}}}, "{body}")')
    return (
        "local requests = {" + ", ".join(entries) + "}\n"
        "local i = 0\n"
        "request = function()\n  i = i % #requests + 1\n  return requests[i]\nend\n"
    )


def run_wrk(port: int, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua())
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True
    ).stdout
    os.unlink(script.name)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return {
        "requests": total,
        "errors": errors,
        "p50_ms": _ms(re.search(r"50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
    }


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


# -- the asyncio client ------------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    match = re.search(rb"(?i)content-length: *(\d+)", head)
    if match:
        await reader.readexactly(int(match.group(1)))
    return status


class Load:
    """Keep-alive clients sending the bench requests in turn until ``stop`` is set."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = asyncio.Event()
        self.latencies: list[float] = []
        self.errors = 0
        self.written_before_signal = 0
        self.answered_before_signal = 0
        self.lost: list[str] = []
        self.signal_at: float | None = None
        self.requests = [request_bytes(name) for name in BENCH_REQUESTS]

    async def client(self, offset: int) -> None:
        n = offset
        while not self.stop.is_set():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if self.signal_at is None:
                    self.errors += 1
                return  # after SIGTERM: the server no longer accepts, as it should
            try:
                while not self.stop.is_set():
                    n += 1
                    data = self.requests[n % len(self.requests)]
                    started = time.perf_counter()
                    writer.write(data)
                    await writer.drain()
                    before_signal = self.signal_at is None
                    self.written_before_signal += before_signal
                    try:
                        status = await _read_response(reader)
                    except (asyncio.IncompleteReadError, ConnectionError):
                        if before_signal and self.signal_at is not None:
                            self.lost.append(f"request {n} written before SIGTERM, no answer")
                        elif self.signal_at is None:
                            self.errors += 1
                        break
                    self.answered_before_signal += before_signal
                    self.latencies.append(time.perf_counter() - started)
                    if status >= 400:
                        self.errors += 1
            finally:
                writer.close()


async def run_clients(load: Load, connections: int, seconds: float) -> None:
    tasks = [asyncio.create_task(load.client(i)) for i in range(connections)]
    await asyncio.sleep(seconds)
    load.stop.set()
    await asyncio.gather(*tasks)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


# -- main --------------------------------------------------------------------------------------


def sample_rss(pid: int, samples: list[tuple[float, int]], stop: threading.Event) -> None:
    start = time.monotonic()
    while not stop.wait(1.0):
        try:
            samples.append((time.monotonic() - start, rss_of(pid)))
        except OSError:
            return


async def shutdown_check(process: subprocess.Popen[bytes], port: int) -> Load:
    load = Load(port)
    tasks = [asyncio.create_task(load.client(i)) for i in range(16)]
    await asyncio.sleep(2)
    load.signal_at = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.5)
    load.stop.set()
    await asyncio.gather(*tasks)
    return load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rss-bound", type=float, default=32.0, help="MiB after warm-up")
    parser.add_argument("--no-wrk", action="store_true", help="use the asyncio client")
    args = parser.parse_args()

    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="hasten-soak-")) / "server.log"
    process = start_server(port, log)
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(process.pid, samples, stop), daemon=True)
    sampler.start()
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    print(
        f"==> soak: {APP} on 127.0.0.1:{port}, {args.seconds} s, {args.connections} connections,"
        f" load by {'wrk' if use_wrk else 'the asyncio client'}; server log {log}"
    )
    if use_wrk:
        result = run_wrk(port, args.seconds, args.connections)
    else:
        load = Load(port)
        asyncio.run(run_clients(load, args.connections, args.seconds))
        result = {
            "requests": len(load.latencies),
            "errors": load.errors,
            "p50_ms": percentile(load.latencies, 0.50),
            "p99_ms": percentile(load.latencies, 0.99),
        }
    stop.set()
    sampler.join()
    warm = [rss for t, rss in samples if t >= args.seconds * 0.1] or [rss for _, rss in samples]
    start, middle, end = warm[0], warm[len(warm) // 2], warm[-1]
    mib = 1024 * 1024
    print(
        f"requests {result['requests']}  errors {result['errors']}  "
        f"rate {result['requests'] / args.seconds:.0f}/s  "
        f"p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms"
    )
    print(
        f"RSS start {start / mib:.1f} MiB  middle {middle / mib:.1f} MiB  end {end / mib:.1f} MiB"
    )

    shutdown = asyncio.run(shutdown_check(process, port))
    try:
        code = process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        code = None
    print(
        f"graceful shutdown: {shutdown.written_before_signal} requests written before SIGTERM,"
        f" {shutdown.answered_before_signal} answered, {len(shutdown.lost)} lost;"
        f" server exited with {code}"
    )
    for line in shutdown.lost[:10]:
        print("   ", line)
    log_text = log.read_text(errors="replace")
    tracebacks = log_text.count("Traceback")
    print(f"server log: {tracebacks} tracebacks")
    failed = (
        result["errors"] > 0
        or end - start > args.rss_bound * mib
        or shutdown.lost
        or code is None
        or tracebacks
    )
    print("==> soak " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
