"""starlette-exporter on Hasten, as on FastAPI 0.165.0.

After the probe's requests, ``GET /metrics`` (in-process): every ``starlette_*`` sample
(request counts and latency counts by method, path template and status code, requests in
progress), without the timing-dependent buckets and sums. Through the alias and native.
"""

from typing import Any

import pytest
from probes import runs


@pytest.mark.parametrize(("config", "mode"), runs("starlette_exporter"))
def test_starlette_exporter(same_as_fastapi: Any, config: str, mode: str) -> None:
    same_as_fastapi("starlette_exporter", config, mode)
