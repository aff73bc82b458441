"""The benchmark harness: ``python -m bench`` (``./scripts/bench`` sets up .bench-venv first).

    python -m bench                      everything (semantic check, A, B, C, D) and REPORT.md
    python -m bench --quick              the check and section A only, short runs
    python -m bench --section A --frameworks hasten,starlette --endpoints plaintext,json

A complete run (all sections, frameworks and endpoints, default repetitions) writes
bench/results/*.json and bench/REPORT.md; any other run writes them to bench/results/tmp/
(ignored by git) unless --out says otherwise. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import _env, report
from bench._proc import ROOT, run_json
from bench._spec import ENDPOINTS, FRAMEWORKS

RESULTS = ROOT / "bench" / "results"
SECTIONS = ("A", "B", "C", "D")

#: Repetitions and durations: a complete run, and --quick (section A only).
DEFAULTS = {
    "full": {"reps": 5, "seconds": 1.5, "wire_reps": 5, "wire_seconds": 2.0, "scale_reps": 3},
    "quick": {"reps": 3, "seconds": 1.0, "wire_reps": 1, "wire_seconds": 2.0, "scale_reps": 1},
}


def _csv(value: str, allowed: Any, what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise SystemExit(f"no {what} given")
    unknown = [v for v in items if v not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(allowed)})")
    return items


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench", description=__doc__.split("\n\n")[0], allow_abbrev=False
    )
    parser.add_argument("--quick", action="store_true", help="section A only, short runs")
    parser.add_argument("--section", default=None, help="A, B, C, D or a list (default: all)")
    parser.add_argument(
        "--frameworks", default=",".join(FRAMEWORKS), help=f"of: {','.join(FRAMEWORKS)}"
    )
    parser.add_argument(
        "--endpoints", default=",".join(ENDPOINTS), help=f"of: {','.join(ENDPOINTS)}"
    )
    parser.add_argument("--reps", type=int, help="A: repetitions per framework")
    parser.add_argument("--seconds", type=float, help="A and C: seconds per measurement")
    parser.add_argument("--wire-reps", type=int, help="B: repetitions")
    parser.add_argument("--wire-seconds", type=float, help="B: wrk duration per endpoint")
    parser.add_argument("--scale-reps", type=int, help="C: repetitions")
    parser.add_argument(
        "--servers",
        default="uvicorn,granian,granian-rsgi,uvicorn-2w",
        help="B: of uvicorn,granian,granian-rsgi,uvicorn-2w",
    )
    parser.add_argument(
        "--instr-jobs",
        type=int,
        default=2,
        help="D: frameworks counted at once (callgrind counts do not depend on the load)",
    )
    parser.add_argument("--cpu", type=int, default=0, help="core the app processes run on")
    parser.add_argument("--no-profile", action="store_true", help="A: skip calls/request")
    parser.add_argument("--no-check", action="store_true", help="skip the semantic check")
    parser.add_argument("--out", type=Path, help="results folder (its REPORT.md is written there)")
    args = parser.parse_args(argv)
    args.section = _csv(
        args.section or ("A" if args.quick else ",".join(SECTIONS)), SECTIONS, "section"
    )
    args.frameworks = _csv(args.frameworks, FRAMEWORKS, "framework")
    args.endpoints = _csv(args.endpoints, ENDPOINTS, "endpoint")
    defaults = DEFAULTS["quick" if args.quick else "full"]
    tuned = False
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
        else:
            tuned = True
    complete = (
        not args.quick
        and not tuned
        and len(args.section) == len(SECTIONS)
        and len(args.frameworks) == len(FRAMEWORKS)
        and len(args.endpoints) == len(ENDPOINTS)
        and not args.no_profile
        and not args.no_check
        and args.servers == parser.get_default("servers")
    )
    if args.out is None:
        args.out = RESULTS if complete else RESULTS / "tmp"
    args.out = args.out.resolve()
    args.complete = complete
    return args


def _say(text: str) -> None:
    print(text, flush=True)


def _rotated(items: list[str], rep: int) -> list[str]:
    shift = rep % len(items) if items else 0
    return items[shift:] + items[:shift]


def section_a(args: argparse.Namespace) -> dict[str, Any]:
    """In-process requests/second (medians of interleaved fresh processes) and calls/request."""
    runs: dict[str, dict[str, list[float]]] = {fw: {} for fw in args.frameworks}
    for rep in range(args.reps):
        for fw in _rotated(args.frameworks, rep):
            endpoints = [e for e in _rotated(args.endpoints, rep) if e in FRAMEWORKS[fw].endpoints]
            if not endpoints:
                continue
            out = run_json(
                "bench.inprocess",
                [fw, "--endpoints", ",".join(endpoints), "--seconds", str(args.seconds)],
                args.cpu,
            )
            for endpoint, result in out["results"].items():
                runs[fw].setdefault(endpoint, []).append(round(result["rps"]))
            shown = " ".join(f"{e}={round(r['rps'])}" for e, r in out["results"].items())
            _say(f"  A rep {rep + 1}/{args.reps} {fw:18} {shown}")
    calls: dict[str, dict[str, float]] = {}
    if not args.no_profile:
        for fw in args.frameworks:
            endpoints = [e for e in args.endpoints if e in FRAMEWORKS[fw].endpoints]
            if not endpoints:
                continue
            out = run_json(
                "bench.inprocess",
                [fw, "--endpoints", ",".join(endpoints), "--profile", "500"],
                None,
            )
            calls[fw] = {e: round(r["calls_per_request"], 1) for e, r in out["results"].items()}
            _say(f"  A calls/request {fw:18} {calls[fw]}")
    medians = {
        fw: {e: statistics.median(values) for e, values in eps.items()} for fw, eps in runs.items()
    }
    return {
        "settings": {"reps": args.reps, "seconds": args.seconds, "cpu": args.cpu},
        "frameworks": args.frameworks,
        "endpoints": args.endpoints,
        "runs": runs,
        "median": medians,
        "calls_per_request": calls,
    }


def _write(out: Path, name: str, data: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.monotonic()
    env = _env.describe()
    env["command"] = " ".join(["./scripts/bench", *(sys.argv[1:] if argv is None else argv)])
    env["complete"] = args.complete
    _say(
        f"==> results go to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
    )
    env["check"] = "skipped (--no-check)"
    if not args.no_check:
        from bench.check import run_check

        problems = run_check(args.frameworks)
        for problem in problems:
            _say(f"MISMATCH {problem}")
        if problems:
            raise SystemExit(
                "semantic check failed: the apps do not answer alike; nothing measured"
            )
        _say(f"==> semantic check passed ({', '.join(args.frameworks)})")
        env["check"] = f"passed ({', '.join(args.frameworks)})"
    if "A" in args.section:
        _say("==> A: in-process")
        _write(args.out, "inprocess.json", section_a(args))
    if "B" in args.section:
        from bench import wire

        _say("==> B: over the wire")
        _write(args.out, "wire.json", wire.section_b(args))
    if "C" in args.section:
        from bench import scale

        _say("==> C: scale")
        _write(args.out, "scale.json", scale.section_c(args))
    if "D" in args.section:
        from bench import instructions

        _say("==> D: instructions per request (callgrind)")
        _write(args.out, "instructions.json", instructions.section_d(args))
    env["duration_seconds"] = round(time.monotonic() - started)
    env["load_after"] = _env.load_average()
    env["sections"] = args.section
    _write(args.out, "meta.json", env)
    target = ROOT / "bench" / "REPORT.md" if args.out == RESULTS else args.out / "REPORT.md"
    text = report.render(args.out)
    target.write_text(text)
    _say(text)
    _say(f"==> report: {target} ({env['duration_seconds']} s)")
