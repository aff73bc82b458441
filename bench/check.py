"""The semantic check: every app must answer the same requests the same way.

    python -m bench.check [--frameworks hasten,fastapi,...]

Success cases compare the status, the media type and the decoded body with the expected
value; error cases compare the status (error body shapes differ between frameworks). Hasten
and FastAPI must match byte for byte, error bodies and headers included, and
bench/apps/hasten_app.py must be bench/apps/fastapi_app.py with only the imports changed.
Exits 1 and names every difference when something is off.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import re
import sys
from pathlib import Path

from bench._asgi import Lifespan, Resp, call, load_app
from bench._spec import CASES, FRAMEWORKS, Case

APPS = Path(__file__).parent / "apps"


def _decode(resp: Resp) -> object:
    media = (resp.header("content-type") or "").split(";")[0].strip()
    if media == "application/json":
        return json.loads(resp.body)
    return resp.body.decode()


def _check_case(key: str, case: Case, resp: Resp) -> list[str]:
    where = f"{key}: {case.req.method} {case.req.target}"
    if resp.status != case.status:
        return [f"{where}: status {resp.status}, expected {case.status} ({resp.body[:200]!r})"]
    if case.media_type is None:
        return []
    problems = []
    media = (resp.header("content-type") or "").split(";")[0].strip()
    if media != case.media_type:
        problems.append(f"{where}: content-type {media!r}, expected {case.media_type!r}")
    try:
        body = _decode(resp)
    except ValueError as exc:
        return [*problems, f"{where}: body not decodable ({exc})"]
    if body != case.body:
        problems.append(f"{where}: body {resp.body[:300]!r} differs from the expected value")
    return problems


async def _answers(key: str) -> dict[tuple[str, int], Resp]:
    fw = FRAMEWORKS[key]
    app = load_app(fw.module)
    lifespan = Lifespan(app)
    await lifespan.start()
    answers = {}
    for endpoint in fw.endpoints:
        for index, case in enumerate(CASES[endpoint]):
            answers[(endpoint, index)] = await call(app, case.req)
    await lifespan.stop()
    return answers


def _normalized(source: str) -> tuple[list[str], list[str]]:
    """The module's import lines (sorted) and its other lines, blank lines and docstring aside."""
    lines = [line for line in source.splitlines()[1:] if line.strip()]  # line 1: the docstring
    imports = sorted(line for line in lines if line.startswith(("from ", "import ")))
    return imports, [line for line in lines if not line.startswith(("from ", "import "))]


def _same_code_problems() -> list[str]:
    """hasten_app.py must read as fastapi_app.py once ``Hasten``/``hasten`` become FastAPI's."""
    fastapi_src = (APPS / "fastapi_app.py").read_text()
    hasten_src = (APPS / "hasten_app.py").read_text()
    renamed = re.sub(r"\bHasten\b", "FastAPI", re.sub(r"\bhasten\b", "fastapi", hasten_src))
    expected, actual = _normalized(fastapi_src), _normalized(renamed)
    problems = []
    for name, want, got in zip(("imports", "code"), expected, actual, strict=True):
        for line in difflib.unified_diff(want, got, lineterm="", n=0):
            if not line.startswith(("---", "+++", "@@")):
                problems.append(f"hasten_app.py {name} differ from fastapi_app.py: {line}")
    return problems


def _identical_problems(a: dict, b: dict) -> list[str]:
    problems = []
    for (endpoint, index), ra in a.items():
        rb = b[(endpoint, index)]
        req = CASES[endpoint][index].req
        where = f"hasten vs fastapi: {req.method} {req.target}"
        if (ra.status, ra.body) != (rb.status, rb.body):
            problems.append(f"{where}: {ra.status} {ra.body!r} != {rb.status} {rb.body!r}")
        elif sorted(ra.headers) != sorted(rb.headers):
            problems.append(f"{where}: headers {ra.headers} != {rb.headers}")
    return problems


def run_check(keys: list[str]) -> list[str]:
    """Return every semantic difference found (an empty list when all apps agree)."""
    problems: list[str] = []
    answers = {}
    for key in keys:
        answers[key] = asyncio.run(_answers(key))
        for (endpoint, index), resp in answers[key].items():
            problems += _check_case(key, CASES[endpoint][index], resp)
    if "hasten" in answers and "fastapi" in answers:
        problems += _identical_problems(answers["hasten"], answers["fastapi"])
    if "hasten" in keys or "fastapi" in keys:
        problems += _same_code_problems()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    args = parser.parse_args()
    keys = [k for k in args.frameworks.split(",") if k]
    problems = run_check(keys)
    for problem in problems:
        print("MISMATCH", problem)
    if problems:
        sys.exit(1)
    total = sum(len(CASES[e]) for k in keys for e in FRAMEWORKS[k].endpoints)
    print(f"semantic check: {len(keys)} apps agree on {total} requests")


if __name__ == "__main__":
    main()
