"""Response classes: Starlette's, plus SSE and the deprecated ``ORJSONResponse``/``UJSONResponse``."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from starlette.responses import FileResponse as FileResponse
from starlette.responses import HTMLResponse as HTMLResponse
from starlette.responses import JSONResponse as JSONResponse
from starlette.responses import PlainTextResponse as PlainTextResponse
from starlette.responses import RedirectResponse as RedirectResponse
from starlette.responses import Response as Response
from starlette.responses import StreamingResponse as StreamingResponse
from typing_extensions import deprecated

from hasten.exceptions import FastAPIDeprecationWarning
from hasten.sse import EventSourceResponse as EventSourceResponse

__all__ = [
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "UJSONResponse",
]


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:  # pragma: no cover - optional dependency
        return None


orjson = _optional_module("orjson")
ujson = _optional_module("ujson")


def _deprecation(name: str) -> str:
    # The warning users see, in FastAPI's words (code that filters warnings matches on it).
    return (
        f"{name} is deprecated, FastAPI now serializes data directly to JSON bytes via"
        " Pydantic when a return type or response model is set, which is faster and doesn't"
        " need a custom response class. Read more in the FastAPI docs:"
        " https://fastapi.tiangolo.com/advanced/custom-response/#orjson-or-response-model"
        " and https://fastapi.tiangolo.com/tutorial/response-model/"
    )


@deprecated(_deprecation("UJSONResponse"), category=FastAPIDeprecationWarning, stacklevel=2)
class UJSONResponse(JSONResponse):
    """**Deprecated.** JSON rendered with ``ujson`` (``pip install ujson``)."""

    def render(self, content: Any) -> bytes:
        if ujson is None:  # pragma: no cover - optional dependency
            raise RuntimeError("ujson must be installed to use UJSONResponse")
        text: str = ujson.dumps(content, ensure_ascii=False)
        return text.encode("utf-8")


@deprecated(_deprecation("ORJSONResponse"), category=FastAPIDeprecationWarning, stacklevel=2)
class ORJSONResponse(JSONResponse):
    """**Deprecated.** JSON rendered with ``orjson`` (non-str keys and numpy allowed)."""

    def render(self, content: Any) -> bytes:
        if orjson is None:  # pragma: no cover - optional dependency
            raise RuntimeError("orjson must be installed to use ORJSONResponse")
        data: bytes = orjson.dumps(
            content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
        )
        return data
