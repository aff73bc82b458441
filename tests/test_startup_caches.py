"""Startup shortcuts: what a route is built from is shared only where it is provably the same.

* compiled string annotations (``_plan.analysis._CODE``): the code is shared, each evaluation
  runs afresh in the endpoint's globals (new markers, names rebound since are seen);
* the nodes of a core schema (``_plan.schema``): walked once per schema object, a rebuilt or
  redefined model is walked anew;
* signatures read without ``inspect.signature(..., eval_str=True)`` for plain functions give
  what it gives.
"""

import functools
import inspect
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, field_validator

from hasten import FastAPI, Query
from hasten._plan import analysis, schema
from hasten.routing import APIRoute
from hasten.testclient import TestClient


class Item(BaseModel):
    name: str


def _endpoint_pair() -> tuple[Any, Any]:
    async def first(q: "Annotated[int, Query(ge=1, le=5)]" = 2, item: "Item | None" = None) -> Any:
        return q

    async def second(q: "Annotated[int, Query(ge=1, le=5)]" = 2, item: "Item | None" = None) -> Any:
        return q

    return first, second


def _query(route: APIRoute, name: str = "q") -> Any:
    return next(f for f in route.dependant.query_params if f.name == name)


def test_equal_annotations_share_code_not_markers() -> None:
    first, second = _endpoint_pair()
    a = APIRoute("/a", first, methods=["POST"])
    b = APIRoute("/b", second, methods=["POST"])
    assert "Annotated[int, Query(ge=1, le=5)]" in analysis._CODE
    qa, qb = _query(a), _query(b)
    assert qa.field_info is not qb.field_info  # each route evaluates its own marker
    assert qa.field_info.metadata == qb.field_info.metadata
    qa.field_info.description = "changed"  # a change to one route's marker stays there
    assert qb.field_info.description is None


def test_different_constraints_defaults_and_aliases_stay_apart() -> None:
    async def one(q: "Annotated[int, Query(ge=1)]" = 1) -> Any:
        return q

    async def two(q: "Annotated[int, Query(ge=2)]" = 3) -> Any:
        return q

    async def three(q: "Annotated[int, Query(ge=1, alias='qq')]" = 1) -> Any:
        return q

    app = FastAPI()
    app.get("/one")(one)
    app.get("/two")(two)
    app.get("/three")(three)
    client = TestClient(app)
    assert client.get("/one").json() == 1
    assert client.get("/two").json() == 3
    assert client.get("/one", params={"q": 1}).json() == 1
    assert client.get("/two", params={"q": 1}).status_code == 422
    assert client.get("/three", params={"qq": 4}).json() == 4
    assert client.get("/three", params={"q": 4}).json() == 1
    params = {path: item["get"]["parameters"][0] for path, item in app.openapi()["paths"].items()}
    assert params["/one"]["schema"]["minimum"] == 1
    assert params["/two"]["schema"]["minimum"] == 2
    assert params["/two"]["schema"]["default"] == 3
    assert params["/three"]["name"] == "qq"


def test_names_rebound_between_routes_are_seen() -> None:
    namespace: dict[str, Any] = {"Annotated": Annotated, "Query": Query, "Any": Any}
    source = "async def endpoint(q: 'Limit' = 1) -> Any:\n    return q\n"
    namespace["Limit"] = Annotated[int, Query(le=5)]
    exec(source, namespace)
    first = APIRoute("/first", namespace["endpoint"])
    namespace["Limit"] = Annotated[str, Query(max_length=2)]
    exec(source, namespace)
    second = APIRoute("/second", namespace["endpoint"])
    assert _query(first).type_annotation is int
    assert _query(second).type_annotation is str


def _old_typed_parameters(call: Any) -> list[inspect.Parameter]:
    """What ``typed_parameters`` gave before plain functions were read directly."""
    globalns = getattr(inspect.unwrap(call), "__globals__", {})
    try:
        signature = inspect.signature(call, eval_str=True)
    except NameError:
        signature = inspect.signature(call)
    return [
        p.replace(annotation=analysis._eval(p.annotation, globalns))
        for p in signature.parameters.values()
    ]


def _described(parameters: list[inspect.Parameter]) -> list[tuple[Any, ...]]:
    return [(p.name, p.kind, repr(p.default), repr(p.annotation)) for p in parameters]


def _plain(a, b, c=[], *d, e, **f):  # type: ignore[no-untyped-def]  # noqa: B006
    return Item(name="x")


# Leading blanks (eval() drops them), a container of a model, a return annotation.
_plain.__annotations__ = {
    "a": int, "b": " str", "c": "\tlist[Item]", "d": "int", "e": "Item | None", "f": int,
    "return": "Item",
}  # fmt: skip


def _unknown(a: "Undefined", b: "int") -> "Item":  # type: ignore[name-defined]  # noqa: F821
    return Item(name="x")


def _nested(a: "list['Item']", /, b: "None" = None) -> None:
    return None


def _wrapped_target(a: "int") -> int:
    return a


@functools.wraps(_wrapped_target)
def _wrapper(*args: Any, **kwargs: Any) -> Any:
    return _wrapped_target(*args, **kwargs)


def _with_signature(a: "int") -> int:
    return a


_with_signature.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("z", inspect.Parameter.KEYWORD_ONLY, annotation=str)]
)


@pytest.mark.parametrize(
    "call", [_plain, _unknown, _nested, _wrapper, _with_signature, functools.partial(_plain, 1)]
)
def test_signatures_read_as_before(call: Any) -> None:
    assert _described(analysis.typed_parameters(call)) == _described(_old_typed_parameters(call))
    expected = inspect.signature(call).return_annotation
    expected = None if expected is inspect.Signature.empty else expected
    if expected is not None:
        expected = analysis._eval(expected, getattr(inspect.unwrap(call), "__globals__", {}))
    assert repr(analysis.typed_return_annotation(call)) == repr(expected)


def test_syntax_errors_in_annotations_are_python_s() -> None:
    def broken(a):  # type: ignore[no-untyped-def]
        return None

    broken.__annotations__ = {"a": "int +"}

    with pytest.raises(SyntaxError) as new:
        analysis.typed_parameters(broken)
    with pytest.raises(SyntaxError) as old:
        inspect.signature(broken, eval_str=True)
    assert (new.value.msg, new.value.filename, new.value.text) == (
        old.value.msg,
        old.value.filename,
        old.value.text,
    )


def test_schema_nodes_are_walked_once_per_schema_object() -> None:
    from pydantic import TypeAdapter

    core = TypeAdapter(Item).core_schema
    assert schema.schema_nodes(core) is schema.schema_nodes(core)
    other = TypeAdapter(list[Item]).core_schema
    assert schema.schema_nodes(other) is not schema.schema_nodes(core)
    kinds = {node["type"] for node in schema.schema_nodes(other)}
    assert {"list", "model"} <= kinds


def test_a_redefined_model_is_walked_anew() -> None:
    """A model named like an earlier one, now with a validator: its route sees the validator
    (user code runs, so its inputs are solved again on a cache hit)."""
    from hasten._plan.dependencies import _schema_runs_user_code

    def make(checked: bool) -> type[BaseModel]:
        class Body(BaseModel):
            name: str

            if checked:

                @field_validator("name")
                @classmethod
                def upper(cls, value: str) -> str:
                    return value.upper()

        return Body

    plain, checked = make(False), make(True)
    assert not _schema_runs_user_code(plain.__pydantic_core_schema__)
    assert _schema_runs_user_code(checked.__pydantic_core_schema__)
    app = FastAPI()

    @app.post("/plain")
    def take_plain(body: plain) -> Any:  # type: ignore[valid-type]
        return body

    @app.post("/checked")
    def take_checked(body: checked) -> Any:  # type: ignore[valid-type]
        return body

    client = TestClient(app)
    assert client.post("/plain", json={"name": "a"}).json() == {"name": "a"}
    assert client.post("/checked", json={"name": "a"}).json() == {"name": "A"}
    nodes = {r.path: r.plan.root.user_code for r in app.routes if hasattr(r, "plan")}
    assert nodes == {"/plain": False, "/checked": True}


def test_model_rebuild_gives_a_new_walk() -> None:
    class Later(BaseModel):
        child: "Child | None" = None

    class Child(BaseModel):
        value: int

    Later.model_rebuild(_types_namespace={"Child": Child})
    before = Later.__pydantic_core_schema__
    nodes_before = schema.schema_nodes(before)
    Later.model_rebuild(force=True, _types_namespace={"Child": Child})
    after = Later.__pydantic_core_schema__
    assert after is not before
    assert schema.schema_nodes(after) is not nodes_before
    assert any(n["type"] == "int" for n in schema.schema_nodes(after))


def test_document_adapters_are_shared_only_by_identical_parameters() -> None:
    from hasten.openapi._fields import _adapter

    def info(**options: Any) -> Any:
        marker = Query(**options)
        marker.annotation = int
        return marker

    same = _adapter(int, info(default=1, ge=1), None)
    assert _adapter(int, info(default=1, ge=1), None) is same
    assert _adapter(int, info(default=1, ge=2), None) is not same
    assert _adapter(int, info(default=2, ge=1), None) is not same
    assert _adapter(int, info(default=1, ge=1, alias="other"), None) is not same
    assert _adapter(int, info(default=True, ge=1), None) is not same  # 1 == True
    assert _adapter(int, info(default=1, ge=1), {"title": "T"}) is not same


def test_document_defaults_keep_their_types() -> None:
    app = FastAPI()

    @app.get("/one")
    def one(q: int | bool = 1) -> Any:
        return q

    @app.get("/true")
    def true(q: int | bool = True) -> Any:
        return q

    paths = app.openapi()["paths"]
    one_default = paths["/one"]["get"]["parameters"][0]["schema"]["default"]
    true_default = paths["/true"]["get"]["parameters"][0]["schema"]["default"]
    assert type(one_default) is int and one_default == 1
    assert true_default is True
