"""The app the multiprocess tests serve with real uvicorn processes.

``PROMETHEUS_MULTIPROC_DIR`` is set by the test before the process starts. ``/hold`` blocks
its worker's event loop (so that worker accepts nothing else) until ``METRICS_RELEASE``
exists, after writing ``METRICS_HELD`` with its pid.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from hasten import Hasten
from hasten.health import health_routes
from hasten.metrics import PrometheusMiddleware, metrics_route

app = Hasten()
app.add_middleware(PrometheusMiddleware)
metrics_route(app)
health_routes(app)


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id, "pid": os.getpid()}


@app.get("/hold")
async def hold() -> dict[str, int]:
    held = Path(os.environ["METRICS_HELD"])
    # Written aside and renamed: the test may read the file the moment it exists.
    partial = held.with_suffix(".partial")
    partial.write_text(str(os.getpid()))
    os.replace(partial, held)
    release = Path(os.environ["METRICS_RELEASE"])
    deadline = time.monotonic() + 20
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # blocks this worker on purpose
    return {"pid": os.getpid()}
