"""hasten.responses: Starlette's classes re-exported, deprecated ORJSON/UJSON responses."""

from __future__ import annotations

import warnings

import pytest
import starlette.responses

from hasten import responses
from hasten.exceptions import FastAPIDeprecationWarning
from hasten.responses import JSONResponse, ORJSONResponse, UJSONResponse
from hasten.sse import EventSourceResponse


@pytest.mark.parametrize(
    "name",
    [
        "Response",
        "JSONResponse",
        "HTMLResponse",
        "PlainTextResponse",
        "RedirectResponse",
        "StreamingResponse",
        "FileResponse",
    ],
)
def test_starlette_classes_are_reexported(name: str) -> None:
    assert getattr(responses, name) is getattr(starlette.responses, name)


def test_event_source_response_is_reexported() -> None:
    assert responses.EventSourceResponse is EventSourceResponse
    assert set(responses.__all__) >= {"EventSourceResponse", "ORJSONResponse", "UJSONResponse"}


def test_orjson_response_warns_and_renders() -> None:
    with pytest.warns(FastAPIDeprecationWarning, match="ORJSONResponse is deprecated"):
        response = ORJSONResponse(content={"hello": "world", 1: 2})
    assert response.body == b'{"hello":"world","1":2}'
    assert response.media_type == "application/json"
    assert issubclass(ORJSONResponse, JSONResponse)


def test_ujson_response_warns_and_renders() -> None:
    with pytest.warns(FastAPIDeprecationWarning, match="UJSONResponse is deprecated"):
        response = UJSONResponse(content={"name": "café"})
    assert response.body == '{"name":"café"}'.encode()


def test_using_the_class_without_instantiating_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ORJSONResponse.media_type == "application/json"
        assert UJSONResponse.__name__ == "UJSONResponse"
