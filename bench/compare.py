"""Run bench/inprocess.py for Hasten and FastAPI in fresh processes, interleaved, and print
medians and the ratio. Needs a Python where both are importable (see scripts/bench-core).

    python bench/compare.py [--runs 5] [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def one(framework: str, seconds: float, sync_deps: bool) -> int:
    cmd = [sys.executable, str(HERE / "inprocess.py"), framework, "--seconds", str(seconds)]
    if sync_deps:
        cmd.append("--sync-deps")
    if sys.platform.startswith("linux"):
        cmd = ["taskset", "-c", "0", *cmd]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return int(json.loads(out.strip().splitlines()[-1])["rps"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--sync-deps", action="store_true")
    args = parser.parse_args()
    results: dict[str, list[int]] = {"hasten": [], "fastapi": []}
    for _ in range(args.runs):
        for framework in results:
            results[framework].append(one(framework, args.seconds, args.sync_deps))
    medians = {fw: statistics.median(v) for fw, v in results.items()}
    for fw, values in results.items():
        print(f"{fw:8} median {medians[fw]:>8.0f} req/s   runs {values}")
    print(f"ratio hasten/fastapi: {medians['hasten'] / medians['fastapi']:.2f}x")


if __name__ == "__main__":
    main()
