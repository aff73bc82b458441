"""FastAPI's semi-private helpers that the ecosystem imports (``scripts/ecosystem census``).

Each expected value below was taken from FastAPI 0.165.0 itself: the same code run in a
throwaway venv with ``fastapi==0.165.0`` (and fastapi-pagination 0.16.1 for the last test).
The census (``ecosystem/census.py``) checks that the names exist; these tests check that they
answer as FastAPI's do.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import textwrap
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Union

import pytest
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, Json
from starlette.datastructures import FormData, Headers, QueryParams

import hasten.openapi.docs
from hasten import (
    Body,
    Cookie,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    Query,
    Security,
    UploadFile,
)
from hasten import (
    Path as PathParam,
)
from hasten._compat import get_definitions, get_flat_models_from_fields, get_model_name_map
from hasten._compat import v2 as compat_v2
from hasten._compat.v2 import Undefined
from hasten.applications import get_swagger_ui_html
from hasten.dependencies.models import Dependant
from hasten.dependencies.utils import (
    _get_body_field,
    _get_flat_body_params,
    _get_form_model,
    _get_form_models,
    _get_multidict_value,
    _get_param_aliases,
    _is_form_model_supplied,
    _normalize_form_model,
    get_cached_model_fields,
    get_dependant,
    get_flat_params,
    get_parameterless_sub_dependant,
    get_validation_alias,
    lenient_issubclass,
)
from hasten.openapi.utils import _get_openapi_dependency_data, _get_openapi_operation_parameters
from hasten.routing import (
    APIRoute,
    APIRouter,
    _EffectiveRouteContext,
    _IncludedRouter,
    _iter_routes_with_context,
    request_response,
)
from hasten.security import OAuth2PasswordBearer
from hasten.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]


class Color(Enum):
    red = "red"


class Tag(BaseModel):
    name: str
    color: Color = Color.red


class Item(BaseModel):
    """An item.\fhidden"""

    title: str
    tags: list[Tag] = []


class Filters(BaseModel):
    limit: int = Field(10, description="page size")
    order: str | None = None


def dep(token: Annotated[str, Header()], q: int = 1) -> int:
    return q


def dep_body(extra: Annotated[int, Body()]) -> int:
    return extra


def endpoint(
    item_id: Annotated[int, PathParam()],
    item: Item,
    f: Annotated[Filters, Query()],
    session: Annotated[str | None, Cookie()] = None,
    a: int = Depends(dep),
    b: int = Depends(dep),  # the same dependency twice: its parameters count once
    c: int = Depends(dep_body),
    q2: Annotated[str, Query(alias="q-2", deprecated=True, examples=["x"])] = "z",
) -> None:
    pass


@pytest.fixture
def dependant() -> Dependant:
    return get_dependant(path="/items/{item_id}", call=endpoint)


def test_lenient_issubclass() -> None:
    assert lenient_issubclass(bool, int) is True
    assert lenient_issubclass(bool, (str, int)) is True
    assert lenient_issubclass(int, str) is False
    assert lenient_issubclass(list[int], list) is False  # a generic alias: False, no TypeError
    assert lenient_issubclass(3, int) is False


def test_flat_body_params_and_flat_params(dependant: Dependant) -> None:
    assert [f.name for f in _get_flat_body_params(dependant)] == ["item", "extra"]
    flat = get_flat_params(dependant)
    # FastAPI 0.165: path, query (the model's fields in place of the model), header, cookie.
    assert [(f.name, get_validation_alias(f)) for f in flat] == [
        ("item_id", "item_id"),
        ("limit", "limit"),
        ("order", "order"),
        ("q2", "q-2"),
        ("q", "q"),
        ("token", "token"),
        ("session", "session"),
    ]
    assert [get_validation_alias(f) for f in dependant.query_params] == ["f", "q-2"]
    # The model's fields are the same objects each time (FastAPI keys schemas by field).
    again = get_flat_params(dependant)
    assert again[1] is flat[1] and again[2] is flat[2]


def scoped(s: str = Query("x")) -> str:
    return s


def test_parameterless_sub_dependant() -> None:
    sub = get_parameterless_sub_dependant(
        depends=Security(scoped, scopes=["read", "write"]), path="/p"
    )
    assert sub.call is scoped and sub.path == "/p" and sub.name is None
    assert sub.own_oauth_scopes == ["read", "write"] and sub.parent_oauth_scopes is None
    assert [p.name for p in sub.query_params] == ["s"]
    assert sub.use_cache is True and sub.scope is None
    plain = get_parameterless_sub_dependant(
        depends=Depends(scoped, use_cache=False, scope="function"), path="/p"
    )
    assert plain.own_oauth_scopes == [] and plain.scope == "function"
    assert plain.use_cache is True  # as FastAPI 0.165: the Depends' use_cache is not passed
    with pytest.raises(AssertionError) as info:
        get_parameterless_sub_dependant(depends=Depends(), path="/p")
    assert "A parameter-less dependency must have a callable dependency" in str(info.value)


def form_endpoint(
    a: Annotated[str, Form()] = "x", b: Annotated[UploadFile | None, File()] = None
) -> None:
    pass


def form_endpoint2(
    a: Annotated[str, Form()], b: Annotated[str, Form(media_type="multipart/form-data")]
) -> None:
    pass


def test_get_body_field(dependant: Dependant) -> None:
    body = _get_flat_body_params(dependant)
    assert _get_body_field(body_params=[], name="x", embed_body_fields=False) is None
    assert _get_body_field(body_params=body[:1], name="op", embed_body_fields=False) is body[0]
    embedded = _get_body_field(body_params=body, name="op_id", embed_body_fields=True)
    info = embedded.field_info
    assert (embedded.name, embedded.alias, info.alias) == ("body", "body", "body")
    assert type(info).__name__ == "Body" and info.media_type == "application/json"
    assert info.annotation.__name__ == "Body_op_id"
    assert list(info.annotation.model_fields) == ["item", "extra"]
    assert info.is_required() is True

    form = get_dependant(path="/f", call=form_endpoint)
    field = _get_body_field(
        body_params=_get_flat_body_params(form), name="f_id", embed_body_fields=True
    )
    assert type(field.field_info).__name__ == "File"
    assert field.field_info.media_type == "multipart/form-data"
    assert field.field_info.is_required() is False
    assert field.field_info.annotation.__name__ == "Body_f_id"

    form2 = get_dependant(path="/f", call=form_endpoint2)
    field2 = _get_body_field(
        body_params=_get_flat_body_params(form2), name="f2", embed_body_fields=True
    )
    assert type(field2.field_info).__name__ == "Form"
    assert field2.field_info.media_type == "multipart/form-data"
    assert field2.field_info.is_required() is True


# FastAPI 0.165.0's get_definitions for the two body parameters of `endpoint`.
EXPECTED_DEFINITIONS = {
    "Color": {"enum": ["red"], "title": "Color", "type": "string"},
    "Item": {
        "description": "An item.",
        "properties": {
            "tags": {
                "default": [],
                "items": {"$ref": "#/components/schemas/Tag"},
                "title": "Tags",
                "type": "array",
            },
            "title": {"title": "Title", "type": "string"},
        },
        "required": ["title"],
        "title": "Item",
        "type": "object",
    },
    "Tag": {
        "properties": {
            "color": {"$ref": "#/components/schemas/Color", "default": "red"},
            "name": {"title": "Name", "type": "string"},
        },
        "required": ["name"],
        "title": "Tag",
        "type": "object",
    },
}


def test_schema_helpers(dependant: Dependant) -> None:
    body = _get_flat_body_params(dependant)
    models = get_flat_models_from_fields(get_flat_params(dependant) + body, known_models=set())
    assert models == {Color, Item, Tag}
    name_map = get_model_name_map(models)
    assert name_map == {Color: "Color", Item: "Item", Tag: "Tag"}
    mapping, definitions = get_definitions(fields=body, model_name_map=name_map)
    assert definitions == EXPECTED_DEFINITIONS
    # Each field under (field, mode); the models reached (not a field's own type) too.
    entries = sorted((field.name, mode, schema) for (field, mode), schema in mapping.items())
    assert entries == [
        ("Color", "validation", {"$ref": "#/components/schemas/Color"}),
        ("Tag", "validation", {"$ref": "#/components/schemas/Tag"}),
        ("extra", "validation", {"type": "integer"}),
        ("item", "validation", {"$ref": "#/components/schemas/Item"}),
    ]
    assert compat_v2.get_definitions is get_definitions


# FastAPI 0.165.0: titiler-core's way of documenting the parameters of dependencies. The model
# fields get "example": null (a plain FieldInfo has no example), as in FastAPI.
EXPECTED_PARAMETERS = [
    {"in": "query", "name": "item_id", "required": True, "schema": {"title": "Item Id", "type": "integer"}},
    {
        "description": "page size",
        "example": None,
        "in": "query",
        "name": "limit",
        "required": False,
        "schema": {"default": 10, "description": "page size", "title": "Limit", "type": "integer"},
    },
    {
        "example": None,
        "in": "query",
        "name": "order",
        "required": False,
        "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Order"},
    },
    {
        "deprecated": True,
        "in": "query",
        "name": "q-2",
        "required": False,
        "schema": {"default": "z", "deprecated": True, "examples": ["x"], "title": "Q-2", "type": "string"},
    },
    {"in": "query", "name": "q", "required": False, "schema": {"default": 1, "title": "Q", "type": "integer"}},
    {"in": "query", "name": "token", "required": True, "schema": {"title": "Token", "type": "string"}},
    {
        "in": "query",
        "name": "session",
        "required": False,
        "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Session"},
    },
]  # fmt: skip


def test_openapi_operation_parameters(dependant: Dependant) -> None:
    fields = get_flat_params(dependant)
    name_map = get_model_name_map(get_flat_models_from_fields(fields, known_models=set()))
    mapping, _ = get_definitions(fields=fields, model_name_map=name_map)
    combined = Dependant(path="")
    combined.query_params = fields
    data = _get_openapi_dependency_data(combined)
    parameters = _get_openapi_operation_parameters(
        dependency_data=data, model_name_map=name_map, field_mapping=mapping
    )
    assert json.loads(json.dumps(parameters)) == EXPECTED_PARAMETERS


def test_openapi_dependency_data(dependant: Dependant) -> None:
    data = _get_openapi_dependency_data(dependant)
    assert [p.name for p in data.path_params] == ["item_id"]
    assert [p.name for p in data.query_params] == ["f", "q2", "q"]
    assert [p.name for p in data.header_params] == ["token"]
    assert [p.name for p in data.cookie_params] == ["session"]
    assert data.security_dependencies == []

    oauth = OAuth2PasswordBearer(tokenUrl="token", scopes={"a": "A", "b": "B"})

    def user(token: str = Security(oauth, scopes=["a"])) -> str:
        return token

    def admin(u: str = Security(user, scopes=["b"])) -> str:
        return u

    def secured(x: str = Depends(admin), y: str = Depends(user), z: int = 0) -> None:
        pass

    data = _get_openapi_dependency_data(get_dependant(path="/", call=secured))
    found = [(d.call, scopes) for d, scopes in data.security_dependencies]
    assert found == [(oauth, ["b", "a"]), (oauth, ["a"])]  # FastAPI 0.165's order and scopes
    assert [p.name for p in data.query_params] == ["z"]


def test_include_tree_names() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/r")

    @router.get("/a")
    def read_a() -> str:
        return "a"

    app.include_router(router)
    # Hasten copies included routes: every route is in place, with no inclusion context.
    pairs = list(_iter_routes_with_context(app.routes))
    assert [ctx for _, ctx in pairs] == [None] * len(app.routes)
    assert [r for r, _ in pairs] == list(app.routes)
    assert not any(isinstance(r, _IncludedRouter) for r in app.routes)

    # A node made by hand is walked as FastAPI walks it: the included router's routes.
    node = _IncludedRouter(original_router=router)
    walked = list(_iter_routes_with_context([node]))
    assert [(r, type(c).__name__) for r, c in walked] == [
        (router.routes[0], "_EffectiveRouteContext")
    ]
    assert walked[0][1] is not None and walked[0][1].original_route is router.routes[0]
    context = _EffectiveRouteContext(original_route=router.routes[0])
    assert context.response_description == "Successful Response"
    assert context.include_in_schema is True and context.tags == []


def test_applications_reexports_swagger_ui_html() -> None:
    assert get_swagger_ui_html is hasten.openapi.docs.get_swagger_ui_html


def test_route_handler_follows_a_changed_dependant() -> None:
    """fastapi-pagination's move: append a dependency to a built route, rebuild its app."""
    app = FastAPI()
    calls: list[str] = []

    def added(page: int = 1) -> None:
        calls.append(f"page={page}")

    @app.get("/items")
    def items() -> list[int]:
        return [1, 2]

    route = app.routes[-1]
    marker = Depends(added)
    route.dependencies.append(marker)  # type: ignore[attr-defined]
    route.dependant.dependencies.append(  # type: ignore[attr-defined]
        get_parameterless_sub_dependant(depends=marker, path=route.path_format)  # type: ignore[attr-defined]
    )
    route.app = request_response(route.get_route_handler())  # type: ignore[attr-defined]
    with TestClient(app) as client:
        assert client.get("/items?page=3").json() == [1, 2]
        assert client.get("/items?page=x").status_code == 422
    assert calls == ["page=3"]
    parameters = app.openapi()["paths"]["/items"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["page"]


# -- fastapi-pagination through the alias ------------------------------------------------------------


def _pinned(name: str) -> str:
    for line in (ROOT / "ecosystem" / "packages.txt").read_text().splitlines():
        if line.split("==")[0] == name:
            return line.split("#")[0].split("==")[1].strip()
    raise AssertionError(f"{name} is not pinned in ecosystem/packages.txt")


def _wheel(name: str) -> Path:
    """The pinned wheel from the census cache (.ecosystem/dist), downloaded when missing.

    Installed packages would pull the real ``fastapi`` into the venv (it is their dependency),
    so the wheel is put on ``sys.path`` of a subprocess instead.
    """
    version = _pinned(name)
    dist = ROOT / ".ecosystem" / "dist"
    pattern = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    if not (dist / pattern).exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q"]
            + ["-d", str(dist), f"{name}=={version}"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return dist / pattern


PAGINATION_APP = """
import json, sys
import hasten.compat
hasten.compat.install()
sys.path.insert(0, sys.argv[1])
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from fastapi_pagination import LimitOffsetPage, Page, add_pagination, paginate
from fastapi_pagination.utils import disable_installed_extensions_check
from pydantic import BaseModel
assert sys.modules["fastapi.routing"] is sys.modules["hasten.routing"]
disable_installed_extensions_check()

class User(BaseModel):
    id: int
    name: str

users = [User(id=i, name=f"u{i}") for i in range(1, 31)]
app = FastAPI()
router = APIRouter(prefix="/r")

@app.get("/users", response_model=Page[User])
def list_users():
    return paginate(users)

@router.get("/lo", response_model=LimitOffsetPage[User])
async def lo(q: str = ""):
    return paginate([u for u in users if q in u.name])

app.include_router(router)
add_pagination(app)
out = {}
with TestClient(app) as client:
    for url in ["/users?page=2&size=5", "/users?size=0", "/r/lo?limit=3&offset=4&q=1"]:
        response = client.get(url)
        out[url] = [response.status_code, response.json()]
paths = app.openapi()["paths"]
out["params"] = {p: [x["name"] for x in paths[p]["get"]["parameters"]] for p in paths}
out["schema"] = paths["/users"]["get"]["responses"]["200"]["content"]["application/json"]
print(json.dumps(out))
"""


def test_fastapi_pagination_through_the_alias(tmp_path: Path) -> None:
    wheel = _wheel("fastapi-pagination")
    env = {k: v for k, v in os.environ.items() if k != "HASTEN_FASTAPI_ALIAS"}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(PAGINATION_APP), str(wheel)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    # The same app on FastAPI 0.165.0 with fastapi-pagination 0.16.1:
    assert out["/users?page=2&size=5"] == [
        200,
        {
            "items": [{"id": i, "name": f"u{i}"} for i in range(6, 11)],
            "total": 30,
            "page": 2,
            "size": 5,
            "pages": 6,
        },
    ]
    assert out["/users?size=0"] == [
        422,
        {
            "detail": [
                {
                    "type": "greater_than_equal",
                    "loc": ["query", "size"],
                    "msg": "Input should be greater than or equal to 1",
                    "input": "0",
                    "ctx": {"ge": 1},
                }
            ]
        },
    ]
    assert out["/r/lo?limit=3&offset=4&q=1"] == [
        200,
        {
            "items": [{"id": i, "name": f"u{i}"} for i in (13, 14, 15)],
            "total": 12,
            "limit": 3,
            "offset": 4,
        },
    ]
    assert out["params"] == {"/users": ["page", "size"], "/r/lo": ["q", "limit", "offset"]}
    assert out["schema"] == {"schema": {"$ref": "#/components/schemas/Page_User_"}}


# -- the census scanner ---------------------------------------------------------------------------


def _census_module() -> Any:
    spec = importlib.util.spec_from_file_location("_census", ROOT / "ecosystem" / "census.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_census_scanner_finds_every_kind_of_use() -> None:
    census = _census_module()
    source = textwrap.dedent(
        """
        import fastapi
        import fastapi.routing as fr
        from fastapi import Depends, routing
        from fastapi.dependencies.utils import _get_body_field as gbf
        from .fastapi import local  # a relative import is the package's own
        from fastapi_users import X  # another package
        def f():
            from fastapi.openapi.utils import get_openapi
            old = fastapi.routing.get_request_handler
            fr.serialize_response
            routing.request_response(old)
        """
    ).encode()
    pairs, chains = census.scan_source(source)
    assert pairs == {
        ("fastapi", ""),
        ("fastapi.routing", ""),
        ("fastapi", "Depends"),
        ("fastapi", "routing"),
        ("fastapi.dependencies.utils", "_get_body_field"),
        ("fastapi.openapi.utils", "get_openapi"),
    }
    assert chains == {
        "fastapi.routing.get_request_handler",
        "fastapi.routing.serialize_response",
        "fastapi.routing.request_response",
    }
    assert census._is_library_file("pkg/fastapi/patch.py", wheel=True)  # an integration
    assert not census._is_library_file("fastapi/routing.py", wheel=True)  # a vendored copy
    assert not census._is_library_file("pkg-1.0/tests/test_app.py", wheel=False)
    assert not census._is_library_file("pkg-1.0/src/fastapi/x.py", wheel=False)


# --- the form-model helpers cadwyn reads (values observed on FastAPI 0.165.0) ---


class FormA(BaseModel):
    name: str
    tags: list[str] = []


class FormB(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = Field(validation_alias=AliasChoices("size", "sz"))


class FormC(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    user_id: int = Field(alias="userId")
    sub: FormA | None = None


def form_models_endpoint(
    a: Annotated[FormA, Form()],
    u: Annotated[Union[FormA, FormB, None], Form()] = None,  # noqa: UP007
    x: Annotated[int, Form()] = 1,
    j: Annotated[Json[FormA], Form()] = None,  # type: ignore[assignment]
    q: Annotated[list[int], Query()] = [],  # noqa: B006
    user_agent: Annotated[str | None, Header()] = None,
    pid: Annotated[int, PathParam(alias="p")] = 0,
) -> None: ...


@pytest.fixture
def form_dependant() -> Dependant:
    return get_dependant(path="/{p}", call=form_models_endpoint)


def test_get_form_models(form_dependant: Dependant) -> None:
    found = {f.name: _get_form_models(f) for f in form_dependant.body_params}
    assert found == {"a": [FormA], "u": [FormA, FormB], "x": [], "j": []}
    assert [_get_form_model(f) for f in form_dependant.body_params] == [FormA, None, None, None]
    # ModelFields (a model's own fields) are answered the same way
    sub = get_cached_model_fields(FormC)[1]
    assert _get_form_models(sub) == []


def test_get_param_aliases(form_dependant: Dependant) -> None:
    d = form_dependant
    fields = [*d.query_params, *d.header_params, *d.path_params, *d.body_params[:3]]
    assert [_get_param_aliases(f) for f in fields] == [
        [("q", "q")],
        [("user-agent", "user-agent")],
        [("p", "p")],
        [("a", "a")],
        [("u", "u")],
        [("x", "x")],
    ]
    b_size = get_cached_model_fields(FormB)[0]
    assert _get_param_aliases(b_size) == [("size", "size"), ("sz", "sz")]
    user_id, sub = get_cached_model_fields(FormC)
    assert _get_param_aliases(user_id) == [("userId", "userId"), ("user_id", "user_id")]
    assert _get_param_aliases(user_id, convert_underscores=True) == [
        ("userId", "userId"),
        ("user_id", "user-id"),
    ]
    assert _get_param_aliases(sub) == [("sub", "sub")]


def test_get_cached_model_fields() -> None:
    fields = get_cached_model_fields(FormC)
    assert fields is get_cached_model_fields(FormC)
    assert fields is compat_v2.get_cached_model_fields(FormC)
    assert [(f.name, f.alias, f.config) for f in fields] == [
        ("user_id", "userId", {"populate_by_name": True}),
        ("sub", "sub", {"populate_by_name": True}),
    ]
    assert [(f.name, f.config) for f in get_cached_model_fields(FormB)] == [
        ("size", {"extra": "forbid"})
    ]


def test_get_multidict_value(form_dependant: Dependant) -> None:
    q, user_agent = form_dependant.query_params[0], form_dependant.header_params[0]
    x = form_dependant.body_params[2]
    name, tags = get_cached_model_fields(FormA)
    empty = UploadFile(io.BytesIO(b""), filename="", size=0)
    form = FormData([("name", ""), ("tags", "a"), ("tags", "b"), ("x", "3"), ("f", empty)])
    assert _get_multidict_value(name, form, "name") is Undefined
    assert _get_multidict_value(tags, form, "tags") == ["a", "b"]
    assert _get_multidict_value(x, form, "x") == "3"
    assert _get_multidict_value(x, form, "nope") is Undefined
    assert _get_multidict_value(q, QueryParams("q=1&q=2"), "q") == ["1", "2"]
    assert _get_multidict_value(q, QueryParams(""), "q") is Undefined
    assert _get_multidict_value(q, {"q": "7"}, "q") == "7"
    assert _get_multidict_value(user_agent, Headers({"user-agent": "t"}), "user-agent") == "t"
    assert _get_multidict_value(tags, FormData([("tags", empty)]), "tags") is Undefined
    assert _get_multidict_value(tags, {"tags": []}, "tags") is Undefined
    assert _get_multidict_value(name, {"name": ""}, "name") == ""


def test_is_form_model_supplied() -> None:
    assert _is_form_model_supplied(FormA, FormData([("name", "")])) is True
    assert _is_form_model_supplied(FormA, FormData([("other", "1")])) is False
    assert _is_form_model_supplied(FormB, FormData([("other", "1")])) is True  # extra="forbid"
    assert _is_form_model_supplied(FormB, FormData([])) is False
    assert _is_form_model_supplied(FormB, FormData([("sz", "1")])) is True


def test_normalize_form_model() -> None:
    body = {"name": "n", "tags": "t", "extra": ["1", "2"], "z": None, "e": []}
    assert _normalize_form_model(body, model=FormA) == {
        "name": "n",
        "tags": ["t"],
        "extra": ["1", "2"],
        "z": None,
        "e": [],
    }
    assert _normalize_form_model({"name": ["a", "b"], "tags": ["x", "y"]}, model=FormA) == {
        "name": "b",
        "tags": ["x", "y"],
    }
    assert _normalize_form_model({"sz": "4", "size": ""}, model=FormB) == {"sz": "4"}
    assert _normalize_form_model([1], model=FormA) == [1]
    assert _normalize_form_model({"name": ""}, model=FormA) == {}


def test_route_body_field() -> None:
    """``APIRoute.body_field`` as FastAPI sets it (cadwyn copies it between routes)."""
    app = FastAPI()

    @app.post("/one")
    def one(item: Item) -> None: ...

    @app.post("/two")
    def two(item: Item, n: Annotated[int, Body()]) -> None: ...

    @app.post("/form")
    def form(a: Annotated[str, Form()]) -> None: ...

    @app.get("/none")
    def none() -> None: ...

    seen = {}
    for route in app.routes[-4:]:
        assert isinstance(route, APIRoute)
        f = route.body_field
        assert f is route.body_field
        seen[route.path] = None
        if f is not None:
            info = f.field_info
            seen[route.path] = (f.name, f.alias, info.annotation.__name__, type(info).__name__)
    assert seen == {
        "/one": ("item", "item", "Item", "Body"),
        "/two": ("body", "body", "Body_two_two_post", "Body"),
        "/form": ("body", "body", "Body_form_form_post", "Form"),
        "/none": None,
    }
    route = app.routes[-1]
    assert isinstance(route, APIRoute)
    route.body_field = "replaced"  # libraries assign it, as on FastAPI's routes
    assert route.body_field == "replaced"


def _nullable_body(payload: Annotated[dict[str, int] | None, Body()] = {"default": 1}) -> None:  # noqa: B006
    ...


@pytest.mark.anyio
async def test_solve_dependencies_body_none_is_json_null() -> None:
    """``body=None`` is a JSON null body (validated), ``Undefined`` an omitted one (default),
    as FastAPI 0.165's ``solve_dependencies`` takes them (cadwyn passes bodies it migrated)."""
    from contextlib import AsyncExitStack

    from starlette.requests import Request

    from hasten.dependencies.utils import solve_dependencies

    dep = get_dependant(path="/", call=_nullable_body)
    seen = []
    for body in (None, Undefined, {"a": 1}):
        async with AsyncExitStack() as stack:
            scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/", "headers": []}
            scope["query_string"] = b""
            scope["fastapi_inner_astack"] = scope["fastapi_function_astack"] = stack
            solved = await solve_dependencies(
                request=Request(scope),
                dependant=dep,
                body=body,
                async_exit_stack=stack,
                embed_body_fields=False,
            )
            seen.append((solved.values, solved.errors))
    assert seen == [
        ({"payload": None}, []),
        ({"payload": {"default": 1}}, []),
        ({"payload": {"a": 1}}, []),
    ]


def test_param_field_type_adapter(form_dependant: Dependant) -> None:
    """A dependant's fields answer FastAPI's ``ModelField._type_adapter`` (cadwyn reads its
    core schema to decide whether to restore a migrated body's aliases)."""
    a = form_dependant.body_params[0]
    assert a._type_adapter.core_schema["type"] in ("model", "definitions")
    q = form_dependant.query_params[0]  # its FieldInfo's default is part of it, as in FastAPI
    assert q._type_adapter.json_schema() == {
        "default": [],
        "items": {"type": "integer"},
        "type": "array",
    }
    assert a._type_adapter.validate_python({"name": "n"}) == FormA(name="n")
