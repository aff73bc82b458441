"""OpenTelemetry's FastAPI and Starlette instrumentations on Hasten, as on FastAPI 0.165.0.

Per request, every finished span (SDK ``InMemorySpanExporter``): name, kind, parent, status,
attributes (``http.route``, method, status code, URL, ASGI event types) and events (exception
type and message). Configs: ``instrument_app`` (``FastAPIInstrumentor.instrument_app``),
``instrument`` (the global ``FastAPIInstrumentor().instrument()``, before the app class is
read), ``starlette`` (``StarletteInstrumentor.instrument_app``, also on a native app).
"""

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("config", "mode"),
    [
        ("instrument_app", "alias"),
        ("instrument", "alias"),
        ("starlette", "alias"),
        ("starlette", "native"),
    ],
)
def test_opentelemetry(same_as_fastapi: Any, config: str, mode: str) -> None:
    same_as_fastapi("opentelemetry", config, mode)
