"""sentry-sdk on Hasten observes what it observes on FastAPI 0.165.0.

Per request: the envelope items (event / transaction), transaction name and source, trace op,
origin and status, the response status code, exception types, values and mechanisms, the
``request`` data (method, URL, query string, body, header names), and which of Sentry's FastAPI
and Starlette integrations enabled themselves. Configs: ``default`` (``sentry_sdk.init`` with
the auto-enabled integrations), ``failed_status`` (both integrations explicit,
``failed_request_status_codes={404, 503}``, endpoint-style names), ``middleware_spans`` (a span
per middleware, named after its class), ``starlette_only``.
"""

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("config", "mode"),
    [
        ("default", "alias"),
        ("failed_status", "alias"),
        ("middleware_spans", "alias"),
        ("starlette_only", "alias"),
        ("starlette_only", "native"),
    ],
)
def test_sentry(same_as_fastapi: Any, config: str, mode: str) -> None:
    same_as_fastapi("sentry", config, mode)


def test_sentry_native_default_is_starlette(same_as_fastapi: Any) -> None:
    """A native app with a plain ``sentry_sdk.init``: the FastAPI integration cannot enable
    itself (nothing answers ``import fastapi``), the Starlette one records every request as it
    records FastAPI's app with only the Starlette integration."""
    same_as_fastapi("sentry", "default", "native", "starlette_only")
