"""prometheus-fastapi-instrumentator on Hasten, as on FastAPI 0.165.0.

After the probe's requests, ``GET /metrics`` (in-process): every ``http_*`` sample (request
counts by handler template, method and status class, request/response size histograms, latency
counts), without the timing-dependent buckets and sums. Through the alias and native.
"""

from typing import Any

import pytest
from probes import runs


@pytest.mark.parametrize(("config", "mode"), runs("prometheus_fastapi_instrumentator"))
def test_prometheus_fastapi_instrumentator(same_as_fastapi: Any, config: str, mode: str) -> None:
    same_as_fastapi("prometheus_fastapi_instrumentator", config, mode)
