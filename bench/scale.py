"""Section C: scale. Routing cost as routes are added, and the cost of starting a big app.

    python -m bench.scale routing FRAMEWORK --routes N [--seconds S]
    python -m bench.scale startup FRAMEWORK --routes N [--tracemalloc]

``routing``: requests/second in-process for ``GET /r{N-1}/items/5`` on the app of
``make_app(N)`` (the last of N routes; checked for its status and body first).
``startup``: seconds to import the framework, declare N routes with path, query and body
parameters (``make_startup_app``), answer the first request (lifespan startup included) and
build the OpenAPI document; how much the RSS grew over all that (what the app keeps), or with
``--tracemalloc`` the peak of traced allocations (slower, so measured in its own process).
Both print one JSON line; bench/run.py runs them in fresh pinned processes.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import resource
import statistics
import time
import tracemalloc
from typing import Any

from bench._asgi import Lifespan, Req, call, load_app
from bench._proc import run_json
from bench._spec import FRAMEWORKS
from bench.inprocess import _time, _warm

ROUTE_COUNTS = (10, 100, 1000)
STARTUP_ROUTES = 500
_BODY = b'{"name": "Widget", "price": 9.5, "tags": [], "dimensions": {"width": 1, "height": 2}}'


async def routing(framework: str, n_routes: int, seconds: float) -> dict[str, Any]:
    app = load_app(FRAMEWORKS[framework].module, "make_app", n_routes)
    lifespan = Lifespan(app)
    await lifespan.start()
    req = Req("GET", f"/r{n_routes - 1}/items/5")
    resp = await call(app, req)
    if resp.status != 200 or json.loads(resp.body) != {"item_id": 5}:
        raise SystemExit(f"{framework} {req.target}: {resp.status} {resp.body!r}")
    await _warm(app, req, 200)
    result = await _time(app, req, seconds)
    await lifespan.stop()
    return result


def _rss_mb() -> float:
    """The resident set size now (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def startup(framework: str, n_routes: int, trace: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    importlib.import_module(framework)
    module = importlib.import_module(FRAMEWORKS[framework].module)
    t1 = time.perf_counter()
    rss_before = _rss_mb()
    if trace:
        tracemalloc.start()
    t2 = time.perf_counter()
    app = module.make_startup_app(n_routes)
    t3 = time.perf_counter()

    async def first_request() -> int:
        lifespan = Lifespan(app)
        await lifespan.start()
        headers = (("content-type", "application/json"),)
        resp = await call(app, Req("POST", f"/r{n_routes - 1}/items/3?limit=5", headers, _BODY))
        await lifespan.stop()
        return resp.status

    status = asyncio.run(first_request())
    if status != 200:
        raise SystemExit(f"{framework}: first request answered {status}")
    t4 = time.perf_counter()
    document = app.openapi()
    t5 = time.perf_counter()
    if len(document["paths"]) != n_routes:
        raise SystemExit(f"{framework}: the OpenAPI document has {len(document['paths'])} paths")
    result = {
        "import_s": t1 - t0,
        "declare_s": t3 - t2,
        "first_request_s": t4 - t3,
        "openapi_s": t5 - t4,
        "total_s": t5 - t2,
        "rss_mb": _rss_mb() - rss_before,
    }
    if trace:
        result["tracemalloc_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result


def section_c(args: argparse.Namespace) -> dict[str, Any]:
    """Routing scale and startup, each measurement a fresh process pinned to ``args.cpu``."""
    return {"routing": _routing_section(args), "startup": _startup_section(args)}


def _routing_section(args: argparse.Namespace) -> dict[str, Any] | None:
    frameworks = [fw for fw in args.frameworks if FRAMEWORKS[fw].scale]
    if not frameworks:
        return None
    runs: dict[str, dict[str, list[float]]] = {fw: {} for fw in frameworks}
    for rep in range(args.scale_reps):
        for n_routes in ROUTE_COUNTS:
            for fw in frameworks[rep % len(frameworks) :] + frameworks[: rep % len(frameworks)]:
                cli = ["routing", fw, "--routes", str(n_routes), "--seconds", str(args.seconds)]
                out = run_json("bench.scale", cli, args.cpu)
                runs[fw].setdefault(str(n_routes), []).append(round(out["rps"]))
        shown = {fw: runs[fw] for fw in frameworks}
        print(f"  C routing rep {rep + 1}/{args.scale_reps} {shown}", flush=True)
    return {
        "settings": {"reps": args.scale_reps, "seconds": args.seconds, "cpu": args.cpu},
        "routes": list(ROUTE_COUNTS),
        "runs": runs,
        "median": {
            fw: {n: statistics.median(v) for n, v in per_n.items()} for fw, per_n in runs.items()
        },
    }


def _startup_section(args: argparse.Namespace) -> dict[str, Any] | None:
    frameworks = [fw for fw in args.frameworks if FRAMEWORKS[fw].startup]
    if not frameworks:
        return None
    runs: dict[str, list[dict[str, float]]] = {fw: [] for fw in frameworks}
    traced: dict[str, float] = {}
    for rep in range(args.scale_reps):
        for fw in frameworks[rep % len(frameworks) :] + frameworks[: rep % len(frameworks)]:
            cli = ["startup", fw, "--routes", str(STARTUP_ROUTES)]
            runs[fw].append(run_json("bench.scale", cli, args.cpu))
    for fw in frameworks:
        cli = ["startup", fw, "--routes", str(STARTUP_ROUTES), "--tracemalloc"]
        traced[fw] = run_json("bench.scale", cli, args.cpu)["tracemalloc_mb"]
    median = {}
    for fw, results in runs.items():
        median[fw] = {key: statistics.median(r[key] for r in results) for key in results[0]}
        median[fw]["tracemalloc_mb"] = traced[fw]
        print(f"  C startup {fw:8} {json.dumps({k: round(v, 3) for k, v in median[fw].items()})}",
              flush=True)  # fmt: skip
    return {
        "settings": {"reps": args.scale_reps, "cpu": args.cpu},
        "routes": STARTUP_ROUTES,
        "runs": runs,
        "median": median,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["routing", "startup"])
    parser.add_argument("framework", choices=sorted(FRAMEWORKS))
    parser.add_argument("--routes", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    if args.what == "routing":
        result = asyncio.run(routing(args.framework, args.routes, args.seconds))
    else:
        result = startup(args.framework, args.routes, args.tracemalloc)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
