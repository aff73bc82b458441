"""The thin public modules: Starlette re-exports, logger, types and BackgroundTasks."""

from __future__ import annotations

import importlib
import logging
import types as pytypes
import warnings
from collections.abc import Callable
from typing import Any, get_args, get_origin

import pytest
import starlette.background
import starlette.middleware
import starlette.middleware.cors
import starlette.middleware.gzip
import starlette.middleware.httpsredirect
import starlette.middleware.trustedhost
import starlette.requests
import starlette.staticfiles
import starlette.status
import starlette.templating
import starlette.testclient
import starlette.websockets

from hasten import (
    background,
    logger,
    middleware,
    requests,
    staticfiles,
    templating,
    testclient,
    types,
    websockets,
)
from hasten.middleware import cors, gzip, httpsredirect, trustedhost

# The submodule itself (``hasten.status`` the attribute may be ``starlette.status``).
status = importlib.import_module("hasten.status")


@pytest.mark.parametrize(
    ("ours", "theirs", "names"),
    [
        (requests, starlette.requests, ["Request", "HTTPConnection"]),
        (websockets, starlette.websockets, ["WebSocket", "WebSocketDisconnect", "WebSocketState"]),
        (testclient, starlette.testclient, ["TestClient"]),
        (staticfiles, starlette.staticfiles, ["StaticFiles"]),
        (templating, starlette.templating, ["Jinja2Templates"]),
        (middleware, starlette.middleware, ["Middleware"]),
        (cors, starlette.middleware.cors, ["CORSMiddleware"]),
        (gzip, starlette.middleware.gzip, ["GZipMiddleware"]),
        (httpsredirect, starlette.middleware.httpsredirect, ["HTTPSRedirectMiddleware"]),
        (trustedhost, starlette.middleware.trustedhost, ["TrustedHostMiddleware"]),
    ],
)
def test_reexports_are_the_same_objects(ours: Any, theirs: Any, names: list[str]) -> None:
    assert sorted(ours.__all__) == sorted(names)
    for name in names:
        assert getattr(ours, name) is getattr(theirs, name)


@pytest.mark.filterwarnings("ignore:starlette.middleware.wsgi is deprecated")
def test_wsgi_middleware() -> None:
    import starlette.middleware.wsgi

    from hasten.middleware import wsgi

    assert wsgi.WSGIMiddleware is starlette.middleware.wsgi.WSGIMiddleware


def test_status_has_every_starlette_name() -> None:
    assert status.__all__ == starlette.status.__all__
    for name in starlette.status.__all__:
        assert getattr(status, name) == getattr(starlette.status, name)
    assert status.HTTP_404_NOT_FOUND == 404 and status.WS_1008_POLICY_VIOLATION == 1008
    namespace: dict[str, Any] = {}
    exec("from hasten.status import *", namespace)
    assert namespace["HTTP_201_CREATED"] == 201


def test_status_deprecated_names_still_warn() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert status.HTTP_422_UNPROCESSABLE_ENTITY == 422
    assert "HTTP_422_UNPROCESSABLE_CONTENT" in str(caught[0].message)
    with pytest.raises(AttributeError):
        status.HTTP_999_NOPE  # noqa: B018


def test_logger() -> None:
    assert isinstance(logger.logger, logging.Logger)
    assert logger.logger.name == "hasten"


def test_types() -> None:
    assert types.UnionType is pytypes.UnionType
    assert get_origin(types.ModelNameMap) is dict
    assert get_args(types.ModelNameMap)[1] is str
    assert get_origin(types.DependencyCacheKey) is tuple
    assert types.DecoratedCallable.__bound__ == Callable[..., Any]
    assert types.IncEx is not None


@pytest.mark.anyio
async def test_background_tasks_run_in_order() -> None:
    ran: list[str] = []

    def sync_task(name: str, *, suffix: str = "") -> None:
        ran.append(name + suffix)

    async def async_task(name: str) -> None:
        ran.append(name)

    tasks = background.BackgroundTasks()
    assert isinstance(tasks, starlette.background.BackgroundTasks)
    tasks.add_task(sync_task, "a", suffix="!")
    tasks.add_task(async_task, "b")
    await tasks()
    assert ran == ["a!", "b"]
