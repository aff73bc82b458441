"""scripts/ecosystem suites: the test suites of FastAPI libraries, run through the alias.

    scripts/ecosystem suites [-k NAME]... [-n WORKERS] [--baseline] [--update-floor]
                             [--rebuild] [--timeout S] [--total-timeout S] [--list]

Each suite of ``ecosystem/suites.toml`` is a library pinned to a version whose sdist ships its
tests. Per suite:

1. The sdist (``pip download --no-deps --no-binary NAME NAME==VERSION``) is downloaded into
   ``.ecosystem/suites/dist/`` and unpacked into ``.ecosystem/suites/src/`` (kept; third-party
   test code is never committed).
2. A venv per suite and mode, ``.ecosystem/suites/venvs/NAME-hasten`` or ``NAME-fastapi``, holds
   the library (its wheel, pinned), the suite's test requirements and pytest-timeout; recreated
   only when its inputs change (requirements, mode, Python, hasten's pyproject.toml, this
   script's VENV_LAYOUT). Mode *hasten* (the default): hasten installed editable from this repo
   (``pip install -e .[standard]``), the real ``fastapi`` distribution uninstalled, and a ``.pth``
   hook that installs the ``fastapi`` -> ``hasten`` alias in every interpreter when
   ``HASTEN_FASTAPI_ALIAS=1`` (as ``scripts/compat`` does); a stub ``fastapi`` dist-info is on
   PYTHONPATH for the run only, for libraries that read the installed version. Mode *fastapi*
   (``--baseline``): real FastAPI with its ``standard`` extra, the release in
   ``compat/FASTAPI_VERSION``.
3. pytest runs from the unpacked sdist with the suite's paths and arguments, its deselections
   (each with a reason in the toml), a per-test timeout and a per-suite timeout; a small plugin
   records each test's outcome and the first line of its error.

``--baseline`` runs the suites on real FastAPI and writes their pass counts into
``ecosystem/baselines.txt`` (committed, with the date and the versions). The default run counts
P (passed) of N (every test reported, a file that fails to collect counting as the tests the
baseline found in it, at least 1) and prints ``NAME: P of N passed (baseline B of N, floor F)``
per suite and as its last line ``suites: S suites, P passed of N (X.X% of baseline)``. Exit
status 1 when a suite is below its floor (``ecosystem/floors.txt``) or below 95% of its
baseline, or when all suites together are below 98% of theirs. ``--update-floor`` raises floors
to the counts reached. What failed is listed, grouped by the first line of its error, in
``.ecosystem/suites/report.txt`` (tests that also fail on FastAPI are marked).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "ecosystem" / "suites.toml"
BASELINES = ROOT / "ecosystem" / "baselines.txt"
FLOORS = ROOT / "ecosystem" / "floors.txt"
# HASTEN_ECOSYSTEM_CACHE moves the cache, as for the census (default: .ecosystem/ in the repo).
CACHE = Path(os.environ.get("HASTEN_ECOSYSTEM_CACHE") or ROOT / ".ecosystem").resolve() / "suites"
FASTAPI_VERSION = (ROOT / "compat" / "FASTAPI_VERSION").read_text().strip()
VENV_LAYOUT = "3"  # bump when the venv recipe below changes: every venv is rebuilt
SUITE_RATIO = 0.95
OVERALL_RATIO = 0.98
# pytest-timeout for the per-test limit (--timeout=60).
COMMON_REQS = ["pytest-timeout>=2.3"]

PLUGIN = '''\
"""Written by ecosystem/suites.py: one JSON line per test outcome (PYTEST_DONT_REWRITE)."""
import json
import os


def _first_line(longrepr):
    crash = getattr(longrepr, "reprcrash", None)
    msg = getattr(crash, "message", None)
    if isinstance(msg, str) and msg.strip():
        return msg.strip().splitlines()[0][:300]
    lines = [ln for ln in str(longrepr or "").splitlines() if ln.strip()]
    marked = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
    return (marked[-1] if marked else lines[-1].strip() if lines else "")[:300]


class _Recorder:
    def __init__(self, path):
        self.out = open(path, "a", encoding="utf-8")

    def _write(self, **rec):
        self.out.write(json.dumps(rec) + "\\n")
        self.out.flush()

    def pytest_collectreport(self, report):
        if report.failed:
            self._write(nodeid=report.nodeid, when="collect", outcome="error",
                        message=_first_line(report.longrepr))

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.failed or report.skipped:
            xfail = hasattr(report, "wasxfail")
            msg = _first_line(report.longrepr) if report.failed else ""
            self._write(nodeid=report.nodeid, when=report.when, outcome=report.outcome,
                        xfail=xfail, message=msg)


def pytest_configure(config):
    path = os.environ.get("HASTEN_ECO_RESULTS")
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Recorder(path), "hasten-eco-recorder")
'''

# Written into each hasten-mode venv: the alias in every interpreter when HASTEN_FASTAPI_ALIAS=1
# (the same hook as scripts/compat's; it loads hasten/compat/_alias.py without importing hasten).
ALIAS_BOOT = '''\
"""Written by hasten's ecosystem/suites.py: `fastapi` -> `hasten` when HASTEN_FASTAPI_ALIAS=1."""
import os

if os.environ.get("HASTEN_FASTAPI_ALIAS", "").strip().lower() in {"1", "true", "yes", "on"}:
    import importlib.util
    import sys

    _spec = importlib.util.find_spec("hasten")
    if _spec is not None and _spec.submodule_search_locations:
        _path = os.path.join(list(_spec.submodule_search_locations)[0], "compat", "_alias.py")
        _mod = sys.modules.get("_hasten_compat_alias")
        if _mod is None:
            _alias_spec = importlib.util.spec_from_file_location("_hasten_compat_alias", _path)
            if _alias_spec is not None and _alias_spec.loader is not None:
                _mod = importlib.util.module_from_spec(_alias_spec)
                sys.modules[_alias_spec.name] = _mod
                _alias_spec.loader.exec_module(_mod)
        if _mod is not None:
            _mod.install_from_env()
'''

_print_lock = threading.Lock()


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def log(msg: str) -> None:
    with _print_lock:
        print(f"suites: {msg}", file=sys.stderr, flush=True)


@dataclass
class Suite:
    name: str
    version: str
    install: str  # the pip requirement of the library, without the version
    requires: list[str]
    paths: list[str]
    args: list[str]
    deselect: dict[str, str]
    ignore: dict[str, str]
    timeout: int
    env: dict[str, str]

    @property
    def dist_name(self) -> str:
        return re.split(r"[\[<>=!~; ]", self.install, maxsplit=1)[0]


@dataclass
class Result:
    suite: str
    mode: str
    passed: int = 0
    total: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # nodeid -> first error line
    file_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""


def load_suites() -> tuple[dict[str, Suite], dict[str, object]]:
    data = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    defaults = data.get("defaults", {})
    suites = {}
    for name, raw in data["suite"].items():
        suites[name] = Suite(
            name=name,
            version=raw["version"],
            install=raw.get("install", name),
            requires=list(raw.get("requires", [])),
            paths=list(raw.get("paths", ["tests"])),
            args=list(raw.get("args", [])),
            deselect=dict(raw.get("deselect", {})),
            ignore=dict(raw.get("ignore", {})),
            timeout=int(raw.get("timeout", defaults.get("timeout", 600))),
            env=dict(raw.get("env", {})),
        )
    return suites, defaults


def read_table(path: Path) -> dict[str, list[str]]:
    """``name<TAB>fields...`` lines of a committed table; ``#`` starts a comment."""
    out: dict[str, list[str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                name, *rest = line.split()
                out[name] = rest
    return out


def run(cmd: list[str], logfile: Path, **kw: object) -> None:
    with open(logfile, "a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False, **kw)  # type: ignore[call-overload]
    if proc.returncode:
        tail = logfile.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed:\n  " + "\n  ".join(tail))


# -- sources -----------------------------------------------------------------------------------
_download_lock = threading.Lock()


def fetch_sdist(suite: Suite) -> Path:
    """The unpacked sdist of the suite's library (downloaded once)."""
    dist = CACHE / "dist"
    src = CACHE / "src"
    marker = src / f".{suite.dist_name}-{suite.version}"
    if marker.exists():
        return Path(marker.read_text().strip())
    dist.mkdir(parents=True, exist_ok=True)
    src.mkdir(parents=True, exist_ok=True)
    want = re.sub(r"[-_.]+", "_", f"{suite.dist_name}-{suite.version}").lower()

    def find() -> Path | None:
        for f in dist.glob("*.tar.gz"):
            if re.sub(r"[-_.]+", "_", f.name[: -len(".tar.gz")]).lower() == want:
                return f
        return None

    tarball = find()
    if tarball is None:
        logf = CACHE / "logs" / f"{suite.name}-download.log"
        logf.parent.mkdir(parents=True, exist_ok=True)
        with _download_lock:
            run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "--no-binary",
                    suite.dist_name,
                    f"{suite.dist_name}=={suite.version}",
                    "-d",
                    str(dist),
                ],
                logf,
            )
        tarball = find()
        if tarball is None:
            raise RuntimeError(f"no sdist {suite.dist_name}-{suite.version}.tar.gz in {dist}")
    with tarfile.open(tarball) as tf:
        top = tf.getnames()[0].split("/", 1)[0]
        tf.extractall(src, filter="data")
    marker.write_text(str(src / top))
    return src / top


def write_support() -> tuple[Path, Path]:
    """The results plugin's directory and the stub ``fastapi`` dist-info's directory."""
    plugin_dir = CACHE / "plugin"
    plugin_dir.mkdir(parents=True, exist_ok=True)
    (plugin_dir / "_hasten_eco_results.py").write_text(PLUGIN)
    stub = CACHE / "stub"
    info = stub / f"fastapi-{FASTAPI_VERSION}.dist-info"
    if not (info / "METADATA").exists():
        shutil.rmtree(stub, ignore_errors=True)
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: fastapi\nVersion: {FASTAPI_VERSION}\n"
            "Summary: stub record: fastapi is answered by hasten (hasten.compat)\n"
        )
        (info / "INSTALLER").write_text("hasten-ecosystem\n")
    return plugin_dir, stub


# -- venvs -------------------------------------------------------------------------------------
def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(suite: Suite, mode: str, rebuild: bool) -> Path:
    venv = CACHE / "venvs" / f"{suite.name}-{mode}"
    reqs = [f"{suite.install}=={suite.version}", *suite.requires, *COMMON_REQS]
    if mode == "fastapi":
        # With its `standard` extra, as Hasten is installed with its own (both bring httpx2,
        # which Starlette's TestClient then uses).
        reqs.append(f"fastapi[standard]=={FASTAPI_VERSION}")
    inputs = "\n".join(
        [
            VENV_LAYOUT,
            mode,
            sys.version,
            *reqs,
            (ROOT / "pyproject.toml").read_text() if mode == "hasten" else "",
        ]
    )
    digest = hashlib.sha256(inputs.encode()).hexdigest()
    stamp = venv / ".hasten-eco-inputs"
    if not rebuild and stamp.exists() and stamp.read_text() == digest:
        return venv
    logf = CACHE / "logs" / f"{suite.name}-{mode}-pip.log"
    logf.parent.mkdir(parents=True, exist_ok=True)
    logf.write_text("")
    log(f"{suite.name}: creating the {mode} venv ({_rel(venv)})")
    shutil.rmtree(venv, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    run([base, "-m", "venv", str(venv)], logf)
    py = str(venv_python(venv))
    run(
        [
            py,
            "-m",
            "pip",
            "install",
            "-q",
            *reqs,
            *(hasten_requirements() if mode == "hasten" else []),
        ],
        logf,
    )
    if mode == "hasten":
        # hasten itself, editable (`pip install -e .[standard]`, its dependencies installed just
        # above); one at a time: setuptools writes hasten.egg-info into the repository.
        with open(CACHE / ".editable.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            run([py, "-m", "pip", "install", "-q", "--no-deps", "-e", f"{ROOT}[standard]"], logf)
        check = subprocess.run([py, "-m", "pip", "show", "-q", "fastapi"], capture_output=True)
        if check.returncode == 0:
            run([py, "-m", "pip", "uninstall", "-q", "-y", "fastapi"], logf)
        site = subprocess.run(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        Path(site, "_hasten_eco_alias.py").write_text(ALIAS_BOOT)
        # Sorted after setuptools' __editable__ .pth, so hasten can be located when it runs.
        Path(site, "zz_hasten_eco_alias.pth").write_text("import _hasten_eco_alias\n")
    stamp.write_text(digest)
    return venv


def hasten_requirements() -> list[str]:
    """Hasten's declared dependencies with its ``standard`` extra (pyproject.toml)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["standard"]]


# -- running -----------------------------------------------------------------------------------
def run_suite(suite: Suite, mode: str, rebuild: bool, deadline: float) -> Result:
    res = Result(suite.name, mode)
    t0 = time.monotonic()
    try:
        src = fetch_sdist(suite)
        venv = ensure_venv(suite, mode, rebuild)
    except Exception as exc:  # reported as the suite's failure
        res.note = f"setup failed: {exc}"
        res.seconds = time.monotonic() - t0
        return res
    plugin_dir, stub = write_support()
    results = CACHE / "results" / f"{suite.name}-{mode}.jsonl"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HASTEN_"))}
    env.pop("VIRTUAL_ENV", None)
    env.pop("CI", None)  # the same run locally and in CI (some suites skip tests under CI)
    env.update(
        {
            "HASTEN_ECO_RESULTS": str(results),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": str(plugin_dir) + (os.pathsep + str(stub) if mode == "hasten" else ""),
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    env.update(suite.env)
    if mode == "hasten":
        env["HASTEN_FASTAPI_ALIAS"] = "1"
    cmd = [
        str(venv_python(venv)), "-m", "pytest", "-p", "_hasten_eco_results",
        "-p", "no:cacheprovider", "--timeout=60", "-q", "--tb=short", "-rN",
        "--continue-on-collection-errors",
        *[f"--deselect={n}" for n in suite.deselect],
        *[f"--ignore={p}" for p in suite.ignore],
        *suite.args, *suite.paths,
    ]  # fmt: skip
    if not has_pytest_config(src):
        # Without a config of its own, pytest would take this repository's pyproject.toml.
        empty = CACHE / "empty-pytest.ini"
        empty.write_text("[pytest]\n")
        cmd[3:3] = ["-c", str(empty), f"--rootdir={src}"]
    budget = max(30, min(suite.timeout, deadline - time.monotonic()))
    logf = CACHE / "logs" / f"{suite.name}-{mode}-pytest.log"
    with open(logf, "w", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.Popen(
            cmd, cwd=src, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            res.note = f"stopped at the {budget:.0f}s limit"
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    if proc.returncode not in (0, 1) and not res.note:
        res.note = f"pytest exited with status {proc.returncode} (see {_rel(logf)})"
    count(res, results)
    if not res.total and proc.returncode not in (0, 1):
        # Nothing ran (a conftest failed to import, a usage error): the log says why.
        lines = logf.read_text(encoding="utf-8", errors="replace").splitlines()
        errors = [ln[1:].strip() for ln in lines if ln.startswith("E ")] or lines[-1:]
        res.failed["<session>"] = f"[session] {errors[-1][:300] if errors else '(no output)'}"
    res.seconds = time.monotonic() - t0
    return res


def has_pytest_config(src: Path) -> bool:
    """Whether the unpacked sdist holds a pytest configuration (else pytest looks upward)."""
    if (src / "pytest.ini").exists() or (src / ".pytest.ini").exists():
        return True
    checks = {"pyproject.toml": "[tool.pytest", "tox.ini": "[pytest]", "setup.cfg": "[tool:pytest]"}
    for name, marker in checks.items():
        path = src / name
        if path.exists() and marker in path.read_text(encoding="utf-8", errors="replace"):
            return True
    return False


def count(res: Result, results: Path) -> None:
    """Fill ``res`` from the recorder's JSON lines (outcome per test, as scripts/compat does)."""
    items: dict[str, list[str]] = {}
    collect_errors: dict[str, str] = {}
    if results.exists():
        for line in results.read_text(encoding="utf-8").splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            nid = r["nodeid"]
            if r["when"] == "collect":
                collect_errors.setdefault(nid or "<session>", r["message"])
                continue
            cur = items.setdefault(nid, ["passed", ""])
            if r["outcome"] == "failed" and cur[0] != "failed":
                prefix = "" if r["when"] == "call" else f"[{r['when']}] "
                items[nid] = ["failed", prefix + r["message"]]
            elif r["outcome"] == "skipped" and cur[0] != "failed":
                items[nid] = ["skipped", ""]
    base_counts = load_file_counts(res.suite)
    res.file_counts = dict(collections.Counter(n.split("::", 1)[0] for n in items))
    res.passed = sum(1 for o, _ in items.values() if o == "passed")
    res.total = len(items)
    for nid, (outcome, msg) in items.items():
        if outcome == "failed":
            res.failed[nid] = msg
    for nid, msg in collect_errors.items():
        n = max(1, base_counts.get(nid, 0) - res.file_counts.get(nid, 0))
        res.total += n
        res.failed[f"{nid} ({n} tests)"] = f"[collection] {msg}"


def load_file_counts(name: str) -> dict[str, int]:
    path = CACHE / "results" / f"{name}-fastapi-files.json"
    return json.loads(path.read_text()) if path.exists() else {}


# -- reporting ---------------------------------------------------------------------------------
def write_report(results: list[Result], path: Path) -> None:
    lines = [f"ecosystem suites report, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"]
    for res in results:
        base_fail = baseline_failures(res.suite) if res.mode == "hasten" else set()
        lines += ["", "=" * 78, f"{res.suite} ({res.mode}): {res.passed} of {res.total} passed"]
        if res.note:
            lines.append(f"  note: {res.note}")
        groups: dict[str, list[str]] = collections.defaultdict(list)
        for nid, msg in res.failed.items():
            groups[msg or "(no message)"].append(nid)
        for msg, nids in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"\n{len(nids):5d}  {msg}")
            for nid in nids[:4]:
                mark = "  (fails on FastAPI too)" if nid in base_fail else ""
                lines.append(f"         e.g. {nid}{mark}")
            if len(nids) > 4:
                lines.append(f"         ... and {len(nids) - 4} more")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def baseline_failures(name: str) -> set[str]:
    path = CACHE / "results" / f"{name}-fastapi-failed.txt"
    return set(path.read_text().splitlines()) if path.exists() else set()


def save_baseline(results: list[Result], suites: dict[str, Suite]) -> None:
    table = read_table(BASELINES)
    today = datetime.date.today().isoformat()
    pyv = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for res in results:
        s = suites[res.suite]
        table[res.suite] = [s.version, str(res.passed), str(res.total), today, f"py{pyv}"]
    header = (
        "# ecosystem/baselines.txt: each suite on real FastAPI "
        f"{FASTAPI_VERSION} (scripts/ecosystem suites --baseline).\n"
        "# name  version  passed  total  date  python\n"
    )
    body = "".join(f"{n}\t{chr(9).join(v)}\n" for n, v in sorted(table.items()) if n in suites)
    BASELINES.write_text(header + body, encoding="utf-8")


def update_floors(results: list[Result]) -> None:
    table = read_table(FLOORS)
    for res in results:
        old = int(table.get(res.suite, ["0"])[0])
        table[res.suite] = [str(max(old, res.passed))]
        if res.passed > old:
            log(f"{res.suite}: floor raised from {old} to {res.passed}")
    header = (
        "# ecosystem/floors.txt: passed tests per suite through the alias, never to go down\n"
        "# (scripts/ecosystem suites --update-floor raises them).\n"
    )
    FLOORS.write_text(header + "".join(f"{n}\t{v[0]}\n" for n, v in sorted(table.items())))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="scripts/ecosystem suites", description=__doc__.split("\n")[0]
    )
    ap.add_argument("-k", dest="only", action="append", default=[], help="run this suite only")
    ap.add_argument("-n", dest="workers", type=int, default=2, help="suites run at once")
    ap.add_argument("--baseline", action="store_true", help="run on real FastAPI, record")
    ap.add_argument("--update-floor", action="store_true", help="raise floors to the counts")
    ap.add_argument("--rebuild", action="store_true", help="recreate the venvs")
    ap.add_argument("--total-timeout", type=int, default=1500, help="seconds for the whole run")
    ap.add_argument("--list", action="store_true", help="list the suites and exit")
    opts = ap.parse_args(argv)
    suites, _ = load_suites()
    if opts.list:
        for s in suites.values():
            print(f"{s.name}\t{s.version}")
        return 0
    unknown = [k for k in opts.only if k not in suites]
    if unknown:
        ap.error(f"unknown suite(s): {', '.join(unknown)} (see --list)")
    chosen = [suites[k] for k in (opts.only or suites)]
    mode = "fastapi" if opts.baseline else "hasten"
    CACHE.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    deadline = t0 + opts.total_timeout
    results: dict[str, Result] = {}
    with concurrent.futures.ThreadPoolExecutor(max(1, opts.workers)) as pool:
        futures = {pool.submit(run_suite, s, mode, opts.rebuild, deadline): s for s in chosen}
        for fut in concurrent.futures.as_completed(futures):
            res = fut.result()
            results[res.suite] = res
            note = f" [{res.note}]" if res.note else ""
            log(
                f"{res.suite} ({mode}) done in {res.seconds:.0f}s: {res.passed} of {res.total}{note}"
            )
    ordered = [results[s.name] for s in chosen]
    if mode == "fastapi":
        for res in ordered:
            out = CACHE / "results" / f"{res.suite}-fastapi"
            Path(f"{out}-files.json").write_text(json.dumps(res.file_counts))
            Path(f"{out}-failed.txt").write_text("\n".join(sorted(res.failed)))
    report = CACHE / ("report-baseline.txt" if opts.baseline else "report.txt")
    write_report(ordered, report)
    elapsed = time.monotonic() - t0
    if opts.baseline:
        save_baseline(ordered, suites)
        for res in ordered:
            print(f"{res.suite}: {res.passed} of {res.total} passed on FastAPI {FASTAPI_VERSION}")
        print(f"suites: baseline recorded in {BASELINES.relative_to(ROOT)} ({elapsed:.0f}s)")
        return 0
    return judge(ordered, suites, opts.update_floor, report, elapsed)


def judge(
    ordered: list[Result],
    suites: dict[str, Suite],
    update_floor: bool,
    report: Path,
    elapsed: float,
) -> int:
    baselines = read_table(BASELINES)
    floors = read_table(FLOORS)
    bad = []
    sum_p = sum_n = sum_b = 0
    for res in ordered:
        b_row = baselines.get(res.suite)
        if b_row and b_row[0] != suites[res.suite].version:
            bad.append(f"{res.suite}: baseline is for version {b_row[0]}; run --baseline")
        b = int(b_row[1]) if b_row else 0
        bn = int(b_row[2]) if b_row else 0
        floor = int(floors.get(res.suite, ["0"])[0])
        n = max(res.total, bn)
        note = f" [{res.note}]" if res.note else ""
        print(
            f"{res.suite}: {res.passed} of {n} passed (baseline {b} of {bn}, floor {floor}){note}"
        )
        sum_p += res.passed
        sum_n += n
        sum_b += b
        if not b_row:
            bad.append(
                f"{res.suite}: no baseline (scripts/ecosystem suites --baseline -k {res.suite})"
            )
        if res.passed < floor:
            bad.append(f"{res.suite}: {res.passed} passed is below its floor {floor}")
        if res.passed < SUITE_RATIO * b:
            bad.append(f"{res.suite}: {res.passed} passed is below 95% of its baseline {b}")
    if update_floor:
        update_floors(ordered)
    pct = 100.0 * sum_p / sum_b if sum_b else 0.0
    if sum_p < OVERALL_RATIO * sum_b:
        bad.append(f"overall {sum_p} passed is below 98% of the baselines' {sum_b}")
    for line in bad:
        log(f"FAIL: {line}")
    log(f"report: {_rel(report)}; {elapsed:.0f}s")
    print(f"suites: {len(ordered)} suites, {sum_p} passed of {sum_n} ({pct:.1f}% of baseline)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
