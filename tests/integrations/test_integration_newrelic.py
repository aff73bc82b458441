"""New Relic's Python agent on Hasten, as on FastAPI 0.165.0.

The agent runs in developer mode (no collector, no license), initialised before the app imports
``fastapi``, so its import hooks (``fastapi.routing``, ``starlette.*``) fire through the alias.
Per request, the transaction the agent records: its name and group (the endpoint's qualified
name, or the middleware that answered), type, URI, method, status code, errors (type, message,
expected) and the tree of function traces (ServerErrorMiddleware, ExceptionMiddleware, the
endpoint, the exception handler).
"""

from typing import Any

import pytest
from probes import runs


@pytest.mark.parametrize(("config", "mode"), runs("newrelic"))
def test_newrelic(same_as_fastapi: Any, config: str, mode: str) -> None:
    same_as_fastapi("newrelic", config, mode)
