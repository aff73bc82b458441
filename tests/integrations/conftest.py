"""Run one probe of ``probes.py`` in a fresh interpreter and compare it with FastAPI's recording.

Every instrumentation patches modules for the rest of its process, so each probe runs in its own
interpreter (this venv's python, the same one as the test run). ``expected/<name>.json`` holds
what the same probe observed on FastAPI 0.165.0 (``record_fastapi.py`` writes it).
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import probes
import pytest

HERE = Path(__file__).resolve().parent

# Through the alias, ``fastapi.exceptions`` *is* ``hasten.exceptions`` (the same module object),
# so a qualified name a package reads from ``__module__`` says ``hasten.`` where FastAPI's says
# ``fastapi.``: ``hasten.exceptions.HTTPException`` is FastAPI's ``fastapi.exceptions.HTTPException``.
# Alias-mode observations are compared with that one renaming (what is left differs for real:
# ``fastapi.telemetry._asgi:TelemetryServerErrors`` is not a FastAPI name).
_HASTEN_NAME = re.compile(r"(?<![\w.])hasten(?=[.:])")


def _as_fastapi_names(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_fastapi_names(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_fastapi_names(v) for v in value]
    if isinstance(value, str):
        return _HASTEN_NAME.sub("fastapi", value)
    return value


# The import name each integration needs (from the ``integrations`` extra).
MODULES = {
    "sentry": "sentry_sdk",
    "opentelemetry": "opentelemetry.instrumentation.fastapi",
    "logfire": "logfire",
    "ddtrace": "ddtrace",
    "newrelic": "newrelic",
    "elasticapm": "elasticapm",
    "prometheus_fastapi_instrumentator": "prometheus_fastapi_instrumentator",
    "starlette_exporter": "starlette_exporter",
    "telemetry": "sentry_sdk",
}


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def observe(name: str, config: str, mode: str) -> dict[str, Any]:
    """Run the probe in a fresh interpreter of this venv; what the integration recorded."""
    if not _available(MODULES[name]):
        message = f"{MODULES[name]} is not installed (pip install -e '.[integrations]')"
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no", "off"):
            pytest.fail(message + ": scripts/test installs it in CI")
        pytest.skip(message)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        argv, env = probes.command(sys.executable, out, name, config, mode)
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=50)
        assert proc.returncode == 0, f"probe {name}/{config}/{mode} failed:\n{proc.stderr[-6000:]}"
        with open(out) as f:
            result: dict[str, Any] = json.load(f)
    return result


def expected(name: str, config: str) -> dict[str, Any]:
    """What the same probe observed on FastAPI 0.165.0."""
    with open(HERE / "expected" / f"{name}.json") as f:
        recorded: dict[str, Any] = json.load(f)["configs"][config]
    return recorded


def _summary(value: Any) -> str:
    if isinstance(value, dict):
        keys = ("type", "kind", "name", "resource", "transaction")
        return "/".join(str(value[k]) for k in keys if k in value) or json.dumps(value)[:80]
    if isinstance(value, list):
        return "[" + ", ".join(_summary(v) for v in value) + "]"
    return json.dumps(value)[:80]


def differences(want: Any, got: Any, path: str = "") -> list[str]:
    """Where ``got`` (Hasten) differs from ``want`` (FastAPI), one line per leaf."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for key in sorted(set(want) | set(got)):
            if key not in got:
                out.append(f"{path}.{key}: only on FastAPI: {json.dumps(want[key])[:200]}")
            elif key not in want:
                out.append(f"{path}.{key}: only on Hasten: {json.dumps(got[key])[:200]}")
            else:
                out += differences(want[key], got[key], f"{path}.{key}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(want) == len(got):
            pairs = enumerate(zip(want, got, strict=True))
            return [d for i, (w, g) in pairs for d in differences(w, g, f"{path}[{i}]")]
        return [f"{path}: FastAPI {_summary(want)}, Hasten {_summary(got)}"]
    if want != got:
        return [f"{path}: FastAPI {json.dumps(want)[:200]}, Hasten {json.dumps(got)[:200]}"]
    return []


@pytest.fixture
def same_as_fastapi() -> Callable[..., None]:
    """``same_as_fastapi(name, config, mode[, recorded_config])``: run the probe on Hasten and
    assert it observed what FastAPI's recording of ``recorded_config`` (default ``config``) has;
    the failure lists, request by request, each observation that differs."""

    def check(name: str, config: str, mode: str, recorded_config: str | None = None) -> None:
        got = observe(name, config, mode)
        if mode == "alias":
            got = _as_fastapi_names(got)
        want = expected(name, recorded_config or config)
        assert [r["request"] for r in got["requests"]] == [r["request"] for r in want["requests"]]
        lines = []
        for w, g in zip(want["requests"], got["requests"], strict=True):
            lines += [f"{w['request']} {d}" for d in differences(w, g)]
        lines += [f"final {d}" for d in differences(want["final"], got["final"])]
        report = "\n".join(lines[:40]) + (
            f"\n... {len(lines) - 40} more" if len(lines) > 40 else ""
        )
        assert not lines, f"{name}/{config}/{mode} differs from FastAPI 0.165.0:\n{report}"

    return check
