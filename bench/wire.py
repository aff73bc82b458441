"""Section B: over the wire. One server process per framework, wrk on 127.0.0.1.

Server variants (``VARIANTS``, picked with ``--servers``): uvicorn (1 worker, uvloop,
httptools, no access log) and Granian's ASGI interface (1 worker, 1 runtime thread, uvloop)
serve every framework; Granian's RSGI interface serves Hasten (when its app has ``__rsgi__``)
and a bare RSGI app (the server's ceiling); uvicorn with 2 workers serves Hasten and FastAPI.
A 1-worker server runs pinned to one core and wrk (``-t1 -c64``) to the other; the 2-worker
server and wrk share both cores, unpinned (reported, not judged). Each repetition starts every
server anew and measures endpoint by endpoint, every server and framework in turn within one
endpoint (``_interleaved``), so that the figures a ratio compares are seconds apart; a server
waiting for its turn is stopped (SIGSTOP) and runs nothing on the measured core; medians of
the repetitions are reported. Servers are
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._asgi import Req
from bench._proc import ROOT, child_env, pinned
from bench._spec import BENCH_REQUESTS, CASES, FRAMEWORKS, WIRE_APPS, Framework

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


@dataclass(frozen=True)
class Variant:
    """One way of serving the apps: a server, its interface and its worker count."""

    key: str
    server: str  # "uvicorn" or "granian"
    interface: str  # "asgi" or "rsgi"
    workers: int
    description: str
    #: the frameworks it serves (None: every selected ASGI framework)
    frameworks: tuple[str, ...] | None = None


VARIANTS: dict[str, Variant] = {
    v.key: v
    for v in (
        Variant("uvicorn", "uvicorn", "asgi", 1, "1 worker, uvloop, httptools, no access log"),
        Variant("granian", "granian", "asgi", 1, "1 worker, 1 runtime thread, uvloop, ASGI"),
        Variant(
            "granian-rsgi",
            "granian",
            "rsgi",
            1,
            "1 worker, 1 runtime thread, uvloop, RSGI (Granian's native interface)",
            ("hasten", "raw-rsgi"),
        ),
        Variant(
            "uvicorn-2w",
            "uvicorn",
            "asgi",
            2,
            "2 workers, uvloop, httptools; server and wrk share both cores (not pinned)",
            ("hasten", "fastapi"),
        ),
    )
}


def server_command(variant: Variant | str, module: str, port: int) -> list[str]:
    """The command line that serves ``module:app`` on 127.0.0.1:port as ``variant`` says."""
    if isinstance(variant, str):
        variant = VARIANTS[variant]
    target = f"{module}:app"
    workers = str(variant.workers)
    if variant.server == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
            "--workers", workers, "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
    granian = _granian()
    assert granian is not None
    return [
        granian, "--interface", variant.interface, "--host", "127.0.0.1", "--port", str(port),
        "--workers", workers, "--runtime-threads", "1", "--loop", "uvloop", "--no-ws",
        "--log-level", "warning", target,
    ]  # fmt: skip


def _app_spec(key: str) -> Framework:
    return WIRE_APPS[key] if key in WIRE_APPS else FRAMEWORKS[key]


def _has_rsgi(key: str) -> bool:
    """Whether the app of ``key`` speaks RSGI (has ``__rsgi__``), asked in a fresh process."""
    code = (
        "import importlib, sys; "
        f"app = importlib.import_module({_app_spec(key).module!r}).app; "
        "sys.exit(0 if hasattr(app, '__rsgi__') else 3)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child_env(), capture_output=True, timeout=120
    )
    if done.returncode not in (0, 3):
        raise RuntimeError(f"importing {key}'s app failed:\n{done.stderr.decode()[-2000:]}")
    return done.returncode == 0


def _variant_frameworks(variant: Variant, selected: list[str]) -> tuple[list[str], list[str]]:
    """The frameworks ``variant`` serves in this run, and notes on those it skips."""
    if variant.frameworks is None:
        return list(selected), []
    wanted = [
        key
        for key in variant.frameworks
        if key in selected or (key == "raw-rsgi" and "raw" in selected)
    ]
    if variant.interface != "rsgi":
        return wanted, []
    served, notes = [], []
    for key in wanted:
        if _has_rsgi(key):
            served.append(key)
        else:
            notes.append(f"{_app_spec(key).label}: its app has no `__rsgi__` (not served)")
    return served, notes


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

    def __init__(self, variant: Variant, framework: str, cpu: int | None, log: Path) -> None:
        self.port = _free_port()
        self.framework = framework
        self.log = log
        cmd = pinned(server_command(variant, _app_spec(framework).module, self.port), cpu)
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=child_env(), stdout=out, stderr=out, start_new_session=True
            )

    def wait_ready(self, probe: Req, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                _request(self.port, probe)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def pause(self, paused: bool) -> None:
        """Stop (SIGSTOP) or continue (SIGCONT) the server's process group: a server waiting
        for its turn then runs nothing at all (uvicorn's loop ticks ten times a second), on the
        core the measured server has."""
        try:
            os.killpg(self.proc.pid, signal.SIGSTOP if paused else signal.SIGCONT)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        self.pause(False)  # a stopped process would not see the SIGINT
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


def _check_endpoint(port: int, endpoint: str, retries: int = 10) -> None:
    """50 requests of ``endpoint`` (also a warm-up), each answered with the expected status.

    A refused, reset or timed-out connection is tried again, up to ``retries`` times:
    uvicorn's multi-worker supervisor may replace a worker that did not answer its health
    check while the server was paused (seen once in a complete run, ``deps`` on
    ``uvicorn-2w``), and a server just continued (SIGCONT) once left a request unanswered
    for 5 s (``plaintext`` on ``granian``, in a complete run on 189afff)."""
    done = 0
    while done < 50:
        try:
            status = _request(port, BENCH_REQUESTS[endpoint])
        except (ConnectionError, TimeoutError):
            if retries == 0:
                raise
            retries -= 1
            time.sleep(0.5)
            continue
        if status != CASES[endpoint][0].status:
            raise RuntimeError(f"{endpoint}: status {status} over HTTP")
        done += 1


def _cpus(variant: Variant, args: argparse.Namespace) -> tuple[int | None, int | None]:
    """The cores of ``variant``'s server and of wrk (None: not pinned)."""
    cores = os.cpu_count() or 1
    if variant.workers > 1:  # several workers: they and wrk share every core, none pinned
        return None, None
    return args.cpu, (args.cpu + 1) % cores if cores > 1 else None


def _start_servers(
    args: argparse.Namespace, plans: list[tuple[Variant, list[str]]], tmp: Path
) -> dict[tuple[str, str], Server]:
    """Every server of ``plans`` (variant key, framework -> server), started at once and
    returned ready, each then stopped (SIGSTOP) until its turn."""
    servers: dict[tuple[str, str], Server] = {}
    try:
        for variant, frameworks in plans:
            for fw in frameworks:
                if any(e in _app_spec(fw).endpoints for e in args.endpoints):
                    log = tmp / f"{variant.key}-{fw}.log"
                    servers[variant.key, fw] = Server(variant, fw, _cpus(variant, args)[0], log)
        for (_, fw), server in servers.items():
            first = next(e for e in args.endpoints if e in _app_spec(fw).endpoints)
            server.wait_ready(BENCH_REQUESTS[first])
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    time.sleep(1.0)  # the last servers' start-up work settles before the first wrk
    for server in servers.values():  # each runs only while it is measured
        server.pause(True)
    return servers


def _measure(
    args: argparse.Namespace, variant: Variant, server: Server, endpoint: str, tmp: Path
) -> dict[str, Any]:
    """One wrk run of ``endpoint`` against ``server``, continued for it and stopped after."""
    server.pause(False)
    try:
        try:
            _check_endpoint(server.port, endpoint)
        except (OSError, RuntimeError) as exc:
            raise RuntimeError(
                f"{variant.key} {server.framework}: {endpoint} not answered ({exc!r}); "
                f"its log ends:\n{server.log_tail()}"
            ) from exc
        return run_wrk(
            server.port, BENCH_REQUESTS[endpoint], args.wire_seconds, _cpus(variant, args)[1], tmp
        )
    finally:
        server.pause(True)


def _interleaved(
    args: argparse.Namespace, plans: list[tuple[Variant, list[str]]], tmp: Path
) -> dict[str, dict[str, dict[str, list[dict[str, Any]]]]]:
    """wrk runs of every (server, framework, endpoint) of ``plans``: variant key -> framework
    -> endpoint -> one result per repetition.

    Each repetition starts every server of every variant at once, stopped (SIGSTOP) but for
    its turns, then measures endpoint by endpoint, and within an endpoint every variant and
    framework in turn (the frameworks' order shifted by one each repetition). So any two
    figures a ratio compares, FastAPI on uvicorn against Hasten on Granian as well, were
    measured within seconds of each other, not one server's whole section apart: the
    machine's drift falls on both.
    """
    runs: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = {
        variant.key: {fw: {} for fw in frameworks} for variant, frameworks in plans
    }
    for rep in range(args.wire_reps):
        servers = _start_servers(args, plans, tmp)
        try:
            for endpoint in args.endpoints:
                for variant, frameworks in plans:
                    shift = rep % len(frameworks)
                    shown = []
                    for fw in frameworks[shift:] + frameworks[:shift]:
                        server = servers.get((variant.key, fw))
                        if server is None or endpoint not in _app_spec(fw).endpoints:
                            continue
                        result = _measure(args, variant, server, endpoint, tmp)
                        runs[variant.key][fw].setdefault(endpoint, []).append(result)
                        shown.append(f"{fw}={round(result['rps'])}")
                    if shown:
                        print(f"  B rep {rep + 1}/{args.wire_reps} {endpoint:10} {variant.key:12} "
                              f"{' '.join(shown)}", flush=True)  # fmt: skip
        finally:
            for server in servers.values():
                server.stop()
    return runs


def _server_data(
    variant: Variant, frameworks: list[str], runs: dict[str, dict[str, list[dict[str, Any]]]]
) -> dict[str, Any]:
    return {
        "description": variant.description,
        "server": variant.server,
        "interface": variant.interface,
        "workers": variant.workers,
        "pinned": variant.workers == 1,
        "frameworks": frameworks,
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
    plans: list[tuple[Variant, list[str]]] = []
    notes_of: dict[str, list[str]] = {}
    for key in wanted:
        if key not in VARIANTS:
            raise SystemExit(f"unknown server {key!r} (known: {', '.join(VARIANTS)})")
        variant = VARIANTS[key]
        frameworks: list[str] = []
        notes: list[str] = []
        skipped: str | None
        if shutil.which("wrk") is None:
            skipped = "wrk is not installed (apt-get install wrk)"
        elif variant.server == "granian" and _granian() is None:
            skipped = "Granian is not installed (it is optional)"
        else:
            frameworks, notes = _variant_frameworks(variant, args.frameworks)
            skipped = None if frameworks else "none of the selected frameworks"
        for note in notes:
            print(f"  B {key}: skipped {note}", flush=True)
        if skipped:
            print(f"  B {key}: skipped, {skipped}", flush=True)
            data["servers"][key] = {
                "description": variant.description,
                "skipped": skipped,
                "notes": notes,
            }
            continue
        plans.append((variant, frameworks))
        notes_of[key] = notes
    with tempfile.TemporaryDirectory(prefix="hasten-bench-") as name:
        runs = _interleaved(args, plans, Path(name))
    for variant, frameworks in plans:
        data["servers"][variant.key] = _server_data(variant, frameworks, runs[variant.key])
        data["servers"][variant.key]["notes"] = notes_of[variant.key]
    return data
