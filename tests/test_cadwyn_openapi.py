"""What cadwyn's changelog reads from FastAPI's OpenAPI helpers, checked on Hasten.

Each expected value below was observed on FastAPI 0.165.0 with the same code.
"""

from __future__ import annotations

from pydantic import BaseModel

from hasten import Body, FastAPI, Query
from hasten.openapi.utils import get_fields_from_routes


class _Item(BaseModel):
    name: str


class _Out(BaseModel):
    id: int


def test_fields_from_routes_have_field_info() -> None:
    app = FastAPI()

    @app.post("/one", response_model=_Out)
    def one(item: _Item, q: int | None = Query(None)) -> None: ...

    @app.post("/two")
    def two(a: _Item, b: int = Body()) -> list[_Out]: ...

    fields = {f.name: f.field_info.annotation for f in get_fields_from_routes(app.routes)}
    # FastAPI 0.165.0 (in its order: bodies, responses, parameters): item -> _Item,
    # body -> Body_two_two_post (a generated model), Response_one_one_post -> _Out,
    # Response_two_two_post -> list[_Out], q -> int | None.
    assert sorted(fields) == [
        "Response_one_one_post", "Response_two_two_post", "body", "item", "q",
    ]  # fmt: skip
    assert fields["item"] is _Item
    assert fields["body"].__name__ == "Body_two_two_post"
    assert sorted(fields["body"].model_fields) == ["a", "b"]
    assert fields["Response_one_one_post"] is _Out
    assert fields["Response_two_two_post"] == list[_Out]
    assert fields["q"] == int | None
