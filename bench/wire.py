"""Section B: over the wire. One server process per framework, wrk on 127.0.0.1.

Each server (uvicorn: 1 worker, uvloop, httptools, no access log; Granian when installed: 1
worker, 1 runtime thread, uvloop) runs pinned to one core and wrk (``-t1 -c64``) to the other.
Repetitions restart the servers, frameworks interleaved; medians are reported. Servers are
stopped through their own process id (SIGINT, then SIGKILL of their process group, which was
created for them). Every endpoint is first checked over HTTP for its expected status, and wrk
counts error statuses and socket errors, which the report shows.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._asgi import Req
from bench._proc import ROOT, child_env, pinned
from bench._spec import BENCH_REQUESTS, CASES, FRAMEWORKS

CONNECTIONS = 64

_LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nBENCH {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,'
    .. '"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def _lua_script(req: Req) -> str:
    lines = [f"wrk.method = {_lua_string(req.method)}"]
    if req.body:
        lines.append(f"wrk.body = {_lua_string(req.body.decode())}")
    for name, value in req.headers:
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    return "\n".join(lines) + "\n" + _LUA_DONE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _granian() -> str | None:
    candidate = Path(sys.executable).parent / "granian"
    return str(candidate) if candidate.exists() else shutil.which("granian")


def server_command(server: str, module: str, port: int) -> list[str]:
    """The command line that serves ``module:app`` on 127.0.0.1:port."""
    target = f"{module}:app"
    if server == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
    granian = _granian()
    assert granian is not None
    return [
        granian, "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--runtime-threads", "1", "--loop", "uvloop", "--no-ws",
        "--log-level", "warning", target,
    ]  # fmt: skip


SERVERS = {
    "uvicorn": "1 worker, uvloop, httptools, no access log",
    "granian": "1 worker, 1 runtime thread, uvloop, ASGI interface",
}


def _request(port: int, req: Req) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(req.method, req.target, body=req.body or None, headers=dict(req.headers))
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


class Server:
    """A server process serving one framework's app, pinned to a core."""

    def __init__(self, server: str, framework: str, cpu: int | None, log: Path) -> None:
        self.port = _free_port()
        self.log = log
        cmd = pinned(server_command(server, FRAMEWORKS[framework].module, self.port), cpu)
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=child_env(), stdout=out, stderr=out, start_new_session=True
            )

    def wait_ready(self, probe: Req, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self._log_tail()}")
            try:
                _request(self.port, probe)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout} s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group created for this server
                self.proc.wait(timeout=10)
        try:  # workers of a multi-process server (Granian) share the group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_wrk(port: int, req: Req, seconds: float, cpu: int | None, tmp: Path) -> dict[str, Any]:
    """One wrk run against ``req``: requests/second, p50/p99 latency, error counts."""
    script = tmp / "request.lua"
    script.write_text(_lua_script(req))
    duration = f"{max(1, round(seconds))}s"
    cmd = pinned(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}", "-s", str(script),
         f"http://127.0.0.1:{port}{req.target}"],
        cpu,
    )  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    raw = json.loads(line[len("BENCH ") :])
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "requests": raw["requests"],
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["status_errors"] + raw["socket_errors"],
    }


def _check_endpoint(port: int, endpoint: str) -> None:
    for _ in range(50):  # also a warm-up
        status = _request(port, BENCH_REQUESTS[endpoint])
        if status != CASES[endpoint][0].status:
            raise RuntimeError(f"{endpoint}: status {status} over HTTP")


def _one_server(args: argparse.Namespace, server: str, tmp: Path) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    wrk_cpu = (args.cpu + 1) % cores if cores > 1 else None
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {fw: {} for fw in args.frameworks}
    for rep in range(args.wire_reps):
        shift = rep % len(args.frameworks)
        for fw in args.frameworks[shift:] + args.frameworks[:shift]:
            endpoints = [e for e in args.endpoints if e in FRAMEWORKS[fw].endpoints]
            if not endpoints:
                continue
            proc = Server(server, fw, args.cpu, tmp / f"{server}-{fw}.log")
            try:
                proc.wait_ready(BENCH_REQUESTS[endpoints[0]])
                shown = []
                for endpoint in endpoints:
                    _check_endpoint(proc.port, endpoint)
                    result = run_wrk(
                        proc.port, BENCH_REQUESTS[endpoint], args.wire_seconds, wrk_cpu, tmp
                    )
                    runs[fw].setdefault(endpoint, []).append(result)
                    shown.append(f"{endpoint}={round(result['rps'])}")
            finally:
                proc.stop()
            print(f"  B {server} rep {rep + 1}/{args.wire_reps} {fw:18} {' '.join(shown)}",
                  flush=True)  # fmt: skip
    return {
        "description": SERVERS[server],
        "runs": runs,
        "median": {fw: {e: _median_run(r) for e, r in eps.items()} for fw, eps in runs.items()},
    }


def _median_run(results: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(results, key=lambda r: r["rps"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["rps"] = statistics.median(r["rps"] for r in results)
    middle["errors"] = sum(r["errors"] for r in results)
    return middle


def section_b(args: argparse.Namespace) -> dict[str, Any]:
    """Requests/second over HTTP per server, framework and endpoint."""
    cores = os.cpu_count() or 1
    data: dict[str, Any] = {
        "settings": {
            "reps": args.wire_reps,
            "seconds": max(1, round(args.wire_seconds)),
            "connections": CONNECTIONS,
            "server_cpu": args.cpu,
            "wrk_cpu": (args.cpu + 1) % cores if cores > 1 else None,
        },
        "frameworks": args.frameworks,
        "endpoints": args.endpoints,
        "servers": {},
    }
    wanted = [s.strip() for s in args.servers.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="hasten-bench-") as name:
        tmp = Path(name)
        for server in wanted:
            if server not in SERVERS:
                raise SystemExit(f"unknown server {server!r} (known: {', '.join(SERVERS)})")
            if shutil.which("wrk") is None:
                skipped = "wrk is not installed (apt-get install wrk)"
            elif server == "granian" and _granian() is None:
                skipped = "Granian is not installed (it is optional)"
            else:
                skipped = None
            if skipped:
                print(f"  B {server}: skipped, {skipped}", flush=True)
                data["servers"][server] = {"description": SERVERS[server], "skipped": skipped}
                continue
            data["servers"][server] = _one_server(args, server, tmp)
    return data
