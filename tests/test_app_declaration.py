"""The declaring API has FastAPI 0.165.0's signatures: names, order, defaults, and TypeErrors.

The expected parameter lists were read from FastAPI 0.165.0's ``applications.py`` and
``routing.py``; a wrong keyword gets the ``TypeError`` Python gives for FastAPI's explicit
signature, naming ``FastAPI.<method>`` (``Hasten.<method>`` on a ``Hasten`` app).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import pytest
from starlette.responses import JSONResponse

from hasten import APIRouter, FastAPI, Hasten
from hasten.datastructures import DefaultPlaceholder
from hasten.routing import APIRoute, APIWebSocketRoute
from hasten.testclient import TestClient
from hasten.utils import generate_unique_id

PY313 = sys.version_info >= (3, 13)

_FIRST = (
    "response_model status_code tags dependencies summary description response_description"
    " responses deprecated"
)
_SHAPING = (
    "operation_id response_model_include response_model_exclude response_model_by_alias"
    " response_model_exclude_unset response_model_exclude_defaults response_model_exclude_none"
    " include_in_schema response_class"
)
_TAIL = "openapi_extra generate_unique_id_function"

# What FastAPI 0.165.0's signatures list after the positional parameters (keyword-only).
FASTAPI_KEYWORDS = {
    "APIRoute": f"{_FIRST} name methods {_SHAPING} dependency_overrides_provider callbacks"
    f" {_TAIL} strict_content_type max_body_size form_limits",
    "APIRouter.add_api_route": f"{_FIRST} methods {_SHAPING} name route_class_override"
    f" callbacks {_TAIL} strict_content_type max_body_size form_limits",
    "APIRouter.api_route": f"{_FIRST} methods {_SHAPING} name callbacks {_TAIL}"
    " max_body_size form_limits",
    "APIRouter.get": f"{_FIRST} {_SHAPING} name callbacks {_TAIL} max_body_size form_limits",
    "APIRouter.include_router": "prefix tags dependencies default_response_class responses"
    " callbacks deprecated include_in_schema generate_unique_id_function max_body_size"
    " form_limits",
    "FastAPI.add_api_route": f"{_FIRST} methods {_SHAPING} name {_TAIL} max_body_size form_limits",
    "FastAPI.api_route": f"{_FIRST} methods {_SHAPING} name {_TAIL} max_body_size form_limits",
    "FastAPI.get": f"{_FIRST} {_SHAPING} name callbacks {_TAIL} max_body_size form_limits",
    "FastAPI.include_router": "prefix tags dependencies responses deprecated include_in_schema"
    " default_response_class callbacks generate_unique_id_function max_body_size form_limits",
}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _target(name: str) -> Any:
    owner, _, attr = name.partition(".")
    cls = {"APIRoute": APIRoute, "APIRouter": APIRouter, "FastAPI": FastAPI}[owner]
    return getattr(cls, attr) if attr else cls


def _keywords(function: Any) -> list[str]:
    params = inspect.signature(function).parameters.values()
    return [p.name for p in params if p.kind is p.KEYWORD_ONLY]


@pytest.mark.parametrize("name", sorted(FASTAPI_KEYWORDS))
def test_keyword_parameters_are_fastapis_in_its_order(name: str) -> None:
    assert _keywords(_target(name)) == FASTAPI_KEYWORDS[name].split()


@pytest.mark.parametrize("method", METHODS)
def test_every_method_decorator_has_the_get_signature(method: str) -> None:
    for cls in (APIRouter, FastAPI, Hasten):
        assert _keywords(getattr(cls, method)) == FASTAPI_KEYWORDS["APIRouter.get"].split()


def test_positional_parameters_are_fastapis() -> None:
    def positional(function: Any) -> list[str]:
        params = inspect.signature(function).parameters.values()
        return [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]

    assert positional(APIRoute) == ["path", "endpoint"]
    assert positional(APIRouter.add_api_route) == ["self", "path", "endpoint"]
    assert positional(FastAPI.add_api_route) == ["self", "path", "endpoint"]
    assert positional(FastAPI.get) == positional(APIRouter.api_route) == ["self", "path"]
    assert positional(FastAPI.include_router) == ["self", "router"]
    assert positional(APIWebSocketRoute) == ["path", "endpoint"]
    assert positional(FastAPI.add_api_websocket_route) == ["self", "path", "endpoint", "name"]


def test_defaults_are_fastapis() -> None:
    params = inspect.signature(APIRoute).parameters
    defaults = {name: p.default for name, p in params.items() if p.default is not p.empty}
    assert set(defaults) == set(FASTAPI_KEYWORDS["APIRoute"].split())
    placeholders = {
        name: value.value
        for name, value in defaults.items()
        if isinstance(value, DefaultPlaceholder)
    }
    assert placeholders == {
        "response_model": None,
        "response_class": JSONResponse,
        "generate_unique_id_function": generate_unique_id,
        "strict_content_type": True,
    }
    not_none = {
        "response_description": "Successful Response",
        "response_model_by_alias": True,
        "response_model_exclude_unset": False,
        "response_model_exclude_defaults": False,
        "response_model_exclude_none": False,
        "include_in_schema": True,
    }
    for name, value in defaults.items():
        if name not in placeholders:
            assert value == not_none.get(name), name
    include = inspect.signature(FastAPI.include_router).parameters
    assert (include["prefix"].default, include["include_in_schema"].default) == ("", True)
    assert include["default_response_class"].default.value is JSONResponse


def _unexpected(function: str, key: str, suggestion: str | None = None) -> str:
    text = f"{function}() got an unexpected keyword argument '{key}'"
    return f"{text}. Did you mean '{suggestion}'?" if PY313 and suggestion else text


def _endpoint() -> dict[str, str]:
    return {"ok": "yes"}


# (what is called, FastAPI's message for it) — each rejected by FastAPI 0.165.0 too.
REJECTED: list[tuple[str, Callable[[Any], Any], str, str]] = [
    ("add_api_route", lambda app: app.add_api_route("/x", _endpoint, strict_content_type=False),
     "add_api_route", "strict_content_type"),
    ("add_api_route", lambda app: app.add_api_route("/x", _endpoint, callbacks=[]),
     "add_api_route", "callbacks"),
    ("api_route", lambda app: app.api_route("/x", callbacks=[]), "api_route", "callbacks"),
    ("api_route", lambda app: app.api_route("/x", strict_content_type=True), "api_route",
     "strict_content_type"),
    ("get", lambda app: app.get("/x", methods=["POST"]), "get", "methods"),
    ("post", lambda app: app.post("/x", strict_content_type=False), "post",
     "strict_content_type"),
    ("include_router", lambda app: app.include_router(APIRouter(), strict_content_type=False),
     "include_router", "strict_content_type"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "call", "method", "key"), REJECTED)
@pytest.mark.parametrize("cls", [FastAPI, Hasten])
def test_app_methods_reject_what_fastapi_rejects(
    cls: type[Hasten], label: str, call: Callable[[Any], Any], method: str, key: str
) -> None:
    app = cls()
    with pytest.raises(TypeError) as info:
        call(app)
    assert type(info.value) is TypeError
    assert str(info.value).startswith(_unexpected(f"{cls.__name__}.{method}", key))
    assert [r for r in app.routes if getattr(r, "path", None) == "/x"] == []


def test_router_methods_reject_what_fastapi_rejects() -> None:
    router = APIRouter()
    with pytest.raises(TypeError) as info:
        router.get("/x", methods=["POST"])
    assert str(info.value) == _unexpected("APIRouter.get", "methods")
    with pytest.raises(TypeError) as info:
        router.api_route("/x", strict_content_type=False)
    assert str(info.value) == _unexpected("APIRouter.api_route", "strict_content_type")
    with pytest.raises(TypeError) as info:
        router.include_router(APIRouter(), strict_content_type=False)
    assert str(info.value) == _unexpected("APIRouter.include_router", "strict_content_type")
    with pytest.raises(TypeError) as info:
        APIRoute("/x", _endpoint, summry="s")
    assert str(info.value) == _unexpected("APIRoute.__init__", "summry", "summary")
    with pytest.raises(TypeError) as info:
        router.add_api_route("/x", _endpoint, response_modl=None)
    assert str(info.value) == _unexpected(
        "APIRouter.add_api_route", "response_modl", "response_model"
    )
    assert router.routes == []


def test_router_methods_accept_every_option_fastapi_has() -> None:
    router = APIRouter()
    router.add_api_route(
        "/a", _endpoint, methods=["POST"], callbacks=[], strict_content_type=False,
        route_class_override=APIRoute, summary="A",
    )  # fmt: skip
    router.api_route("/b", methods=["PUT"], callbacks=[], name="b")(_endpoint)
    router.get("/c", callbacks=[], response_description="fine", max_body_size=10)(_endpoint)
    a, b, c = router.routes
    assert (a.methods, a.strict_content_type, a.summary) == ({"POST"}, False, "A")
    assert (b.methods, b.name) == ({"PUT"}, "b")
    assert (c.methods, c.response_description, c.max_body_size) == ({"GET"}, "fine", 10)


def test_app_methods_accept_every_option_fastapi_has() -> None:
    app = FastAPI()
    app.add_api_route("/a", _endpoint, methods=["POST"], summary="A", form_limits=None)
    app.api_route("/b", methods=["PATCH"], name="b")(_endpoint)
    app.delete("/c", callbacks=[], status_code=200, operation_id="del_c")(_endpoint)
    router = APIRouter()
    router.get("/d")(_endpoint)
    app.include_router(router, prefix="/r", tags=["t"], default_response_class=JSONResponse)
    client = TestClient(app)
    assert client.post("/a").json() == {"ok": "yes"}
    assert client.patch("/b").status_code == 200
    assert client.delete("/c").status_code == 200
    assert client.get("/r/d").json() == {"ok": "yes"}
    operations = app.openapi()["paths"]
    assert operations["/a"]["post"]["summary"] == "A"
    assert operations["/c"]["delete"]["operationId"] == "del_c"
    assert operations["/r/d"]["get"]["tags"] == ["t"]


def test_positional_route_arguments_still_work() -> None:
    route = APIRoute("/items", _endpoint)
    assert (route.path, route.endpoint, route.methods) == ("/items", _endpoint, {"GET"})
    route = APIRoute(path="/k", endpoint=_endpoint, methods=["post"], status_code=201)
    assert (route.methods, route.status_code) == ({"POST"}, 201)
    assert route.response_model_by_alias is True and route.callbacks is None
    assert isinstance(route.response_class, DefaultPlaceholder)


def test_route_subclass_with_its_own_constructor() -> None:
    class Tagged(APIRoute):
        def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
            kwargs["tags"] = [*(kwargs.get("tags") or []), "sub"]
            super().__init__(path, endpoint, **kwargs)

    router = APIRouter(route_class=Tagged)
    router.get("/x", tags=["own"], max_body_size=5)(_endpoint)
    (route,) = router.routes
    assert isinstance(route, Tagged)
    assert (route.tags, route.max_body_size) == (["own", "sub"], 5)


# --- FastAPI.__init__ ---------------------------------------------------------------------


def test_fastapi_constructor_names_fastapi_in_type_errors() -> None:
    with pytest.raises(TypeError) as info:
        FastAPI(tags=["x"])  # type: ignore[call-arg]
    assert str(info.value).startswith(_unexpected("FastAPI.__init__", "tags"))
    with pytest.raises(TypeError) as info:
        Hasten(tags=["x"])  # type: ignore[call-arg]
    assert str(info.value).startswith(_unexpected("Hasten.__init__", "tags"))
    with pytest.raises(TypeError) as info:
        FastAPI("title")  # type: ignore[misc]
    assert str(info.value).startswith("FastAPI.__init__() takes 1 positional argument")
    assert FastAPI.__init__.__qualname__ == "FastAPI.__init__"
    assert FastAPI.__init__.__code__.co_qualname == "FastAPI.__init__"
    assert Hasten.__init__.__code__.co_qualname == "Hasten.__init__"


def test_fastapi_constructor_keeps_hastens_parameters_and_fastapis_defaults() -> None:
    assert inspect.signature(FastAPI) == inspect.signature(Hasten)
    names = list(inspect.signature(FastAPI).parameters)
    assert names[:4] == ["telemetry", "debug", "routes", "title"]
    assert names[-4:] == ["strict_content_type", "max_body_size", "form_limits", "docs_assets"]
    assert "openapi_prefix" not in names  # gone from FastAPI 0.165.0
    fastapi, hasten = FastAPI(), Hasten()
    assert fastapi.max_body_size is None and hasten.max_body_size == 16 * 1024 * 1024
    assert (fastapi.docs_assets, hasten.docs_assets) == ("cdn", "bundled")
    assert (fastapi.title, fastapi.version, fastapi.openapi_url) == (
        "FastAPI",
        "0.1.0",
        "/openapi.json",
    )
    app = FastAPI(title="T", debug=True, max_body_size=3, docs_url=None)
    assert (app.title, app.debug, app.max_body_size, app.docs_url) == ("T", True, 3, None)
