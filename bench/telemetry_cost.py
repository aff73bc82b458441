"""What native telemetry costs per request: in-process req/s with it off and on.

    .venv/bin/python -m bench.telemetry_cost [--rounds 5] [--requests 20000]

The app: ``GET /items/{item_id}`` with one async dependency (a query parameter), as JSON
Each (mode, round) runs in a fresh interpreter that builds the app, warms it up and times
``--requests`` sequential ASGI calls (no server, no sockets). Modes are interleaved round by
round, and the median req/s of each mode is reported with its ratio to ``off``.

Modes:
  off       FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})
  default   FastAPI() with no OpenTelemetry provider configured (the usual case)
  unsampled a tracer provider whose sampler drops every trace (ALWAYS_OFF), operation spans
            on: Hasten's instrumentation without the SDK's cost of recording spans
  spans     a tracer provider with an in-memory span exporter; operation spans off
  ops       the same, with operation spans (dependencies, endpoint, serialization)
  all       spans + operation spans + metrics (SDK meter provider, in-memory reader)

The machine these numbers come from may be shared and noisy: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from typing import Any

MODES = ("off", "default", "unsampled", "spans", "ops", "all")


def _config(mode: str) -> tuple[Any, Any]:
    """The app's ``telemetry=`` argument and the span exporter (or None)."""
    if mode == "off":
        return {"tracing": False, "metrics": False, "logs": False}, None
    if mode == "default":
        return None, None
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    if mode == "unsampled":
        from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

        provider.sampler = ALWAYS_OFF
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    config: dict[str, Any] = {"tracer_provider": provider, "operation_spans": mode != "spans"}
    config["metrics"] = config["logs"] = False
    if mode == "all":
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        config["meter_provider"] = MeterProvider(
            metric_readers=[InMemoryMetricReader()], shutdown_on_exit=False
        )
        config["metrics"] = True
    return config, exporter


def _app(telemetry: Any) -> Any:
    from hasten import Depends, FastAPI

    app = FastAPI(telemetry=telemetry, openapi_url=None)

    async def page(limit: int = 10) -> int:
        return limit

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, limit: int = Depends(page)) -> dict[str, int]:
        return {"item_id": item_id, "limit": limit}

    return app


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/items/42",
        "raw_path": b"/items/42",
        "root_path": "",
        "query_string": b"limit=5",
        "headers": [(b"host", b"bench"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }


async def _run(app: Any, count: int, exporter: Any, mode: str) -> float:
    body_seen: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body_seen.append(message.get("body", b""))

    for _ in range(500):  # warm-up: plans, caches, tracer lookup
        await app(_scope(), receive, send)
    if body_seen[-1] != b'{"item_id":42,"limit":5}':
        raise SystemExit(f"unexpected response {body_seen[-1]!r}")
    if exporter is not None and not exporter.get_finished_spans() and mode != "unsampled":
        raise SystemExit("telemetry was on but no span was recorded")
    started = time.perf_counter()
    for i in range(count):
        await app(_scope(), receive, send)
        if exporter is not None and i % 2000 == 1999:
            exporter.clear()  # keep memory flat (a few microseconds per 2000 requests)
        if len(body_seen) > 1000:
            body_seen.clear()
    return count / (time.perf_counter() - started)


def _child(mode: str, count: int) -> None:
    telemetry, exporter = _config(mode)
    rate = asyncio.run(_run(_app(telemetry), count, exporter, mode))
    print(json.dumps({"mode": mode, "rps": rate}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.requests)
        return
    modes = args.modes.split(",")
    results: dict[str, list[float]] = {mode: [] for mode in modes}
    for round_no in range(args.rounds):
        for mode in modes:
            out = subprocess.run(
                [sys.executable, "-m", "bench.telemetry_cost", "--child", mode,
                 "--requests", str(args.requests)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results[mode].append(json.loads(out.stdout.strip().splitlines()[-1])["rps"])
        done = ", ".join(f"{m} {results[m][-1]:,.0f}" for m in modes)
        print(f"round {round_no + 1}/{args.rounds}: {done} req/s", flush=True)
    base = statistics.median(results[modes[0]])
    print(f"\nmedian req/s over {args.rounds} rounds of {args.requests} requests (in-process)")
    for mode in modes:
        median = statistics.median(results[mode])
        spread = f"{min(results[mode]):,.0f}..{max(results[mode]):,.0f}"
        print(
            f"  {mode:8s} {median:10,.0f}   ratio to {modes[0]}: {median / base:.3f}   ({spread})"
        )


if __name__ == "__main__":
    main()
