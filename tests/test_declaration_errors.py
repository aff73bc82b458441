"""Mistakes in declarations fail when the route is declared, as in FastAPI, and say where.

Every expected type and text below was observed on FastAPI 0.165.0 (Python 3.11 and 3.13)
with the same declaration; Hasten adds ``[METHOD /path, endpoint=..., param=...]`` in front.
"""

from __future__ import annotations

import dataclasses
import inspect
import ipaddress
import pickle
import re
import sys
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from hasten import (
    APIRouter,
    Body,
    Cookie,
    Depends,
    FastAPI,
    File,
    Form,
    Hasten,
    Header,
    Path,
    Query,
    Request,
    Security,
    params,
)
from hasten._plan import typeinfo
from hasten.dependencies.utils import get_typed_signature
from hasten.exceptions import (
    ConflictingDefaultError,
    DeclarationError,
    FastAPIError,
    HastenError,
    InvalidDeclarationError,
    InvalidParameterTypeError,
)
from hasten.testclient import TestClient

PY313 = sys.version_info >= (3, 13)


def unexpected(func: str, key: str, suggestion: str | None = None) -> str:
    """Python's message for an unknown keyword (3.13 adds a suggestion when one is close)."""
    text = f"{func}() got an unexpected keyword argument '{key}'"
    return f"{text}. Did you mean '{suggestion}'?" if PY313 and suggestion else text


def raised(action: Callable[[], Any]) -> BaseException:
    with pytest.raises(BaseException) as info:
        action()
    return info.value


# --- unknown keyword arguments (item 10) ----------------------------------------------------

MARKERS: dict[str, Callable[..., Any]] = {
    "Path": Path,
    "Query": Query,
    "Header": Header,
    "Cookie": Cookie,
    "Body": Body,
    "Form": Form,
    "File": File,
}
CLASSES: dict[str, type] = {
    "Param": params.Param,
    "Path": params.Path,
    "Query": params.Query,
    "Header": params.Header,
    "Cookie": params.Cookie,
    "Body": params.Body,
    "Form": params.Form,
    "File": params.File,
}


@pytest.mark.parametrize("name", sorted(MARKERS))
def test_misspelled_option_of_a_marker_function_is_a_type_error(name: str) -> None:
    # FastAPI 0.165.0: TypeError "Query() got an unexpected keyword argument 'max_lenght'"
    # (Python 3.13 adds ". Did you mean 'max_length'?").
    error = raised(lambda: MARKERS[name](max_lenght=3))
    assert type(error) is TypeError
    assert str(error) == unexpected(name, "max_lenght", "max_length")


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_misspelled_option_of_a_marker_class_is_a_type_error(name: str) -> None:
    # FastAPI 0.165.0: "Query.__init__() got an unexpected keyword argument 'max_lenght'".
    error = raised(lambda: CLASSES[name](max_lenght=3))
    assert type(error) is TypeError
    assert str(error) == unexpected(f"{name}.__init__", "max_lenght", "max_length")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        # Options of other markers, and Pydantic options FastAPI's signatures do not have.
        (lambda: Query(embed=True), unexpected("Query", "embed")),
        (lambda: Query(convert_underscores=True), unexpected("Query", "convert_underscores")),
        (lambda: Query(media_type="x"), unexpected("Query", "media_type")),
        (lambda: Body(convert_underscores=True), unexpected("Body", "convert_underscores")),
        (lambda: Form(embed=True), unexpected("Form", "embed")),
        (lambda: params.Form(embed=True), unexpected("Form.__init__", "embed")),
        (lambda: File(embed=True), unexpected("File", "embed")),
        (lambda: Query(annotation=int), unexpected("Query", "annotation")),
        (lambda: Query(min_items=1), unexpected("Query", "min_items")),
        (lambda: Query(const=1), unexpected("Query", "const")),
        (lambda: Query(frozen=True), unexpected("Query", "frozen")),
        (lambda: Query(exclude=True), unexpected("Query", "exclude")),
        (lambda: Query(coerce_numbers_to_str=True), unexpected("Query", "coerce_numbers_to_str")),
        # The first unknown keyword, in call order, is the one reported.
        (lambda: Query(xyz=1, abc=2), unexpected("Query", "xyz")),
        (lambda: Query(defualt=3), unexpected("Query", "defualt", "default")),
        (
            lambda: Header(convert_underscore=False),
            unexpected("Header", "convert_underscore", "convert_underscores"),
        ),
        # Checked before the body runs: the unknown keyword wins over Path's default check.
        (lambda: Path(3, max_lenght=1), unexpected("Path", "max_lenght", "max_length")),
        (
            lambda: params.Path(3, max_lenght=1),
            unexpected("Path.__init__", "max_lenght", "max_length"),
        ),
        # Security() takes dependency, scopes and use_cache only.
        (lambda: Security(scope="function"), unexpected("Security", "scope", "scopes")),
        (lambda: Security(max_concurrency=2), unexpected("Security", "max_concurrency")),
        (lambda: Depends(use_cahce=False), unexpected("Depends", "use_cahce", "use_cache")),
        (
            lambda: params.Depends(use_cahce=False),
            unexpected("Depends.__init__", "use_cahce", "use_cache"),
        ),
        (lambda: Query(1, 2), "Query() takes from 0 to 1 positional arguments but 2 were given"),
        (lambda: Query(1, default=2), "Query() got multiple values for argument 'default'"),
    ],
)
def test_keywords_fastapi_rejects(make: Callable[[], Any], message: str) -> None:
    error = raised(make)
    assert type(error) is TypeError
    assert str(error) == message


def test_keywords_fastapi_accepts_still_work() -> None:
    assert params.Query(annotation=int).annotation is int  # the classes take `annotation`
    assert Header(convert_underscores=False).convert_underscores is False
    body = Body(embed=True, media_type="application/vnd+json")
    assert (body.embed, body.media_type) == (True, "application/vnd+json")
    assert params.Security(scope="function", max_concurrency=2).max_concurrency == 2
    assert Depends(max_concurrency=2).max_concurrency == 2
    query = Query(
        None, alias="q", title="T", description="D", min_length=1, max_length=5,
        pattern="^a", examples=["a"], openapi_examples={"x": {"value": "a"}},
        deprecated=True, include_in_schema=False, json_schema_extra={"x-y": 1},
    )  # fmt: skip
    assert (query.alias, query.include_in_schema, query.json_schema_extra) == (
        "q",
        False,
        {"x-y": 1},
    )


def test_deprecated_options_warn_at_the_callers_line() -> None:
    # FastAPI 0.165.0 warns (FastAPIDeprecationWarning) for `regex` and `example`.
    with pytest.warns(Warning, match="`regex` has been deprecated") as record:
        Query(regex="^a")
    assert record[0].filename == __file__
    with pytest.warns(Warning, match="`example` has been deprecated") as record:
        File(example=1)
    assert record[0].filename == __file__


# --- a default and a default_factory (item 10) -----------------------------------------------


def _route_with(decorate: str, path: str, annotation: Any, default: Any) -> None:
    app = FastAPI()

    def endpoint(x: int = default) -> None: ...

    endpoint.__annotations__["x"] = annotation
    getattr(app, decorate)(path)(endpoint)


@pytest.mark.parametrize(
    ("method", "marker"),
    [
        ("get", Query(default_factory=lambda: 1)),
        ("get", Header(default_factory=lambda: 1)),
        ("get", Cookie(default_factory=lambda: 1)),
        ("post", Body(default_factory=lambda: 1)),
        ("websocket", Query(default_factory=lambda: 1)),
    ],
)
def test_annotated_default_factory_and_default_is_a_type_error(method: str, marker: Any) -> None:
    # FastAPI 0.165.0: TypeError "cannot specify both default and default_factory".
    error = raised(lambda: _route_with(method, "/", Annotated[int, marker], 2))
    assert isinstance(error, TypeError) and isinstance(error, ConflictingDefaultError)
    verb = "WEBSOCKET" if method == "websocket" else method.upper()
    assert str(error) == (
        f"[{verb} /, endpoint=endpoint, param=x] cannot specify both default and default_factory"
    )


def test_annotated_pydantic_field_default_factory_and_default_is_a_type_error() -> None:
    # FastAPI 0.165.0: TypeError "cannot specify both default and default_factory".
    with pytest.raises(TypeError, match="cannot specify both default and default_factory"):
        _route_with("get", "/", Annotated[int, Field(default_factory=lambda: 1)], 2)


def test_annotated_path_param_with_default_is_an_assertion_error() -> None:
    # FastAPI 0.165.0: AssertionError "Path parameters cannot have default values".
    annotation = Annotated[int, Path(default_factory=lambda: 1)]
    error = raised(lambda: _route_with("get", "/{x}", annotation, 2))
    assert isinstance(error, AssertionError) and isinstance(error, HastenError)
    assert (
        str(error)
        == "[GET /{x}, endpoint=endpoint, param=x] Path parameters cannot have default values"
    )


def test_default_factory_alone_still_applies() -> None:
    app = FastAPI()

    @app.get("/")
    def read(x: Annotated[int, Query(default_factory=lambda: 7)]) -> int:
        return x

    assert TestClient(app).get("/").json() == 7


# --- FastAPI's AssertionErrors: same type and wording, with the place in front ---------------


class Item(BaseModel):
    a: int


def _app_raising(build: Callable[[FastAPI], Any]) -> BaseException:
    return raised(lambda: build(FastAPI()))


def _declare(app: FastAPI, method: str, path: str, endpoint: Callable[..., Any]) -> None:
    getattr(app, method)(path)(endpoint)


def _query_default_in_annotated(x: Annotated[int, Query(3)]) -> None: ...
def _depends_twice(x: Annotated[int, Depends(lambda: 1)] = Depends(lambda: 2)) -> None: ...
def _query_and_depends(x: Annotated[int, Query()] = Depends(lambda: 2)) -> None: ...
def _query_twice(x: Annotated[int, Query()] = Query(3)) -> None: ...
def _query_for_path(x: int = Query()) -> None: ...
def _model_in_path(x: Item) -> None: ...
def _dict_in_query(x: dict[str, Item] = Query()) -> None: ...
def _request_as_query(x: Annotated[Request, Query()]) -> None: ...


@pytest.mark.parametrize(
    ("endpoint", "path", "message"),
    [
        (
            _query_default_in_annotated,
            "/",
            "`Query` default value cannot be set in `Annotated` for 'x'. Set the default value"
            " with `=` instead.",
        ),
        (
            _depends_twice,
            "/",
            "Cannot specify `Depends` in `Annotated` and default value together for 'x'",
        ),
        (
            _query_and_depends,
            "/",
            "Cannot specify a FastAPI annotation in `Annotated` and `Depends` as a default value"
            " together for 'x'",
        ),
        (
            _query_twice,
            "/",
            "Cannot specify FastAPI annotations in `Annotated` and default value together for 'x'",
        ),
        (_query_for_path, "/{x}", "Cannot use `Query` for path param 'x'"),
        (_model_in_path, "/{x}", "Path params must be of one of the supported types"),
        (_dict_in_query, "/", "Query parameter 'x' must be one of the supported types"),
        (
            _request_as_query,
            "/",
            "Cannot specify FastAPI annotation for type <class 'starlette.requests.Request'>",
        ),
    ],
)
def test_fastapi_assertion_errors_keep_their_type_and_wording(
    endpoint: Callable[..., Any], path: str, message: str
) -> None:
    error = _app_raising(lambda app: _declare(app, "get", path, endpoint))
    assert isinstance(error, AssertionError)  # what FastAPI 0.165.0 raises
    assert isinstance(error, InvalidDeclarationError) and isinstance(error, HastenError)
    assert str(error) == f"[GET {path}, endpoint={endpoint.__name__}, param=x] {message}"
    assert error.args == (str(error),)
    assert (error.route, error.endpoint, error.param) == (f"GET {path}", endpoint.__name__, "x")


def test_path_marker_with_a_default_is_an_assertion_error() -> None:
    # FastAPI 0.165.0: AssertionError "Path parameters cannot have a default value".
    with pytest.raises(AssertionError, match="^Path parameters cannot have a default value$"):
        Path(3)
    with pytest.raises(InvalidDeclarationError):
        params.Path(3)


# --- a type Pydantic cannot validate (item 15) -----------------------------------------------


class Plain:
    def __init__(self, x: int) -> None:
        self.x = x


HINT = (
    "Invalid args for response field! Hint: check that {} is a valid Pydantic field type."
    " If you are using a return type annotation that is not a valid Pydantic field"
    " (e.g. Union[Response, dict, None]) you can disable generating the response model from"
    " the type annotation with the path operation decorator parameter response_model=None."
    " Read more: https://fastapi.tiangolo.com/tutorial/response-model/"
)


def _plain_body(item_id: int, p: Plain) -> None: ...
def _plain_query(p: Annotated[Plain, Query()]) -> None: ...
def _plain_optional(p: Plain | None = None) -> None: ...
def _plain_in_dict(p: dict[str, Plain] = Body()) -> None: ...
def _plain_form(p: Annotated[Plain, Form()]) -> None: ...


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        # FastAPI 0.165.0 raises FastAPIError with its hint, naming the declared annotation.
        (_plain_body, "<class '{M}.Plain'>"),  # {M}: this module's name
        (_plain_query, "typing.Annotated[{M}.Plain, Query(PydanticUndefined)]"),
        (_plain_optional, "{M}.Plain | None"),
        (_plain_in_dict, "dict[str, {M}.Plain]"),
        (_plain_form, "typing.Annotated[{M}.Plain, Form(PydanticUndefined)]"),
    ],
)
def test_plain_class_parameter_names_route_endpoint_and_parameter(
    endpoint: Callable[..., Any], shown: str
) -> None:
    error = _app_raising(lambda app: _declare(app, "post", "/items/{item_id}", endpoint))
    assert isinstance(error, FastAPIError) and isinstance(error, InvalidParameterTypeError)
    assert not isinstance(error, AssertionError)
    shown = shown.replace("{M}", Plain.__module__)
    assert str(error) == (
        f"[POST /items/{{item_id}}, endpoint={endpoint.__name__}, param=p] {HINT.format(shown)}"
    )
    assert "Unable to generate pydantic-core schema" in str(error.__cause__)


def test_plain_class_in_a_sub_dependency_names_the_chain() -> None:
    def inner(p: Annotated[Plain, Query()]) -> None: ...

    def outer(i: None = Depends(inner)) -> None: ...

    app = FastAPI()
    with pytest.raises(FastAPIError) as info:

        @app.put("/n/{id}")
        def update(id: int, o: None = Depends(outer)) -> None: ...

    assert str(info.value).startswith(
        "[PUT /n/{id}, endpoint=update, dependency=outer -> inner, param=p] Invalid args for"
        f" response field! Hint: check that typing.Annotated[{Plain.__module__}.Plain,"
        " Query(PydanticUndefined)] is a valid Pydantic field type."
    )


def test_plain_class_in_route_and_router_dependencies() -> None:
    def dep(p: Plain) -> None: ...

    router = APIRouter(dependencies=[Depends(dep)])
    with pytest.raises(FastAPIError, match=re.escape("[GET /r, endpoint=read, dependency=dep")):

        @router.get("/r")
        def read() -> None: ...

    app = FastAPI()
    with pytest.raises(FastAPIError, match=re.escape("[DELETE /d, endpoint=drop, dependency=dep")):

        @app.delete("/d", dependencies=[Depends(dep)])
        def drop() -> None: ...


def test_plain_class_in_a_websocket_endpoint() -> None:
    app = FastAPI()
    with pytest.raises(FastAPIError, match=re.escape("[WEBSOCKET /ws, endpoint=talk, param=p]")):

        @app.websocket("/ws")
        def talk(p: Plain) -> None: ...


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_types_pydantic_knows_are_not_rejected() -> None:
    app = FastAPI()

    @app.post("/{ip}")
    def create(ip: ipaddress.IPv4Address, point: Point, extra: Any = None) -> dict[str, Any]:
        return {"ip": str(ip), "point": dataclasses.asdict(point), "extra": extra}

    answer = TestClient(app).post("/10.0.0.1?extra=z", json={"x": 1, "y": 2})
    assert answer.json() == {"ip": "10.0.0.1", "point": {"x": 1, "y": 2}, "extra": "z"}


@pytest.mark.parametrize(
    ("annotation", "needed"),
    [
        (int, False),
        (str | None, False),
        (list[int], False),
        (dict[str, list[Item]], False),
        (tuple[int, ...], False),
        (Annotated[int, Query()], False),
        (Item | None, False),
        (Any, False),
        (Plain, True),
        (list[Plain], True),
        (Point, True),  # a dataclass may hold a field Pydantic cannot validate
        (ipaddress.IPv4Address, True),  # not in the short list: built once to be sure
    ],
)
def test_needs_schema_check(annotation: Any, needed: bool) -> None:
    assert typeinfo.needs_schema_check(annotation) is needed


# --- signatures rewritten after the first analysis (item 16) ---------------------------------


class View:
    def get(self, q: int = 1) -> dict[str, Any]:
        return {"self": type(self).__name__, "q": q}


def _as_class_based_view(function: Callable[..., Any], cls: type) -> None:
    """What class-based-view helpers do: ``self`` becomes ``Depends(cls)``."""
    signature = inspect.signature(function)
    first, *rest = signature.parameters.values()
    kw = inspect.Parameter.KEYWORD_ONLY
    new = [first.replace(default=Depends(cls), kind=kw), *(p.replace(kind=kw) for p in rest)]
    function.__signature__ = signature.replace(parameters=new)  # type: ignore[attr-defined]


def test_signature_rewritten_before_include_router_is_read_again() -> None:
    class CBV:
        def get(self, q: int = 1) -> dict[str, Any]:
            return {"self": type(self).__name__, "q": q}

    router = APIRouter()
    router.add_api_route("/x", CBV.get, methods=["GET"])
    _as_class_based_view(CBV.get, CBV)
    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    # FastAPI 0.165.0: 200 {"self": "CBV", "q": 3}, and only `q` in the OpenAPI parameters.
    assert client.get("/x?q=3").json() == {"self": "CBV", "q": 3}
    parameters = client.get("/openapi.json").json()["paths"]["/x"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["q"]
    assert list(get_typed_signature(CBV.get).parameters) == ["self", "q"]


def test_annotations_replaced_before_include_router_are_read_again() -> None:
    def read(a):  # type: ignore[no-untyped-def]
        return {"a": a}

    router = APIRouter()
    router.add_api_route("/y", read)
    read.__annotations__ = {"a": int}
    app = FastAPI()
    app.include_router(router)
    # FastAPI 0.165.0: {"a": 5} (an int: the new annotation is used).
    assert TestClient(app).get("/y?a=5").json() == {"a": 5}


def test_a_route_keeps_the_signature_it_was_declared_with() -> None:
    app = FastAPI()

    def read(a: int) -> dict[str, int]:
        return {"a": a}

    app.add_api_route("/z", read)
    read.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("b", inspect.Parameter.KEYWORD_ONLY, annotation=int)]
    )
    client = TestClient(app)
    # FastAPI 0.165.0: the route built before the rewrite keeps reading `a` (200), not `b` (422).
    assert client.get("/z?a=5").status_code == 200
    assert client.get("/z?b=5").status_code == 422


def test_a_dependency_rewritten_between_two_routes() -> None:
    def dep(**values: int) -> int:
        return sum(values.values())

    def only(name: str) -> inspect.Signature:
        kind = inspect.Parameter.KEYWORD_ONLY
        return inspect.Signature([inspect.Parameter(name, kind, annotation=int)])

    dep.__signature__ = only("x")  # type: ignore[attr-defined]
    app = FastAPI()

    @app.get("/one")
    def one(v: int = Depends(dep)) -> int:
        return v

    dep.__signature__ = only("y")  # type: ignore[attr-defined]

    @app.get("/two")
    def two(v: int = Depends(dep)) -> int:
        return v

    client = TestClient(app)
    assert client.get("/one?x=1").json() == 1
    assert client.get("/two?y=2").json() == 2
    assert client.get("/two?x=2").status_code == 422


# --- the error type ------------------------------------------------------------------------


def test_declaration_error_formats_what_it_knows() -> None:
    error = DeclarationError("went wrong")
    assert str(error) == "went wrong" and error.endpoint is None

    def leaf() -> None: ...

    def endpoint() -> None: ...

    error.in_call(leaf, path="/a/{b}", param="b")
    assert str(error) == "[/a/{b}, endpoint=leaf, param=b] went wrong"
    error.at_route({"POST", "GET"}, "/a/{b}", endpoint)
    assert str(error) == "[GET,POST /a/{b}, endpoint=endpoint, dependency=leaf, param=b] went wrong"
    assert error.args == (str(error),)


def test_declaration_error_pickles_without_the_functions() -> None:
    app = FastAPI()
    with pytest.raises(InvalidDeclarationError) as info:

        @app.get("/{x}")
        def read(x: int = Query()) -> None: ...

    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is InvalidDeclarationError
    assert (
        str(copy)
        == str(info.value)
        == ("[GET /{x}, endpoint=read, param=x] Cannot use `Query` for path param 'x'")
    )
    assert (copy.route, copy.calls, copy.param) == ("GET /{x}", ["read"], "x")


# --- configuration mistakes outside an endpoint's parameters ----------------------------------
# FastAPI 0.165.0 raises a bare AssertionError (or FastAPIError) with the text after the
# brackets; Hasten raises a DeclarationError that is also that type and says where first.


class _Item(BaseModel):
    a: int


def _ok() -> None: ...


def _no_content() -> _Item:
    return _Item(a=1)


def _include_self(app: FastAPI) -> None:
    router = APIRouter()
    router.include_router(router, prefix="/self")


def _include_cycle(app: FastAPI) -> None:
    outer, inner = APIRouter(), APIRouter()
    outer.include_router(inner)
    inner.include_router(outer, prefix="/back")


def _empty_paths(app: FastAPI) -> None:
    router = APIRouter()
    router.add_api_route("", _ok)
    app.include_router(router)


CONFIGURATION_MISTAKES: list[tuple[str, Callable[[FastAPI], Any], type[BaseException], str]] = [
    ("endpoint not callable", lambda app: app.add_api_route("/x", "nope"),
     AssertionError, "[GET /x, endpoint=str] An endpoint must be a callable"),
    ("response not a dict", lambda app: app.get("/r", responses={404: "x"})(_ok),
     AssertionError, "[GET /r, endpoint=_ok] An additional response must be a dict"),
    ("response model on 204", lambda app: app.get("/r", responses={204: {"model": _Item}})(_ok),
     AssertionError, "[GET /r, endpoint=_ok] Status code 204 must not have a response body"),
    ("response model with status 204", lambda app: app.get("/n", status_code=204)(_no_content),
     AssertionError,
     "[GET /n, endpoint=_no_content] Status code 204 must not have a response body"),
    ("dependency not callable", lambda app: app.post("/d", dependencies=[Depends(None)])(_ok),
     AssertionError,
     "[POST /d, endpoint=_ok] A parameter-less dependency must have a callable dependency"),
    ("router includes itself", _include_self, AssertionError,
     "[include_router prefix='/self'] Cannot include the same APIRouter instance into itself."
     " Did you mean to include a different router?"),
    ("router includes its includer", _include_cycle, AssertionError,
     "[include_router prefix='/back'] Cannot include an APIRouter instance that already"
     " includes this router. Did you mean to include a different router?"),
    ("include prefix without slash", lambda app: app.include_router(APIRouter(), prefix="v1"),
     AssertionError, "[include_router prefix='v1'] A path prefix must start with '/'"),
    ("router prefix ending in slash", lambda app: APIRouter(prefix="/v1/"), AssertionError,
     "[APIRouter prefix='/v1/'] A path prefix must not end with '/', as the routes will"
     " start with '/'"),
    ("empty prefix and path", _empty_paths, FastAPIError,
     "[include_router prefix=''] Prefix and path cannot be both empty (path operation: _ok)"),
    ("unknown event", lambda app: app.add_event_handler("start", _ok), AssertionError,
     "[add_event_handler event_type='start'] Unknown event type: 'start' (use 'startup' or"
     " 'shutdown')"),
    ("frontend path", lambda app: app.frontend("app", directory=".", check_dir=False),
     AssertionError, "[frontend path='app'] A frontend path must start with '/'"),
    ("frontend fallback",
     lambda app: app.frontend("/app", directory=".", fallback="x", check_dir=False),  # type: ignore[arg-type]
     AssertionError,
     "[frontend path='/app'] fallback must be 'auto', 'index.html', '404.html', or None"),
    ("openapi url", lambda app: FastAPI(openapi_url="openapi.json"), AssertionError,
     "[FastAPI openapi_url='openapi.json'] A path for OpenAPI must start with '/'"),
    ("no title", lambda app: FastAPI(title=""), AssertionError,
     "[FastAPI openapi_url='/openapi.json'] A title must be provided for OpenAPI, e.g.:"
     " 'My API'"),
    ("no version", lambda app: Hasten(version=""), AssertionError,
     "[Hasten openapi_url='/openapi.json'] A version must be provided for OpenAPI, e.g.:"
     " '2.1.0'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "kind", "message"),
    [case[1:] for case in CONFIGURATION_MISTAKES],
    ids=[case[0] for case in CONFIGURATION_MISTAKES],
)
def test_configuration_mistakes_say_where_then_fastapis_words(
    build: Callable[[FastAPI], Any], kind: type[BaseException], message: str
) -> None:
    error = _app_raising(build)
    assert isinstance(error, kind) and isinstance(error, DeclarationError)
    assert str(error) == message
    assert error.args == (message,)


def test_openapi_title_and_version_may_be_empty_without_openapi() -> None:
    app = FastAPI(title="", version="", openapi_url=None)
    assert app.title == "" and app.openapi_url is None


def test_invalid_response_model_names_the_route_in_front() -> None:
    def lister() -> Plain:  # type: ignore[empty-body]
        ...

    def missing() -> None: ...

    app = FastAPI()
    with pytest.raises(FastAPIError) as info:
        app.get("/plain")(lister)
    assert str(info.value).startswith(
        "[GET /plain, endpoint=lister] Invalid args for response field! Hint: check that"
        f" <class '{Plain.__module__}.Plain'> is a valid Pydantic field type."
    )
    assert str(info.value).endswith("/tutorial/response-model/")
    with pytest.raises(FastAPIError) as info:
        app.get("/other", responses={418: {"model": Plain}})(missing)
    assert str(info.value).startswith(
        "[GET /other, endpoint=missing, param=responses[418]] Invalid args for response field!"
    )
    assert not isinstance(info.value, AssertionError)
