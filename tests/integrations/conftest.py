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


@pytest.fixture
def same_as_fastapi() -> Callable[..., None]:
    """``same_as_fastapi(name, config, mode[, recorded_config])``: run the probe on Hasten and
    assert it observed what FastAPI's recording of ``recorded_config`` (default ``config``) has,
    request by request (the failure names every request whose observation differs)."""

    def check(name: str, config: str, mode: str, recorded_config: str | None = None) -> None:
        got = observe(name, config, mode)
        if mode == "alias":
            got = _as_fastapi_names(got)
        want = expected(name, recorded_config or config)
        assert [r["request"] for r in got["requests"]] == [r["request"] for r in want["requests"]]
        differing = [
            f"{w['request']} (status {w['status']} on FastAPI, {g['status']} on Hasten)"
            for w, g in zip(want["requests"], got["requests"], strict=True)
            if w != g
        ]
        if got["final"] != want["final"]:
            differing.append("final observation")
        assert got == want, f"{name}/{config}/{mode} differs from FastAPI on: {differing}"

    return check
