"""Requests/second with Sentry installed, Hasten vs FastAPI (in-process, issue 13).

    .bench-venv/bin/python -m bench.sentry_cost [--rounds 3] [--seconds 1.0]

Each (framework, mode, round) runs in a fresh interpreter pinned to nothing in particular:
``sentry_sdk.init`` first (as applications do, before the app is imported; an in-memory
transport, nothing leaves the process), then the benchmark app (bench/apps), lifespan, a
warm-up that checks the status, and ``--seconds`` of sequential ASGI calls per endpoint.
Frameworks and modes are interleaved round by round; medians are reported.

Modes:
  off       no Sentry
  errors    sentry_sdk.init() with its default (auto-enabling) integrations, no tracing
  tracing   the same with traces_sample_rate=1.0 (a transaction per request)

Run it in the benchmark venv (.bench-venv: FastAPI and Hasten side by side); sentry-sdk is
in bench/requirements.txt. Compare ratios, not absolutes: this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
from typing import Any

MODES = ("off", "errors", "tracing")
FRAMEWORKS = ("hasten", "fastapi")
ENDPOINTS = ("json", "path-query", "deps")


def _init_sentry(mode: str) -> None:
    if mode == "off":
        return
    import sentry_sdk
    from sentry_sdk.transport import Transport

    class Discard(Transport):
        def capture_envelope(self, envelope: Any) -> None:
            return None

    sentry_sdk.init(
        dsn="http://public@localhost/1",
        transport=Discard,
        traces_sample_rate=1.0 if mode == "tracing" else None,
    )


async def _measure(framework: str, mode: str, seconds: float) -> dict[str, float]:
    from bench._asgi import Lifespan, load_app
    from bench._spec import BENCH_REQUESTS, CASES
    from bench._spec import FRAMEWORKS as SPECS
    from bench.inprocess import _time, _warm

    app = load_app(SPECS[framework].module)
    lifespan = Lifespan(app)
    await lifespan.start()
    results: dict[str, float] = {}
    for endpoint in ENDPOINTS:
        req = BENCH_REQUESTS[endpoint]
        await _warm(app, req, CASES[endpoint][0].status)
        results[endpoint] = (await _time(app, req, seconds))["rps"]
    await lifespan.stop()
    return results


def _child(framework: str, mode: str, seconds: float) -> None:
    _init_sentry(mode)  # before the app (and FastAPI/Hasten) is imported, as apps do
    print(json.dumps(asyncio.run(_measure(framework, mode, seconds))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "MODE"))
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.seconds)
        return
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(args.rounds):
        for mode in MODES:
            for framework in FRAMEWORKS:
                command = [sys.executable, "-m", "bench.sentry_cost", "--child", framework, mode]
                command += ["--seconds", str(args.seconds)]
                out = subprocess.run(command, capture_output=True, text=True, check=True)
                runs.setdefault((framework, mode), []).append(json.loads(out.stdout))
    print(f"{'endpoint':<12}{'mode':<9}" + "".join(f"{f:>12}" for f in FRAMEWORKS) + "   ratio")
    for endpoint in ENDPOINTS:
        for mode in MODES:
            rps = [statistics.median(r[endpoint] for r in runs[(f, mode)]) for f in FRAMEWORKS]
            ratio = rps[0] / rps[1]
            print(
                f"{endpoint:<12}{mode:<9}"
                + "".join(f"{v:>12,.0f}" for v in rps)
                + f"  {ratio:5.2f}x"
            )


if __name__ == "__main__":
    main()
