"""Datadog's ddtrace on Hasten, as on FastAPI 0.165.0.

Configs: ``patch`` (``patch(fastapi=True, starlette=True)`` before the app imports ``fastapi``)
and ``ddtrace_run`` (the probe run under ``ddtrace-run``: the module watchdog is installed before
the alias). Per request, every span of each trace ddtrace finishes (kept by a trace filter,
nothing sent): name, resource, type, service, error, parent and tags (``http.route``, status,
URL, component, error type and message) — ``fastapi.request`` named after the route template
and the ``fastapi.serialize_response`` span of each route that returns a value.
"""

from typing import Any

import pytest
from probes import runs


@pytest.mark.parametrize(("config", "mode"), runs("ddtrace"))
def test_ddtrace(same_as_fastapi: Any, config: str, mode: str) -> None:
    same_as_fastapi("ddtrace", config, mode)
