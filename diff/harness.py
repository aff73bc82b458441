"""Differential harness driver: FastAPI venv, both runners, comparison, report.

Called by ``scripts/diff`` (see ``diff/README.md``); stdlib only, run with the Hasten python.

    scripts/diff [--list] [-k SUBSTRING ...] [--verbose] [--rebuild] [--no-cache]

1. ``.diff/venv-fastapi-py3.X``: real FastAPI (version from ``compat/FASTAPI_VERSION``) plus the
   libraries the probes need, pinned to the versions installed in the Hasten environment
   (Starlette, Pydantic, httpx2, python-multipart, email-validator, ...), so that FastAPI versus
   Hasten is the only difference. Recreated only when that requirement list changes.
2. ``runner.py`` in both environments at once (``.diff/results/<env>-py3.X.jsonl``). The
   FastAPI records are reused while ``diff/``, the requirements and the selection are unchanged.
3. Records compared after the normalisations listed in README.md; one block per differing
   probe, a summary by cause, and ``diff: P of N probes identical``.

Exit status: 0 when every differing probe is listed in ``diff/known-differences.txt``, 1 when
one is not, 2 when the harness itself failed (venv, runner crash, alias leak).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(ROOT, ".diff")
KNOWN = os.path.join(HERE, "known-differences.txt")
RUN_TIMEOUT = int(os.environ.get("HASTEN_DIFF_TIMEOUT", "170"))

# Shared libraries pinned in the FastAPI venv to the Hasten environment's versions.
SHARED = [
    "starlette",
    "pydantic",
    "pydantic-core",
    "anyio",
    "httpx2",
    "httpcore2",
    "httpx",
    "python-multipart",
    "email-validator",
    "typing-extensions",
    "typing-inspection",
    "annotated-types",
]
# Optional libraries some probes touch (ORJSONResponse, UJSONResponse): pinned like the
# above when the Hasten environment has them, absent from both otherwise.
SHARED += ["orjson", "ujson"]
# Installed unpinned when the Hasten environment lacks them (the probes need them).
NEEDED = ["httpx2", "python-multipart", "email-validator"]


def log(msg: str) -> None:
    print(f"diff: {msg}", file=sys.stderr, flush=True)


# -- environments ------------------------------------------------------------------------------


def hasten_python() -> str:
    py = os.environ.get("HASTEN_DIFF_PYTHON") or os.path.join(ROOT, ".venv", "bin", "python")
    if not os.path.exists(py):
        raise SystemExit(f"diff: no Hasten interpreter at {py} (set HASTEN_DIFF_PYTHON)")
    return py


def describe_python(py: str) -> dict[str, Any]:
    code = (
        "import json, sys, importlib.metadata as m\n"
        "pins = {}\n"
        f"for n in {SHARED!r}:\n"
        "    try: pins[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps({'version': '%d.%d' % sys.version_info[:2], 'pins': pins}))\n"
    )
    out = subprocess.run([py, "-I", "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def fastapi_version() -> str:
    try:
        with open(os.path.join(ROOT, "compat", "FASTAPI_VERSION")) as f:
            return f.read().strip() or "0.165.0"
    except OSError:
        return "0.165.0"


def requirements(info: dict[str, Any]) -> list[str]:
    reqs = [f"fastapi=={fastapi_version()}"]
    reqs += [f"{name}=={version}" for name, version in sorted(info["pins"].items())]
    reqs += [name for name in NEEDED if name not in info["pins"]]
    return reqs


def ensure_fastapi_venv(hpy: str, info: dict[str, Any], rebuild: bool) -> str:
    venv = os.path.join(CACHE, f"venv-fastapi-py{info['version']}")
    fpy = os.path.join(venv, "bin", "python")
    reqs = requirements(info)
    stamp = os.path.join(venv, ".diff-requirements")
    want = "\n".join(reqs) + "\n"
    have = open(stamp).read() if os.path.exists(stamp) else None
    if have == want and os.path.exists(fpy) and not rebuild:
        return fpy
    log(f"creating {os.path.relpath(venv, ROOT)} (fastapi {fastapi_version()}, pinned libraries)")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([hpy, "-m", "venv", venv], check=True)
    pip_log = os.path.join(CACHE, "pip.log")
    with open(pip_log, "w") as logf:
        cmd = [fpy, "-m", "pip", "install", "-q", *reqs]
        if subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT).returncode != 0:
            log(f"pinned install failed (see {pip_log}); installing unpinned instead")
            loose = [reqs[0], *[r.split("==")[0] for r in reqs[1:]]]
            cmd = [fpy, "-m", "pip", "install", "-q", *loose]
            if subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT).returncode != 0:
                raise SystemExit(f"diff: pip install failed, see {pip_log}")
    with open(stamp, "w") as f:
        f.write(want)
    return fpy


def tree_hash(extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for dirpath, dirnames, filenames in sorted(os.walk(HERE)):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                h.update(os.path.relpath(path, HERE).encode())
                with open(path, "rb") as f:
                    h.update(f.read())
    return h.hexdigest()


def start_runner(py: str, env: str, out: str, ids_file: str | None) -> subprocess.Popen[str]:
    # -s -P and no PYTHON* variables: isolated like -I, but with a fixed hash seed, so that
    # set iteration order (FastAPI's operation ids take a route's first method) is the same
    # in both interpreters and from run to run.
    cmd = [py, "-s", "-P", os.path.join(HERE, "runner.py"), "--env", env, "--out", out]
    if ids_file:
        cmd += ["--ids", ids_file]
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HASTEN_FASTAPI_ALIAS"))
    }
    environ["PYTHONHASHSEED"] = "0"
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ, cwd=CACHE
    )


def read_records(path: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    records: dict[str, dict[str, Any]] = {}
    env: dict[str, Any] | None = None
    if not os.path.exists(path):
        return records, env
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            if "environment" in rec:
                env = rec["environment"]
            else:
                records[rec["id"]] = rec
    return records, env


def list_probes(py: str, env: str = "hasten") -> list[tuple[str, str]]:
    out = subprocess.run(
        [py, "-I", os.path.join(HERE, "runner.py"), "--env", env, "--list"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.returncode != 0:  # a probe module failed to import
        raise SystemExit(f"diff: listing the probes failed:\n{out.stderr[-3000:]}")
    rows = []
    for line in out.stdout.splitlines():
        pid, _, desc = line.partition("\t")
        rows.append((pid, desc))
    return rows


# -- normalisation -----------------------------------------------------------------------------

_ADDR = re.compile(r"0x[0-9a-fA-F]{6,}")
_EXPIRES = re.compile(r"(?i)(expires=)[^;]*")
_BOUNDARY = re.compile(r"(?i)(boundary=)[^;\s]*")


def norm_text(text: str) -> str:
    return _ADDR.sub("0x<addr>", text)


def norm_headers(headers: list[list[str]]) -> list[tuple[str, str]]:
    out = []
    for name, value in headers:
        name = name.lower()
        if name == "date":
            value = "<date>"
        elif name == "set-cookie":
            value = _EXPIRES.sub(r"\1<date>", value)
        elif name == "content-type" and "multipart/" in value.lower():
            value = _BOUNDARY.sub(r"\1<boundary>", value)
        out.append((name, value))
    return sorted(out, key=lambda kv: kv[0])  # stable: same-name headers keep their order


def norm_body(body: dict[str, str]) -> str:
    if "text" in body:
        return norm_text(body["text"])
    return "base64:" + body["b64"]


# -- comparison --------------------------------------------------------------------------------


def short(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if limit and len(text) > limit:
        return text[: limit - 3] + "..."
    return text


def jdiff(a: Any, b: Any, path: str = "$") -> Iterator[tuple[str, Any, Any]]:
    """Differing leaves of two JSON values (dict key order counts, reported on its own)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a:
            if key in b:
                yield from jdiff(a[key], b[key], f"{path}.{key}")
            else:
                yield f"{path}.{key}", a[key], "<missing>"
        for key in b:
            if key not in a:
                yield f"{path}.{key}", "<missing>", b[key]
        common_a = [k for k in a if k in b]
        common_b = [k for k in b if k in a]
        if common_a != common_b:
            yield f"{path} (key order)", common_a, common_b
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path} (length {len(a)} vs {len(b)})", a, b
        else:
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                yield from jdiff(x, y, f"{path}[{i}]")
    elif type(a) is not type(b) or a != b:
        yield path, a, b


def text_delta(a: str, b: str, limit: int) -> str:
    """Where two texts start to differ, with a little context (whole texts when verbose)."""
    if not limit:
        return f"FastAPI {a!r} | Hasten {b!r}"
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    j = 0
    while j < min(len(a), len(b)) - i and a[-1 - j] == b[-1 - j]:
        j += 1
    start = max(0, i - 40)
    ca = a[start : max(len(a) - j + 20, i + 60)]
    cb = b[start : max(len(b) - j + 20, i + 60)]
    span = max(60, limit // 2)
    return (
        f"differs at char {i}: FastAPI {'...' if start else ''}{short(ca, span)!r} | "
        f"Hasten {'...' if start else ''}{short(cb, span)!r}"
    )


def exc_line(exc: dict[str, Any], limit: int) -> str:
    return f"{exc['type']}: {short(norm_text(exc['message']), limit)}"


def exc_match(fa: dict[str, Any], hs: dict[str, Any]) -> str:
    """'same', 'compatible' (FastAPI's class in Hasten's MRO, its message inside Hasten's),
    or 'differ'."""
    ma, mh = norm_text(fa["message"]), norm_text(hs["message"])
    if fa["type"] == hs["type"] and ma == mh:
        return "same"
    if fa["type"] in hs["mro"] and ma in mh:
        return "compatible"
    return "differ"


class Comparison:
    """The differences found between one probe's two records.

    A finding is (cause, where, detail); the same (cause, detail) at several steps is printed
    once, naming the first step and the numbers of the others.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.findings: list[tuple[str, str, str]] = []
        self.notes: list[str] = []

    def add(self, cause: str, where: str, detail: str) -> None:
        self.findings.append((cause, where, detail))

    def causes(self) -> list[str]:
        return sorted({cause for cause, _, _ in self.findings})

    def lines(self) -> list[str]:
        groups: dict[tuple[str, str], list[str]] = {}
        for cause, where, detail in self.findings:
            groups.setdefault((cause, detail), []).append(where)
        out = []
        for (cause, detail), wheres in groups.items():
            more = ""
            if len(wheres) > 1:
                nums = [w.split()[1] for w in wheres[1:] if w.startswith("step ")]
                more = f" (same at steps {', '.join(nums)})" if nums else f" (x{len(wheres)})"
            out.append(f"{cause}: {wheres[0]}{more}: {detail}")
        return out

    def exceptions(self, cause: str, where: str, fa: Any, hs: Any) -> None:
        if fa is None and hs is None:
            return
        if fa is None or hs is None:
            fa_s = exc_line(fa, self.limit) if fa else "no exception"
            hs_s = exc_line(hs, self.limit) if hs else "no exception"
            self.add(cause, where, f"FastAPI {fa_s} | Hasten {hs_s}")
            return
        verdict = exc_match(fa, hs)
        if verdict == "differ" and fa["type"] == hs["type"]:
            a, b = norm_text(fa["message"]), norm_text(hs["message"])
            self.add(cause, where, f"{fa['type']} message: {text_delta(a, b, self.limit)}")
        elif verdict == "differ":
            self.add(
                cause,
                where,
                f"FastAPI {exc_line(fa, self.limit)} | Hasten {exc_line(hs, self.limit)}",
            )
        elif verdict == "compatible":
            self.notes.append(
                f"{where}: compatible exception (Hasten {hs['type']} adds to FastAPI's message)"
            )

    def json_values(self, cause: str, where: str, a: Any, b: Any) -> None:
        diffs = list(jdiff(a, b))
        for path, x, y in diffs[:6]:
            self.add(
                cause,
                where,
                f"{path}: FastAPI {short(x, self.limit)} | Hasten {short(y, self.limit)}",
            )
        if len(diffs) > 6:
            self.add(cause, where, f"... {len(diffs) - 6} more differences")

    def bodies(self, where: str, a: str, b: str) -> None:
        try:
            ja, jb = json.loads(a), json.loads(b)
        except ValueError:
            self.add(
                "body", where, f"FastAPI {short(a, self.limit)!r} | Hasten {short(b, self.limit)!r}"
            )
            return
        if list(jdiff(ja, jb)):
            self.json_values("body", where, ja, jb)
        else:  # same JSON value, different bytes (separators, escaping, float format)
            self.add(
                "body",
                where,
                f"bytes: FastAPI {short(a, self.limit)!r} | Hasten {short(b, self.limit)!r}",
            )

    def response(self, where: str, fa: dict[str, Any], hs: dict[str, Any]) -> None:
        if "raised" in fa or "raised" in hs:
            self.exceptions("exception", where, fa.get("raised"), hs.get("raised"))
            return
        if fa["status"] != hs["status"]:
            self.add("status", where, f"status FastAPI {fa['status']} | Hasten {hs['status']}")
        ba, bb = norm_body(fa["body"]), norm_body(hs["body"])
        if ba != bb:
            self.bodies(where, ba, bb)
        ha, hb = norm_headers(fa["headers"]), norm_headers(hs["headers"])
        if ha != hb:
            skip = {"content-length"} if ba != bb else set()
            da = [f"{k}: {v}" for k, v in ha if (k, v) not in hb and k not in skip]
            db = [f"{k}: {v}" for k, v in hb if (k, v) not in ha and k not in skip]
            if da or db:
                self.add("headers", where, f"headers: FastAPI {da} | Hasten {db}")
            elif not skip:
                self.add("headers", where, f"header order: FastAPI {ha} | Hasten {hb}")

    def do_step(self, where: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        self.exceptions("step", where, a.get("raised"), b.get("raised"))
        if "raised" in a or "raised" in b:
            return
        ra = json.loads(norm_text(json.dumps(a.get("result"))))
        rb = json.loads(norm_text(json.dumps(b.get("result"))))
        if json.dumps(ra) != json.dumps(rb):
            self.json_values("step", where, ra, rb)

    def steps(self, fa: list[dict[str, Any]], hs: list[dict[str, Any]]) -> None:
        for i, (a, b) in enumerate(zip(fa, hs, strict=False), start=1):
            where = f"step {i} {a.get('request') or a.get('do')}"
            if "do" in a:
                self.do_step(where, a, b)
            else:
                self.response(where, a, b)
        if len(fa) != len(hs):
            self.add("runner", "steps", f"step count FastAPI {len(fa)} | Hasten {len(hs)}")

    def openapi(self, fa: dict[str, Any], hs: dict[str, Any]) -> None:
        self.exceptions("openapi", "openapi()", fa.get("openapi_error"), hs.get("openapi_error"))
        if "openapi" in fa and "openapi" in hs:
            if json.dumps(fa["openapi"]) != json.dumps(hs["openapi"]):  # key order counts
                self.json_values("openapi", "openapi", fa["openapi"], hs["openapi"])

    def warnings(self, fa: dict[str, Any], hs: dict[str, Any]) -> None:
        wa = [[k, norm_text(m)] for k, m in fa.get("warnings", [])]
        wb = [[k, norm_text(m)] for k, m in hs.get("warnings", [])]
        if wa != wb:
            only_a = [w for w in wa if w not in wb]
            only_b = [w for w in wb if w not in wa]
            self.add(
                "warnings",
                "warnings",
                f"FastAPI {short(only_a, self.limit)} | Hasten {short(only_b, self.limit)}",
            )


def compare(fa: dict[str, Any] | None, hs: dict[str, Any] | None, limit: int) -> Comparison:
    c = Comparison(limit)
    if fa is None or hs is None:
        c.add("runner", "record", f"no record from {'FastAPI' if fa is None else 'Hasten'}")
        return c
    for key in ("runner_error", "timeout", "undo_error"):
        if key in fa or key in hs:
            c.add("runner", key, f"FastAPI {fa.get(key)} | Hasten {hs.get(key)}")
    c.exceptions("declaration", "declaration", fa.get("declaration"), hs.get("declaration"))
    if "declaration" not in fa and "declaration" not in hs:  # else nothing ran after it
        c.steps(fa.get("steps", []), hs.get("steps", []))
        c.openapi(fa, hs)
    c.warnings(fa, hs)
    return c


# -- known differences -------------------------------------------------------------------------


def load_known(path: str = KNOWN) -> dict[str, str]:
    known: dict[str, str] = {}
    if not os.path.exists(path):
        return known
    with open(path) as f:
        for n, raw in enumerate(f, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            pid, sep, reason = line.partition("#")
            if not sep or not reason.strip():
                raise SystemExit(f"diff: {path}:{n}: every entry needs a '# reason'")
            known[pid.strip()] = reason.strip()
    return known


# -- main --------------------------------------------------------------------------------------


def select(ids: list[str], patterns: list[str]) -> list[str]:
    if not patterns:
        return ids
    return [i for i in ids if any(p in i for p in patterns)]


def lock() -> Any:
    """One run at a time per checkout (runs share the venv and the result files)."""
    os.makedirs(os.path.join(CACHE, "results"), exist_ok=True)
    lockf = open(os.path.join(CACHE, ".lock"), "w")
    try:
        fcntl.flock(lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("another run holds .diff/.lock; waiting for it")
        fcntl.flock(lockf, fcntl.LOCK_EX)
    return lockf


def wait_all(procs: dict[str, subprocess.Popen[str]], t0: float) -> bool:
    """Wait for the runners within the time budget; False when one failed or timed out."""
    ok = True
    for name, proc in procs.items():
        try:
            _, err = proc.communicate(timeout=max(5, RUN_TIMEOUT - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            log(f"the {name} runner exceeded {RUN_TIMEOUT}s and was stopped")
            ok = False
        if proc.returncode != 0:
            log(f"the {name} runner failed (exit {proc.returncode}):\n{err[-3000:]}")
            ok = False
    return ok


def check_envs(env_f: dict[str, Any] | None, env_h: dict[str, Any] | None, verbose: bool) -> bool:
    ok = True
    for name, env in (("FastAPI", env_f), ("Hasten", env_h)):
        if env is None:
            log(f"the {name} runner wrote no environment record (it did not finish)")
            ok = False
        elif env.get("leaks"):
            log(f"{name} environment loaded the other package: {env['leaks']}")
            ok = False
        elif verbose:
            log(
                f"{env['env']}: python {env['python']}, fastapi {env['fastapi_version']} "
                f"({env['fastapi_file']}), pydantic {env['pydantic']}, starlette "
                f"{env['starlette']}"
            )
    return ok


def run_both(args: argparse.Namespace, hpy: str, fpy: str, tag: str, ids: list[str]) -> bool:
    """Run the Hasten side, and the FastAPI side unless its records are up to date."""
    results = os.path.join(CACHE, "results")
    ids_file = os.path.join(results, f"ids-{tag}.txt")
    with open(ids_file, "w") as f:
        f.write("\n".join(ids) + "\n")
    out_f = os.path.join(results, f"fastapi-{tag}.jsonl")
    with open(os.path.join(os.path.dirname(os.path.dirname(fpy)), ".diff-requirements")) as f:
        key = tree_hash(f.read() + "\n".join(ids))
    key_f = out_f + ".key"
    have = open(key_f).read() if os.path.exists(key_f) else None
    reuse = not args.no_cache and have == key and os.path.exists(out_f)
    t0 = time.monotonic()
    out_h = os.path.join(results, f"hasten-{tag}.jsonl")
    for stale in [out_h] if reuse else [out_h, out_f]:
        if os.path.exists(stale):
            os.remove(stale)  # a runner that dies before writing must not leave old records
    procs = {}
    if not reuse:
        if have is not None:
            os.remove(key_f)
        procs["FastAPI"] = start_runner(fpy, "fastapi", out_f, ids_file)
    procs["Hasten"] = start_runner(hpy, "hasten", out_h, ids_file)
    ok = wait_all(procs, t0)
    if not reuse and procs["FastAPI"].returncode == 0:
        with open(key_f, "w") as f:
            f.write(key)
    return ok


def run(args: argparse.Namespace) -> int:
    lockf = lock()
    t0 = time.monotonic()
    hpy = hasten_python()
    info = describe_python(hpy)
    if args.list:
        # listed by the FastAPI environment when it exists (works while Hasten is broken)
        fpy = os.path.join(CACHE, f"venv-fastapi-py{info['version']}", "bin", "python")
        rows = list_probes(fpy, "fastapi") if os.path.exists(fpy) else list_probes(hpy)
        for pid, desc in rows:
            if select([pid], args.k):
                print(f"{pid}  {desc}" if desc else pid)
        return 0
    fpy = ensure_fastapi_venv(hpy, info, args.rebuild)
    ids = select([pid for pid, _ in list_probes(fpy, "fastapi")], args.k)
    if not ids:
        log("no probe selected")
        return 2
    tag = f"py{info['version']}"
    ok = run_both(args, hpy, fpy, tag, ids)
    recs_f, env_f = read_records(os.path.join(CACHE, "results", f"fastapi-{tag}.jsonl"))
    recs_h, env_h = read_records(os.path.join(CACHE, "results", f"hasten-{tag}.jsonl"))
    ok = check_envs(env_f, env_h, args.verbose) and ok
    if not recs_f or not recs_h:
        log("no records from one side; nothing to compare")
        print(f"diff: 0 of {len(ids)} probes identical")
        return 2
    code = report(ids, recs_f, recs_h, args, time.monotonic() - t0)
    lockf.close()
    return code if ok else 2


def print_probe(pid: str, c: Comparison, rec: dict[str, Any], tag: str, verbose: bool) -> None:
    print(f"--- {pid} [{tag}] ({', '.join(c.causes())})")
    if rec.get("description"):
        print(f"    ({rec['description'].splitlines()[0]})")
    if verbose and rec.get("source"):
        print("    source:\n" + "\n".join("      | " + ln for ln in rec["source"].splitlines()))
    lines = c.lines()
    for line in lines if verbose else lines[:12]:
        print(f"    {line}")
    if len(lines) > 12 and not verbose:
        print(f"    ... {len(lines) - 12} more (--verbose)")


def report(
    ids: list[str],
    recs_f: dict[str, Any],
    recs_h: dict[str, Any],
    args: argparse.Namespace,
    elapsed: float,
) -> int:
    known = load_known()
    by_cause: dict[str, list[str]] = {}
    identical: list[str] = []
    unexpected: list[str] = []
    for pid in ids:
        c = compare(recs_f.get(pid), recs_h.get(pid), 0 if args.verbose else 200)
        for note in c.notes if args.verbose else []:
            print(f"  note {pid}: {note}")
        if not c.findings:
            identical.append(pid)
            continue
        for cause in c.causes():
            by_cause.setdefault(cause, []).append(pid)
        tag = f"known: {known[pid]}" if pid in known else "DIFFERS"
        print_probe(pid, c, recs_f.get(pid) or recs_h.get(pid) or {}, tag, args.verbose)
        if pid not in known:
            unexpected.append(pid)
    if by_cause:
        print("\ndiffering probes by cause:")
        for cause in sorted(by_cause):
            print(f"  {cause} ({len(by_cause[cause])}): {' '.join(by_cause[cause])}")
    for pid in identical:
        if pid in known:
            print(f"note: {pid} is listed in known-differences.txt but is now identical")
    if unexpected:
        print(f"{len(unexpected)} differing probe(s) not in diff/known-differences.txt")
    print(f"(ran in {elapsed:.1f}s; records in .diff/results/)")
    print(f"diff: {len(identical)} of {len(ids)} probes identical")
    return 1 if unexpected else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/diff", description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="list probe ids and exit")
    ap.add_argument(
        "-k",
        action="append",
        default=[],
        metavar="SUBSTRING",
        help="run only probes whose id contains SUBSTRING (repeatable: any)",
    )
    ap.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="untruncated values, environment versions, compatible-exception notes",
    )
    ap.add_argument("--rebuild", action="store_true", help="recreate the FastAPI venv")
    ap.add_argument(
        "--no-cache",
        action="store_true",
        help="run the FastAPI side even when its records are up to date",
    )
    args = ap.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
