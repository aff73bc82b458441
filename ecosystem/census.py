"""scripts/ecosystem census: which names do the packages built on FastAPI take from it?

    scripts/ecosystem census [--report FILE] [--packages FILE] [--offline]

1. Downloads (``pip download --no-deps``, a wheel when there is one, the sdist otherwise) every
   package pinned in ``ecosystem/packages.txt`` into ``.ecosystem/dist/`` (kept: a re-run
   downloads nothing).
2. Scans every ``.py`` file of each archive (tests, docs and examples left out) with ``ast``:
   ``from fastapi[.x] import Y``, ``import fastapi.x`` and attribute chains on a name bound to a
   FastAPI module (``fastapi.routing.get_request_handler``). Scans are cached per archive in
   ``.ecosystem/scan/``.
3. Resolves every (module, name) pair twice, each in a subprocess: on real FastAPI (the release
   in ``compat/FASTAPI_VERSION``, in its own venv ``.ecosystem/venv-fastapi``) and on Hasten
   through the alias (``hasten.compat.install()``, this interpreter). A name is *missing* when
   FastAPI has it and Hasten does not. Names FastAPI lacks as well (a library's fallback for
   another FastAPI release, behind ``try``/``except ImportError``) are listed but not counted.

Prints each missing name with the packages that use it, and as its last line
``census: N names used by M packages, K missing`` (N: distinct names, M: packages that import
FastAPI). Exit status 1 when K > 0, or when a listed package does not import FastAPI at all
(the list must hold only packages built on FastAPI). ``--report FILE`` writes the full table.
``HASTEN_ECOSYSTEM_CACHE`` moves the cache (default: ``.ecosystem/`` in the repository).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tarfile
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("HASTEN_ECOSYSTEM_CACHE") or ROOT / ".ecosystem").resolve()
DIST = CACHE / "dist"
SCANS = CACHE / "scan"
REF_VENV = CACHE / "venv-fastapi"
PACKAGES = ROOT / "ecosystem" / "packages.txt"
SCAN_VERSION = 4  # bump when the scanner changes: cached scans are redone
ALIAS = "fastapi"
# Path parts whose files are not the library's own code.
SKIP_PARTS = frozenset(
    {"tests", "test", "testing", "docs", "docs_src", "examples", "example", "benchmarks"}
)

Pair = tuple[str, str]  # (module, name); name "" for the module itself


# -- the package list ----------------------------------------------------------------------------


def read_packages(path: Path) -> list[tuple[str, str]]:
    """``name==version`` lines (``#`` comments, blank lines ignored) as (name, version)."""
    out = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not version.strip():
            sys.exit(f"census: {path.name}: not pinned as name==version: {raw!r}")
        out.append((name.strip(), version.strip()))
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def find_archive(name: str, version: str) -> Path | None:
    """The cached wheel or sdist of name==version, if downloaded."""
    if not DIST.is_dir():
        return None
    want = f"{_norm(name)}-{version}".lower()
    for f in sorted(DIST.iterdir()):
        base = f.name.lower()
        for ext in (".whl", ".tar.gz", ".zip", ".tgz"):
            if base.endswith(ext):
                stem = base[: -len(ext)]
                head = "-".join(stem.split("-")[:2]) if ext == ".whl" else stem
                if _norm(head.rsplit("-", 1)[0]) + "-" + head.rsplit("-", 1)[-1] == want:
                    return f
    return None


def _pip_download(reqs: list[str]) -> int:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--prefer-binary", "-q"]
    cmd += ["--ignore-requires-python"]
    cmd += ["--disable-pip-version-check", "-d", str(DIST), *reqs]
    log = CACHE / "pip-download.log"
    with log.open("a") as fh:
        return subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT).returncode


def download(packages: list[tuple[str, str]], offline: bool) -> list[str]:
    """Download what is not cached (one pip call, then one per package if that fails)."""
    DIST.mkdir(parents=True, exist_ok=True)
    todo = [f"{n}=={v}" for n, v in packages if find_archive(n, v) is None]
    if not todo or offline:
        return todo
    print(f"census: downloading {len(todo)} package(s) into {DIST}/")
    if _pip_download(todo) != 0:
        for req in todo:
            _pip_download([req])
    return [f"{n}=={v}" for n, v in packages if find_archive(n, v) is None]


# -- scanning ------------------------------------------------------------------------------------


def _members(archive: Path) -> Iterator[tuple[str, bytes]]:
    """(path, source) of every .py file in a wheel or sdist."""
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.filename.endswith(".py"):
                    yield info.filename, zf.read(info)
        return
    with tarfile.open(archive) as tf:
        for member in tf.getmembers():
            if member.isfile() and member.name.endswith(".py"):
                fh = tf.extractfile(member)
                if fh is not None:
                    yield member.name, fh.read()


def _is_library_file(path: str, wheel: bool) -> bool:
    parts = path.split("/")
    # A vendored copy of FastAPI itself (a top-level fastapi/ package) is not a use of it.
    start = 0 if wheel else 1  # an sdist's files sit under name-version/
    if parts[start : start + 1] == ["src"]:
        start += 1
    if parts[start : start + 1] == [ALIAS]:
        return False
    if any(p in SKIP_PARTS for p in parts[:-1]):
        return False
    base = parts[-1]
    return not (base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py")


class _Visitor(ast.NodeVisitor):
    """Collects the FastAPI names one file uses."""

    def __init__(self) -> None:
        self.pairs: set[Pair] = set()
        self.chains: set[str] = set()
        self.bound: dict[str, str] = {}  # local name -> dotted FastAPI path it stands for

    @staticmethod
    def _ours(module: str | None) -> bool:
        return module is not None and (module == ALIAS or module.startswith(ALIAS + "."))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not self._ours(alias.name):
                continue
            self.pairs.add((alias.name, ""))
            if alias.asname:
                self.bound[alias.asname] = alias.name
            else:
                self.bound[ALIAS] = ALIAS

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not self._ours(node.module):
            return
        assert node.module is not None
        for alias in node.names:
            if alias.name == "*":
                self.pairs.add((node.module, ""))
                continue
            self.pairs.add((node.module, alias.name))
            self.bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts: list[str] = []
        cur: ast.expr = node
        while isinstance(cur, ast.Attribute):
            parts.append(cur.attr)
            cur = cur.value
        if isinstance(cur, ast.Name) and cur.id in self.bound:
            chain = [self.bound[cur.id], *reversed(parts)]
            self.chains.add(".".join(chain))
            return  # the whole chain is recorded; its inner attributes need no visit
        self.generic_visit(node)


def scan_source(source: bytes) -> tuple[set[Pair], set[str]]:
    """The FastAPI (module, name) pairs and attribute chains of one file's source."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(source)
    visitor = _Visitor()
    # Imports first (anywhere in the file), so chains see every name bound to FastAPI.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            visitor.visit(node)
    visitor.visit(tree)
    return visitor.pairs, visitor.chains


def scan_archive(archive: Path) -> dict:
    """Scan one archive (cached by file name and size)."""
    SCANS.mkdir(parents=True, exist_ok=True)
    cache = SCANS / (archive.name + ".json")
    size = archive.stat().st_size
    if cache.exists():
        data = json.loads(cache.read_text())
        if data.get("size") == size and data.get("version") == SCAN_VERSION:
            return data
    pairs: dict[str, list[str]] = {}
    chains: dict[str, list[str]] = {}
    errors = 0
    wheel = archive.name.endswith(".whl")
    for path, source in _members(archive):
        if b"fastapi" not in source or not _is_library_file(path, wheel):
            continue
        try:
            p, c = scan_source(source)
        except (SyntaxError, ValueError):
            errors += 1
            continue
        for module, name in p:
            pairs.setdefault(f"{module}:{name}", []).append(path)
        for chain in c:
            chains.setdefault(chain, []).append(path)
    data = {"version": SCAN_VERSION, "size": size, "pairs": pairs, "chains": chains}
    data["unparsable"] = errors
    cache.write_text(json.dumps(data, indent=0, sort_keys=True))
    return data


# -- resolving names (run in a subprocess: `census.py --resolve`) ---------------------------------


def _resolve_pair(module: str, name: str) -> str:
    """'' when ``from module import name`` (or ``import module``) works here, else why not."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except Exception as exc:
        return f"import {module}: {type(exc).__name__}: {exc}"
    if not name or hasattr(mod, name):
        return ""
    try:
        importlib.import_module(f"{module}.{name}")
    except ModuleNotFoundError:
        return f"{module} has no {name}"
    except Exception as exc:
        return f"import {module}.{name}: {type(exc).__name__}: {exc}"
    return ""


def _split_chain(chain: str) -> Pair | None:
    """``fastapi.routing.get_request_handler.x`` -> (longest importable module, next name)."""
    import importlib

    parts = chain.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:i])
        try:
            importlib.import_module(module)
        except Exception:
            continue
        return module, parts[i]
    return None


def resolve_main(alias: bool) -> None:
    """Read {"pairs": [...], "chains": [...]} on stdin; write what resolves to stdout."""
    warnings.simplefilter("ignore")
    if alias:
        import hasten.compat

        hasten.compat.install()
    request = json.load(sys.stdin)
    result: dict[str, object] = {
        "pairs": {key: _resolve_pair(*key.split(":", 1)) for key in request["pairs"]},
        "chains": {},
    }
    chains: dict[str, object] = {}
    for chain in request["chains"]:
        split = _split_chain(chain)
        chains[chain] = None if split is None else f"{split[0]}:{split[1]}"
    result["chains"] = chains
    import fastapi

    result["answered_by"] = getattr(fastapi, "__file__", "?")
    json.dump(result, sys.stdout)


def _ref_python() -> Path:
    """The interpreter of the real-FastAPI venv, made (once) when missing or outdated."""
    version = (ROOT / "compat" / "FASTAPI_VERSION").read_text().strip()
    py = REF_VENV / "bin" / "python"
    stamp = REF_VENV / "fastapi-version"
    if py.exists() and stamp.exists() and stamp.read_text().strip() == version:
        return py
    print(f"census: making {REF_VENV} (fastapi=={version})")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(REF_VENV)], check=True)
    # FastAPI's optional imports too (templating, testclient, forms), as an app would have them.
    extras = ["jinja2", "httpx", "python-multipart", "email-validator"]
    with (CACHE / "pip-venv.log").open("w") as fh:
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            + [f"fastapi=={version}", *extras],
            check=True,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    stamp.write_text(version + "\n")
    return py


def _resolve(python: Path | str, alias: bool, pairs: Iterable[str], chains: Iterable[str]) -> dict:
    cmd = [str(python), str(Path(__file__).resolve()), "--resolve"]
    if alias:
        cmd.append("--alias")
    payload = json.dumps({"pairs": sorted(pairs), "chains": sorted(chains)})
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HASTEN_FASTAPI_ALIAS")}
    proc = subprocess.run(
        cmd, input=payload, capture_output=True, text=True, env=env, cwd=str(CACHE), check=False
    )
    if proc.returncode != 0:
        sys.exit(f"census: resolving names failed ({' '.join(cmd)}):\n{proc.stderr}")
    return json.loads(proc.stdout)


# -- the census ----------------------------------------------------------------------------------


def _fmt(key: str) -> str:
    module, name = key.split(":", 1)
    return f"{module}.{name}" if name else module


def _collect(
    packages: list[tuple[str, str]],
) -> tuple[dict[str, set[str]], dict[str, set[str]], list[str]]:
    """Scan every archive: ("module:name" -> packages, chain -> packages, packages that
    import nothing from FastAPI)."""
    used: dict[str, set[str]] = {}
    chain_users: dict[str, set[str]] = {}
    silent: list[str] = []
    for name, version in packages:
        archive = find_archive(name, version)
        assert archive is not None
        data = scan_archive(archive)
        if not data["pairs"]:
            silent.append(f"{name}=={version}")
        for key in data["pairs"]:
            used.setdefault(key, set()).add(name)
        for chain in data["chains"]:
            chain_users.setdefault(chain, set()).add(name)
    return used, chain_users, silent


def _print_findings(used: dict[str, set[str]], missing: dict, absent: list, silent: list) -> None:
    for key in sorted(missing, key=lambda k: (-len(used[k]), k)):
        print(f"MISSING {_fmt(key)}  ({missing[key]})")
        print(f"        used by: {', '.join(sorted(used[key]))}")
    if absent:
        print(f"census: {len(absent)} name(s) FastAPI {ref_version()} lacks as well (not counted):")
        for key in absent:
            print(f"        {_fmt(key)}  used by: {', '.join(sorted(used[key]))}")
    if silent:
        print(f"census: listed but never import fastapi: {', '.join(silent)}")


def census(args: argparse.Namespace) -> int:
    packages = read_packages(Path(args.packages))
    CACHE.mkdir(exist_ok=True)
    failed = download(packages, args.offline)
    if failed:
        print(f"census: could not download: {', '.join(failed)} (see {CACHE}/pip-download.log)")
        return 2

    used, chain_users, silent = _collect(packages)
    # Attribute chains are split into (module, name) where real FastAPI has the module.
    ref = _resolve(_ref_python(), False, used, chain_users)
    for chain, key in ref["chains"].items():
        if key is not None:
            used.setdefault(key, set()).update(chain_users[chain])
    ref_pairs = ref["pairs"]
    ref_pairs.update(_resolve(_ref_python(), False, used.keys() - ref_pairs.keys(), [])["pairs"])
    ours = _resolve(sys.executable, True, used, [])
    if "hasten" not in ours["answered_by"]:
        sys.exit(f"census: the alias did not answer `fastapi` ({ours['answered_by']})")

    missing = {k: v for k, v in ours["pairs"].items() if v and not ref_pairs.get(k)}
    absent = sorted(k for k, v in ref_pairs.items() if v)
    users = {p for pkgs in used.values() for p in pkgs}

    _print_findings(used, missing, absent, silent)
    if args.report:
        _write_report(Path(args.report), used, missing, absent)
    n = len(used) - len(absent)
    print(f"census: {n} names used by {len(users)} packages, {len(missing)} missing")
    return 1 if missing or silent else 0


def ref_version() -> str:
    return (ROOT / "compat" / "FASTAPI_VERSION").read_text().strip()


def _write_report(path: Path, used: dict[str, set[str]], missing: dict, absent: list) -> None:
    lines = ["# scripts/ecosystem census: name<TAB>status<TAB>packages (count)<TAB>packages"]
    for key in sorted(used):
        status = "missing" if key in missing else "absent-in-fastapi" if key in absent else "ok"
        pkgs = sorted(used[key])
        lines.append(f"{_fmt(key)}\t{status}\t{len(pkgs)}\t{' '.join(pkgs)}")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/ecosystem census", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--report", metavar="FILE", help="write the full table (tab-separated)")
    parser.add_argument("--packages", default=str(PACKAGES), help="the pinned list to read")
    parser.add_argument("--offline", action="store_true", help="download nothing")
    parser.add_argument("--resolve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--alias", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.resolve:
        resolve_main(args.alias)
        return 0
    return census(args)


if __name__ == "__main__":
    sys.exit(main())
