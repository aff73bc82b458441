"""Instructions per request under valgrind's callgrind: a yardstick the machine's load cannot move.

    python -m bench.instructions FRAMEWORK [--endpoints a,b] [--python PY] [--counts 300,1300]

For one framework, two fresh interpreters run under ``valgrind --tool=callgrind`` (with
``PYTHONHASHSEED=0`` and without address randomization, ``setarch -R``), each importing the
app, running its lifespan startup and then, for every endpoint in turn, warm-up requests
(statuses checked) followed by N sequential in-process ASGI requests of that endpoint (as in
section A: the app awaited with a prepared scope, a receive that hands over the body and a
send that discards the response); N is 300 in the first run and 1,300 in the second
(``/users``, about 20 times costlier, sends a fifth of that). Each endpoint's N requests are
bracketed by a marker (``os.getppid()``, on which callgrind is told to dump its counters), so
each run yields one instruction total per endpoint; the difference between the two runs,
divided by the difference of N, is the instructions per request: startup, warm-up and the
markers cancel.
Prints one line per endpoint (k instructions/request), then one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from bench._asgi import ASGIApp, Lifespan, load_app, make_receive
from bench._proc import ROOT, child_env
from bench._spec import BENCH_REQUESTS, CASES, FRAMEWORKS

#: Request counts of the two runs (their difference divides the instruction difference).
COUNTS = (300, 1300)
WARMUP = 100
#: Endpoints whose requests cost ~20x the others send a fifth of the requests (and warm-up),
#: so that a run stays short; the per-request variation is as small for them.
DIVISORS = {"users": 5}
#: The C function whose call makes callgrind dump its counters (nothing else here calls it).
MARKER = "getppid"
_TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


async def _noop_send(message: dict[str, Any]) -> None:
    return None


def scaled(endpoint: str, count: int) -> int:
    """The number of requests ``endpoint`` sends where a light endpoint sends ``count``."""
    return max(1, count // DIVISORS.get(endpoint, 1))


async def _warm(
    app: ASGIApp, scope: dict[str, Any], receive: Any, expected: int, warmup: int
) -> None:
    statuses: set[int] = set()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    for _ in range(warmup):
        await app(dict(scope), receive, send)
    if statuses != {expected}:
        raise SystemExit(f"{scope['method']} {scope['path']}: statuses {statuses} != {expected}")


async def _child(framework: str, endpoints: list[str], count: int) -> None:
    """Inside valgrind: warm up, then ``count`` requests per endpoint (scaled) between markers."""
    app = load_app(FRAMEWORKS[framework].module)
    lifespan = Lifespan(app)
    await lifespan.start()
    for endpoint in endpoints:
        req = BENCH_REQUESTS[endpoint]
        scope, receive = req.scope(), make_receive(req.body)
        await _warm(app, scope, receive, CASES[endpoint][0].status, scaled(endpoint, WARMUP))
        os.getppid()  # marker: callgrind dumps what came before
        for _ in range(scaled(endpoint, count)):
            await app(dict(scope), receive, _noop_send)
        os.getppid()  # marker: this dump holds the endpoint's `count` requests
    await lifespan.stop()


def _valgrind() -> str:
    found = shutil.which("valgrind")
    if found is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    return found


def _no_aslr() -> list[str]:
    """``setarch -R`` where it exists: the same addresses every run, so the same counts.

    With address randomization on, objects hashed by identity land in other dict slots from
    run to run and the counts differ by a few hundred instructions per request (0.4%); without
    it the same command agrees within a few dozen (0.05%), often to the instruction.
    """
    setarch = shutil.which("setarch")
    return [setarch, "-R"] if setarch else []


def run_counts(
    python: str, framework: str, endpoints: list[str], count: int, timeout: float = 1800
) -> dict[str, int]:
    """One callgrind run: the instructions spent on ``scaled(endpoint, count)`` requests."""
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp:
        out = Path(tmp) / "cg.out"
        cmd = [
            *_no_aslr(), _valgrind(), "--tool=callgrind", "--collect-systime=no",
            f"--callgrind-out-file={out}", f"--dump-before={MARKER}",
            python, "-m", "bench.instructions", framework, "--child", str(count),
            "--endpoints", ",".join(endpoints),
        ]  # fmt: skip
        done = subprocess.run(
            cmd, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}"
            )
        # Dump k (1-based) holds what ran since dump k-1: dump 1 is startup and the first
        # warm-up, then for each endpoint the measured requests and the next warm-up alternate.
        dumps = sorted(Path(tmp).glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
        if len(dumps) != 2 * len(endpoints):
            raise RuntimeError(f"expected {2 * len(endpoints)} callgrind dumps, got {len(dumps)}")
        totals = {}
        for index, endpoint in enumerate(endpoints):
            match = _TOTALS.search(dumps[2 * index + 1].read_text())
            if match is None:
                raise RuntimeError(f"no totals in {dumps[2 * index + 1].name}")
            totals[endpoint] = int(match.group(1))
        return totals


def measure(
    python: str, framework: str, endpoints: list[str], counts: tuple[int, int] = COUNTS
) -> dict[str, dict[str, Any]]:
    """Instructions per request of each endpoint: the difference of two runs."""
    small, large = counts
    low = run_counts(python, framework, endpoints, small)
    high = run_counts(python, framework, endpoints, large)
    return {
        endpoint: {
            "instructions_per_request": per_request(endpoint, low, high, counts),
            "totals": [low[endpoint], high[endpoint]],
            "counts": [scaled(endpoint, small), scaled(endpoint, large)],
        }
        for endpoint in endpoints
    }


def per_request(
    endpoint: str, low: dict[str, int], high: dict[str, int], counts: tuple[int, int]
) -> int:
    """The instruction difference of the two runs divided by their request difference."""
    requests = scaled(endpoint, counts[1]) - scaled(endpoint, counts[0])
    return round((high[endpoint] - low[endpoint]) / requests)


def _valgrind_version() -> str:
    done = subprocess.run([_valgrind(), "--version"], capture_output=True, text=True)
    return done.stdout.strip().removeprefix("valgrind-")


def section_d(args: argparse.Namespace) -> dict[str, Any]:
    """Instructions per request of every framework and endpoint (``args.instr_jobs`` at once)."""
    small, large = COUNTS
    data: dict[str, Any] = {
        "settings": {
            "counts": [small, large],
            "warmup": WARMUP,
            "divisors": DIVISORS,
            "jobs": args.instr_jobs,
        },
        "frameworks": args.frameworks,
        "endpoints": args.endpoints,
        "instructions_per_request": {},
    }
    if shutil.which("valgrind") is None:
        data["skipped"] = "valgrind is not installed (apt-get install valgrind)"
        print(f"  D skipped: {data['skipped']}", flush=True)
        return data
    data["settings"]["valgrind"] = _valgrind_version()
    data["settings"]["aslr_off"] = bool(_no_aslr())
    tasks = []
    for fw in args.frameworks:
        endpoints = [e for e in args.endpoints if e in FRAMEWORKS[fw].endpoints]
        if endpoints:
            tasks += [(fw, endpoints, small), (fw, endpoints, large)]
    totals: dict[tuple[str, int], dict[str, int]] = {}
    with ThreadPoolExecutor(max_workers=max(1, args.instr_jobs)) as pool:
        futures = {
            pool.submit(run_counts, sys.executable, fw, endpoints, count): (fw, count)
            for fw, endpoints, count in tasks
        }
        for future in as_completed(futures):
            fw, count = futures[future]
            totals[(fw, count)] = future.result()
            if (fw, small) in totals and (fw, large) in totals:
                low, high = totals[(fw, small)], totals[(fw, large)]
                per = {e: per_request(e, low, high, COUNTS) for e in low}
                data["instructions_per_request"][fw] = per
                shown = " ".join(f"{e}={v / 1000:.1f}k" for e, v in per.items())
                print(f"  D {fw:18} {shown}", flush=True)
    data["instructions_per_request"] = {
        fw: data["instructions_per_request"][fw]
        for fw in args.frameworks
        if fw in data["instructions_per_request"]
    }
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("framework", choices=sorted(FRAMEWORKS))
    parser.add_argument("--endpoints", default="", help="comma-separated (default: all)")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter to run (default: this one)"
    )
    parser.add_argument(
        "--counts", default=",".join(map(str, COUNTS)), help="request counts of the two runs"
    )
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    supported = FRAMEWORKS[args.framework].endpoints
    wanted = args.endpoints.split(",") if args.endpoints else list(supported)
    unknown = [e for e in wanted if e not in BENCH_REQUESTS]
    if unknown:
        raise SystemExit(f"unknown endpoints: {', '.join(unknown)}")
    endpoints = [e for e in wanted if e in supported]
    if args.child:
        asyncio.run(_child(args.framework, endpoints, args.child))
        return
    small, large = (int(c) for c in args.counts.split(","))
    if not 0 < small < large:
        raise SystemExit("--counts: two request counts, the first smaller")
    results = measure(args.python, args.framework, endpoints, (small, large))
    for endpoint, result in results.items():
        kilo = result["instructions_per_request"] / 1000
        print(f"{args.framework:18} {endpoint:11} {kilo:9.1f}k instructions/request", flush=True)
    print(json.dumps({"framework": args.framework, "results": results}))


if __name__ == "__main__":
    main()
