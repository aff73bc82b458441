"""``logfire.instrument_fastapi`` on Hasten, as on FastAPI 0.165.0.

Per request, every span logfire exports (its in-memory ``TestExporter``, deterministic ids):
name, parent, attributes (``http.route``, ``fastapi.route.name``, ``fastapi.arguments.values``,
``fastapi.arguments.errors`` for validation failures, level, message) and exception events.
"""

from typing import Any

import pytest
from probes import runs


@pytest.mark.parametrize(("config", "mode"), runs("logfire"))
def test_logfire(same_as_fastapi: Any, config: str, mode: str) -> None:
    same_as_fastapi("logfire", config, mode)
