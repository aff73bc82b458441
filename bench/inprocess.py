"""Section A, one process: time (or profile) one framework's endpoints, called in-process.

    python -m bench.inprocess FRAMEWORK [--endpoints a,b] [--seconds S] [--profile N] [--override]

The app's ASGI callable is awaited directly with a prepared scope, a receive that hands over
the body and a send that discards the response (after warm-up requests that check the
status). Lifespan startup runs first. Prints one JSON object: requests/second per endpoint, or
with ``--profile N`` the cProfile call count per request over N requests (deterministic).
Run by bench/run.py in a fresh process pinned to one core, repetitions interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import time
from typing import Any

from bench._asgi import ASGIApp, Lifespan, Req, load_app, make_receive
from bench._spec import BENCH_REQUESTS, CASES, FRAMEWORKS

WARMUP = 300
BATCH = 100


async def _noop_send(message: dict[str, Any]) -> None:
    return None


async def _warm(app: ASGIApp, req: Req, expected: int) -> None:
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope, receive = req.scope(), make_receive(req.body)
    for _ in range(WARMUP):
        await app(dict(scope), receive, send)
    if set(statuses) != {expected}:
        raise SystemExit(f"{req.method} {req.target}: statuses {set(statuses)} != {expected}")


async def _time(app: ASGIApp, req: Req, seconds: float) -> dict[str, float]:
    scope, receive, send = req.scope(), make_receive(req.body), _noop_send
    count = 0
    clock = time.perf_counter
    start = clock()
    deadline = start + seconds
    while clock() < deadline:
        for _ in range(BATCH):
            await app(dict(scope), receive, send)
        count += BATCH
    elapsed = clock() - start
    return {"rps": count / elapsed, "requests": count, "seconds": elapsed}


async def _profile(app: ASGIApp, req: Req, requests: int) -> dict[str, float]:
    scope, receive, send = req.scope(), make_receive(req.body), _noop_send
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    profiler.disable()
    total = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
    return {"calls_per_request": total / requests, "requests": requests}


def _unrelated_dependency() -> None:
    """A dependency no endpoint uses: overriding it makes ``dependency_overrides`` non-empty."""


async def measure(
    framework: str, endpoints: list[str], seconds: float, profile: int, override: bool = False
) -> dict:
    """Measure ``endpoints`` of ``framework`` in this process.

    ``override``: with one (unrelated) ``dependency_overrides`` entry set, as test suites run
    (FastAPI-style apps only).
    """
    app = load_app(FRAMEWORKS[framework].module)
    if override:
        app.dependency_overrides[_unrelated_dependency] = _unrelated_dependency
    lifespan = Lifespan(app)
    await lifespan.start()
    results: dict[str, dict[str, float]] = {}
    for endpoint in endpoints:
        req = BENCH_REQUESTS[endpoint]
        await _warm(app, req, CASES[endpoint][0].status)
        if profile:
            results[endpoint] = await _profile(app, req, profile)
        else:
            results[endpoint] = await _time(app, req, seconds)
    await lifespan.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("framework", choices=sorted(FRAMEWORKS))
    parser.add_argument("--endpoints", default="")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument(
        "--override", action="store_true", help="set one unrelated dependency_overrides entry"
    )
    args = parser.parse_args()
    supported = FRAMEWORKS[args.framework].endpoints
    wanted = args.endpoints.split(",") if args.endpoints else list(supported)
    endpoints = [e for e in wanted if e in supported]
    results = asyncio.run(
        measure(args.framework, endpoints, args.seconds, args.profile, args.override)
    )
    print(json.dumps({"framework": args.framework, "results": results}))


if __name__ == "__main__":
    main()
