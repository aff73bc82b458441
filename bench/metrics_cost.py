"""What hasten.metrics.PrometheusMiddleware costs on the plaintext endpoint.

    .venv/bin/python -m bench.metrics_cost [--rounds 5] [--seconds 3] [--kinds wire,inprocess]
    .venv/bin/python -m bench.metrics_cost --instructions [--requests 2000]

The app is the benchmark's Hasten app (bench/apps/hasten_app.py), served as it is (``off``),
with a pure ASGI middleware that does nothing (``noop``: what any middleware layer costs) or
with ``app.add_middleware(PrometheusMiddleware)`` (``on``: a counter, a histogram and the
in-progress gauge per request, prometheus-client's default registry, single-process mode).

- ``wire``: a fresh uvicorn process per run (1 worker, uvloop, httptools, no access log)
  pinned to one core, wrk (``-t1 -c64``) pinned to the other, ``GET /plaintext`` for
  ``--seconds``, after a warm-up that checks the status (and, with the middleware, that the
  request was counted).
- ``inprocess``: a fresh interpreter per run awaiting the app's ASGI callable directly
  (bench/inprocess.py's loop: no server, no sockets), the harshest view of the cost.

Modes alternate within each round (the order flips every round). Reported per kind and mode:
the median req/s and the median CPU time per request of the serving process (``/proc`` for
the server, ``process_time`` in-process), with the overhead of ``on`` over ``off``. On a shared,
busy machine req/s swings with the neighbours; CPU time per request much less: quote that.

``--instructions``: a deterministic count instead. Each mode runs in-process under
``valgrind --tool=callgrind`` (``PYTHONHASHSEED=0``) with ``--requests`` and with twice as
many requests after the warm-up (start-up objects frozen out of the collector, counting started
after the warm-up: bench/ratelimit_cost.py's helpers); the difference divided by
``--requests`` is what one request costs, reported with its difference to ``off``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._proc import ROOT, child_env, pinned

MODES = ("off", "noop", "on")
KINDS = ("wire", "inprocess")
_ENV = "BENCH_METRICS"


class _Noop:
    """A pure ASGI middleware that does nothing: what any middleware layer costs."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def build_app(mode: str) -> Any:
    """The benchmark's Hasten app as it is (``off``), with a do-nothing middleware (``noop``)
    or with the Prometheus middleware (``on``)."""
    from bench.apps.hasten_app import app

    if mode == "on":
        from hasten.metrics import PrometheusMiddleware

        app.add_middleware(PrometheusMiddleware)
    elif mode == "noop":
        app.add_middleware(_Noop)
    return app


_BUILT: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    """``bench.metrics_cost:app`` for uvicorn: the app of the mode in ``$BENCH_METRICS``.

    Built once: uvicorn's command line asks for the attribute more than once, and each build
    adds the middleware to the same app object again (every request was counted twice).
    """
    if name == "app":
        mode = os.environ.get(_ENV, "off")
        if mode not in _BUILT:
            _BUILT[mode] = build_app(mode)
        return _BUILT[mode]
    raise AttributeError(name)


def _counted() -> float:
    from prometheus_client import REGISTRY

    labels = {"method": "GET", "route": "/plaintext", "status": "200"}
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0


async def _inprocess(mode: str, seconds: float) -> dict[str, float]:
    from bench._asgi import Lifespan, make_receive
    from bench._spec import BENCH_REQUESTS
    from bench.inprocess import BATCH, _noop_send, _warm

    app = build_app(mode)
    lifespan = Lifespan(app)
    await lifespan.start()
    req = BENCH_REQUESTS["plaintext"]
    await _warm(app, req, 200)
    if (mode == "on") != (_counted() > 0):
        raise SystemExit(f"mode {mode}: {_counted()} requests counted")
    scope, receive = req.scope(), make_receive(req.body)
    count = 0
    cpu, wall = time.process_time(), time.perf_counter()
    deadline = wall + seconds
    while time.perf_counter() < deadline:
        for _ in range(BATCH):
            await app(dict(scope), receive, _noop_send)
        count += BATCH
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await lifespan.stop()
    return {"rps": count / wall, "cpu_us": cpu / count * 1e6}


async def _counted_run(mode: str, count: int) -> None:
    """``count`` requests after the warm-up, counted by callgrind (see ``--instructions``)."""
    import gc

    from bench._asgi import Lifespan, make_receive
    from bench._spec import BENCH_REQUESTS
    from bench.inprocess import _noop_send, _warm
    from bench.ratelimit_cost import start_counting

    app = build_app(mode)
    lifespan = Lifespan(app)
    await lifespan.start()
    req = BENCH_REQUESTS["plaintext"]
    await _warm(app, req, 200)
    scope, receive = req.scope(), make_receive(req.body)
    gc.collect()
    gc.freeze()
    start_counting()
    for _ in range(count):
        await app(dict(scope), receive, _noop_send)
    await lifespan.stop()


def _instructions(count: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from bench.ratelimit_cost import per_request_instructions

    def measure(mode: str) -> float:
        return per_request_instructions("bench.metrics_cost", ["--count-only", mode], count)

    with ThreadPoolExecutor(2) as pool:  # the counts do not depend on what runs beside them
        counts = dict(zip(MODES, pool.map(measure, MODES), strict=True))
    base = counts["off"]
    print(f"instructions per request (callgrind, {count} vs {2 * count} requests), GET /plaintext")
    for mode in MODES:
        extra = counts[mode] - base
        print(
            f"  {mode:4s} {counts[mode]:10,.0f}   +{extra:8,.0f} over off   ({extra / base * 100:+.1f} %)"
        )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wire(mode: str, seconds: float, tmp: Path) -> dict[str, float]:
    from bench._spec import BENCH_REQUESTS
    from bench.wire import _free_port, _request, run_wrk, server_command

    cores = os.cpu_count() or 1
    server_cpu, wrk_cpu = (0, 1) if cores > 1 else (None, None)
    port = _free_port()
    command = pinned(server_command("uvicorn", "bench.metrics_cost", port), server_cpu)
    env = {**child_env(), _ENV: mode}
    log = tmp / f"server-{mode}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    req = BENCH_REQUESTS["plaintext"]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status = _request(port, req)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text(errors="replace")) from None
                time.sleep(0.1)
        for _ in range(200):  # warm-up
            status = _request(port, req)
        if status != 200:
            raise RuntimeError(f"status {status}")
        cpu = _cpu_seconds(proc.pid)
        result = run_wrk(port, req, seconds, wrk_cpu, tmp)
        cpu = _cpu_seconds(proc.pid) - cpu
        # wrk's errors (timeouts of a starved server on a busy machine) are reported, not fatal.
        return {
            "rps": float(result["rps"]),
            "cpu_us": cpu / result["requests"] * 1e6,
            "errors": result["errors"],
        }
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _child(kind: str, mode: str, seconds: float) -> None:
    if kind == "inprocess":
        result = asyncio.run(_inprocess(mode, seconds))
    else:
        with tempfile.TemporaryDirectory(prefix="hasten-metrics-cost-") as name:
            result = _wire(mode, seconds, Path(name))
    print(json.dumps({"kind": kind, "mode": mode, **result}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument(
        "--instructions", action="store_true", help="callgrind instructions per request"
    )
    parser.add_argument("--requests", type=int, default=2000, help="with --instructions")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--count-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_only:
        asyncio.run(_counted_run(args.count_only, args.requests))
        return
    if args.instructions:
        _instructions(args.requests)
        return
    if args.child:
        _child(args.child[0], args.child[1], args.seconds)
        return
    kinds = [k for k in args.kinds.split(",") if k]
    runs: dict[tuple[str, str], list[dict[str, float]]] = {(k, m): [] for k in kinds for m in MODES}
    for round_no in range(args.rounds):
        order = MODES if round_no % 2 == 0 else MODES[::-1]  # interleaved, order flipped
        for kind in kinds:
            for mode in order:
                command = [sys.executable, "-m", "bench.metrics_cost", "--child", kind, mode]
                command += ["--seconds", str(args.seconds)]
                if kind == "inprocess" and (os.cpu_count() or 1) > 1:
                    command = pinned(command, 0)
                out = subprocess.run(
                    command, cwd=ROOT, env=child_env(), capture_output=True, text=True
                )
                if out.returncode != 0:
                    raise SystemExit(f"{' '.join(command)} failed:\n{out.stdout}\n{out.stderr}")
                runs[(kind, mode)].append(json.loads(out.stdout.strip().splitlines()[-1]))
            shown = ", ".join(
                f"{m} {runs[(kind, m)][-1]['rps']:,.0f} req/s {runs[(kind, m)][-1]['cpu_us']:.1f} us"
                + (
                    f" ({int(runs[(kind, m)][-1]['errors'])} wrk errors)"
                    if runs[(kind, m)][-1].get("errors")
                    else ""
                )
                for m in MODES
            )
            print(f"round {round_no + 1}/{args.rounds} {kind}: {shown}", flush=True)
    print(f"\nGET /plaintext, medians over {args.rounds} rounds ({args.seconds:g} s each)")
    print("  (cpu: CPU time of the serving process per request, robust to a busy machine)")
    for kind in kinds:
        med = {m: {k: statistics.median(r[k] for r in runs[(kind, m)]) for k in ("rps", "cpu_us")}
               for m in MODES}  # fmt: skip
        for mode in MODES:
            rps, cpu = med[mode]["rps"], med[mode]["cpu_us"]
            print(
                f"  {kind:9s} {mode:4s} {rps:9,.0f} req/s (ratio to off {rps / med['off']['rps']:.3f})"
                f"  cpu/request {cpu:6.1f} us (overhead {(cpu / med['off']['cpu_us'] - 1) * 100:+5.1f} %)"
            )


if __name__ == "__main__":
    main()
