"""Elastic APM's Starlette middleware on Hasten, as on FastAPI 0.165.0.

Per request, what the agent queues on an in-memory transport: transactions (name, type,
result, outcome, status code, method, URL, captured body, span counts) and errors (exception
type and message, handled flag, culprit, transaction name). Through the alias and native.
"""

from typing import Any

import pytest
from probes import runs


@pytest.mark.parametrize(("config", "mode"), runs("elasticapm"))
def test_elasticapm(same_as_fastapi: Any, config: str, mode: str) -> None:
    same_as_fastapi("elasticapm", config, mode)
