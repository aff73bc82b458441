"""The framework's own telemetry (``FastAPI(telemetry={"tracer_provider": ...})``) keeps
working with another instrumentation beside it, as on FastAPI 0.165.0.

Per request: the spans of the app's telemetry provider (names, kinds, parents, attributes,
events) and, in config ``sentry``, Sentry's events and transactions; in config ``otel``, the
OpenTelemetry FastAPI instrumentor writes to the same provider.
"""

from typing import Any

import pytest
from probes import runs


@pytest.mark.parametrize(("config", "mode"), runs("telemetry"))
def test_telemetry_beside(same_as_fastapi: Any, config: str, mode: str) -> None:
    same_as_fastapi("telemetry", config, mode)
