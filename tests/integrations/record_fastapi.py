"""Record what each integration observes on real FastAPI: tests/integrations/expected/*.json.

    python tests/integrations/record_fastapi.py [--venv DIR] [NAME ...]

Creates (once) a throwaway venv (default /tmp/fa-int, Python 3.11) holding FastAPI 0.165.0 and
the integration packages at the versions pinned in pyproject.toml's ``integrations`` extra, then
runs every probe of ``probes.RUNS`` (or those of the NAMEs given) in ``fastapi`` mode and writes
the observations, one file per integration, keyed by config. The tests compare Hasten with these.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import probes  # noqa: E402

FASTAPI = "fastapi==0.165.0"
# The TestClient's transport in Hasten's test venvs (the standard extra); no observation uses it.
CLIENT = "httpx2"
# logfire.testing (its in-memory exporter and id generators) imports pytest.
TEST_HELPERS = "pytest"


def pins() -> list[str]:
    """The integration packages, as pinned in pyproject.toml's ``integrations`` extra."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    return list(project["optional-dependencies"]["integrations"])


def ensure_venv(venv: Path) -> str:
    """The venv's python, with FastAPI and the pinned packages installed (pip runs when the
    requirements changed since the last install)."""
    python = venv / "bin" / "python"
    want = [FASTAPI, CLIENT, TEST_HELPERS, *pins()]
    stamp = venv / ".record-fastapi-requirements"
    if not python.exists():
        subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
    if not stamp.exists() or stamp.read_text() != "\n".join(want):
        subprocess.run([str(python), "-m", "pip", "install", "-q", *want], check=True)
        stamp.write_text("\n".join(want))
    return str(python)


def versions(python: str) -> dict[str, str]:
    names = ["fastapi", "starlette", "pydantic"] + [p.split("==")[0].split("[")[0] for p in pins()]
    code = (
        "import json, sys\nfrom importlib.metadata import version\n"
        "print(json.dumps({n: version(n) for n in sys.argv[1:]}))"
    )
    out = subprocess.run([python, "-c", code, *names], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def record(python: str, name: str, config: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        argv, env = probes.command(python, out, name, config, "fastapi")
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            sys.exit(f"{name}/{config} failed on FastAPI:\n{proc.stdout}\n{proc.stderr}")
        with open(out) as f:
            return json.load(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venv", default="/tmp/fa-int", type=Path)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    python = ensure_venv(args.venv)
    recorded_with = versions(python)
    names = args.names or sorted({name for name, _ in probes.RUNS})
    (HERE / "expected").mkdir(exist_ok=True)
    for name in names:
        configs = {config: record(python, name, config) for n, config in probes.RUNS if n == name}
        data = {"recorded_with": recorded_with, "configs": configs}
        path = HERE / "expected" / f"{name}.json"
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"{path.relative_to(ROOT)}: {', '.join(configs)}")


if __name__ == "__main__":
    main()
