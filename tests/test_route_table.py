"""The route table: every change of ``router.routes`` is noticed, inclusions keep their place.

The expected answers are FastAPI 0.165.0's for the same apps (each was run on it): requests
follow the current order of ``app.router.routes`` (first match wins) after any list operation,
and routes added to an included router, even one that was empty when it was included, answer
from where the inclusion was declared. Unit tests of ``RouteList``, ``Matcher`` and the table
without a server are at the end.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import pytest
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Host, Mount, Route, Router, WebSocketRoute

from hasten import APIRouter, FastAPI, Request, WebSocket
from hasten._routing.context import ORIGINAL_ATTR
from hasten._routing.matcher import Matcher
from hasten._routing.options import MERGED, merge_options
from hasten._routing.table import RouteList
from hasten.datastructures import Default, DefaultPlaceholder
from hasten.routing import APIRoute
from hasten.testclient import TestClient
from hasten.utils import generate_unique_id


def endpoint(tag: str) -> Callable[[], dict[str, str]]:
    def answer() -> dict[str, str]:
        return {"who": tag}

    answer.__name__ = "answer_" + "".join(c if c.isalnum() else "_" for c in tag)
    return answer


def answers(app: FastAPI, *paths: str) -> list[tuple[int, Any]]:
    """(status, body) of a GET of each path, on a fresh client."""
    client = TestClient(app)
    result = []
    for path in paths:
        response = client.get(path)
        result.append((response.status_code, response.json()))
    return result


def openapi_paths(app: FastAPI) -> list[str]:
    """The paths of a freshly generated OpenAPI document (FastAPI caches the first one)."""
    app.openapi_schema = None
    return list(app.openapi()["paths"])


def who(tag: str) -> tuple[int, dict[str, str]]:
    return (200, {"who": tag})


NOT_FOUND = (404, {"detail": "Not Found"})


def route_at(app: FastAPI, path: str) -> int:
    return next(i for i, r in enumerate(app.router.routes) if getattr(r, "path", None) == path)


def base_app() -> FastAPI:
    """/a twice, /b, then /{x}; each test asks once first so that the index is built."""
    app = FastAPI()
    app.get("/a")(endpoint("a1"))
    app.get("/a")(endpoint("a2"))
    app.get("/b")(endpoint("b"))
    app.get("/{x}")(endpoint("x"))
    assert answers(app, "/a", "/b", "/c") == [who("a1"), who("b"), who("x")]
    assert openapi_paths(app) == ["/a", "/b", "/{x}"]
    return app


# --- list operations on app.router.routes after the first request -------------------------------


def _reverse(app: FastAPI) -> None:
    app.router.routes.reverse()


def _reverse_app_routes(app: FastAPI) -> None:
    app.routes.reverse()


def _pop_first_a(app: FastAPI) -> None:
    app.router.routes.pop(route_at(app, "/a"))


def _insert_catch_all_first(app: FastAPI) -> None:
    app.router.routes.insert(0, app.router.routes.pop(route_at(app, "/{x}")))


def _del_catch_all(app: FastAPI) -> None:
    del app.router.routes[route_at(app, "/{x}")]


def _replace_b(app: FastAPI) -> None:
    app.router.routes[route_at(app, "/b")] = APIRoute("/c", endpoint("c"))


def _replace_catch_all_same_length(app: FastAPI) -> None:
    app.router.routes[-1] = APIRoute("/{y}", endpoint("y"))


def _slice_assign_own_reversed(app: FastAPI) -> None:
    own = [r for r in app.router.routes if isinstance(r, APIRoute)]
    rest = [r for r in app.router.routes if not isinstance(r, APIRoute)]
    app.router.routes[:] = rest + own[::-1]


def _sort_catch_all_first(app: FastAPI) -> None:
    app.router.routes.sort(key=lambda r: getattr(r, "path", "") != "/{x}")


def _iadd(app: FastAPI) -> None:
    app.router.routes += [APIRoute("/c", endpoint("c"))]


def _assign_new_list(app: FastAPI) -> None:
    app.router.routes = list(reversed(app.router.routes))


def _clear(app: FastAPI) -> None:
    app.router.routes.clear()


def _add_api_route_then_move_it_first(app: FastAPI) -> None:
    app.add_api_route("/c", endpoint("c"))
    app.router.routes.insert(0, app.router.routes.pop())


def _router_add_api_route(app: FastAPI) -> None:
    app.router.add_api_route("/c", endpoint("c"))


MUTATIONS: list[tuple[Callable[[FastAPI], None], list[Any], list[str]]] = [
    (_reverse, [who("x"), who("x"), who("x")], ["/{x}", "/b", "/a"]),
    (_reverse_app_routes, [who("x"), who("x"), who("x")], ["/{x}", "/b", "/a"]),
    (_pop_first_a, [who("a2"), who("b"), who("x")], ["/a", "/b", "/{x}"]),
    (_insert_catch_all_first, [who("x"), who("x"), who("x")], ["/{x}", "/a", "/b"]),
    (_del_catch_all, [who("a1"), who("b"), NOT_FOUND], ["/a", "/b"]),
    (_replace_b, [who("a1"), who("x"), who("c")], ["/a", "/c", "/{x}"]),
    (_replace_catch_all_same_length, [who("a1"), who("b"), who("y")], ["/a", "/b", "/{y}"]),
    (_slice_assign_own_reversed, [who("x"), who("x"), who("x")], ["/{x}", "/b", "/a"]),
    (_sort_catch_all_first, [who("x"), who("x"), who("x")], ["/{x}", "/a", "/b"]),
    (_iadd, [who("a1"), who("b"), who("x")], ["/a", "/b", "/{x}", "/c"]),
    (_assign_new_list, [who("x"), who("x"), who("x")], ["/{x}", "/b", "/a"]),
    (_clear, [NOT_FOUND, NOT_FOUND, NOT_FOUND], []),
    (
        _add_api_route_then_move_it_first,
        [who("a1"), who("b"), who("c")],
        ["/c", "/a", "/b", "/{x}"],
    ),
    (_router_add_api_route, [who("a1"), who("b"), who("x")], ["/a", "/b", "/{x}", "/c"]),
]


@pytest.mark.parametrize(
    ("mutate", "expected", "paths"), MUTATIONS, ids=[m[0].__name__.strip("_") for m in MUTATIONS]
)
def test_requests_follow_the_current_list_after_a_change(
    mutate: Callable[[FastAPI], None], expected: list[Any], paths: list[str]
) -> None:
    app = base_app()
    mutate(app)
    assert answers(app, "/a", "/b", "/c") == expected
    assert openapi_paths(app) == paths


def test_a_removed_route_is_not_served_and_comes_back_at_the_end_when_re_added() -> None:
    app = base_app()
    b = app.router.routes[route_at(app, "/b")]
    app.router.routes.remove(b)
    assert answers(app, "/a", "/b") == [who("a1"), who("x")]
    assert openapi_paths(app) == ["/a", "/{x}"]
    app.router.routes.append(b)
    assert answers(app, "/a", "/b") == [who("a1"), who("x")]
    assert openapi_paths(app) == ["/a", "/{x}", "/b"]


def test_cleared_routes_then_a_new_route() -> None:
    app = base_app()
    app.router.routes.clear()
    assert answers(app, "/a", "/z") == [NOT_FOUND, NOT_FOUND]
    app.get("/z")(endpoint("z"))
    assert answers(app, "/a", "/z") == [NOT_FOUND, who("z")]
    assert openapi_paths(app) == ["/z"]


def test_405_and_slash_redirects_follow_the_current_list() -> None:
    app = FastAPI()
    app.post("/a")(endpoint("post_a"))
    app.get("/c/")(endpoint("c_slash"))
    client = TestClient(app)
    assert client.get("/a").status_code == 405
    assert client.get("/c", follow_redirects=False).status_code == 307
    app.get("/{x}")(endpoint("x"))
    app.router.routes.reverse()
    assert client.get("/a").json() == {"who": "x"}
    assert client.post("/a").json() == {"who": "post_a"}
    assert client.put("/a").status_code == 405
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", "") != "/c/"]
    assert client.get("/c", follow_redirects=False).json() == {"who": "x"}


def test_the_index_is_built_once_per_change_not_per_request() -> None:
    app = base_app()
    router = app.router
    matcher = router._matcher
    assert matcher is not None
    answers(app, "/a", "/b", "/q")
    assert router._matcher is matcher  # nothing changed: the same index
    router.routes.reverse()
    answers(app, "/a")
    rebuilt = router._matcher
    assert rebuilt is not matcher and rebuilt is not None
    answers(app, "/b", "/c")
    assert router._matcher is rebuilt


# --- routers included while empty (FastAPI's lazy inclusion order) -----------------------------


def test_routes_added_to_a_router_included_empty_answer_before_later_app_routes() -> None:
    app = FastAPI()
    router = APIRouter()
    app.include_router(router)
    app.get("/{x}")(endpoint("app_x"))
    router.get("/items")(endpoint("r_items"))
    assert answers(app, "/items", "/other") == [who("r_items"), who("app_x")]
    assert openapi_paths(app) == ["/items", "/{x}"]


def test_a_router_included_empty_with_prefixes() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/r")
    app.include_router(router, prefix="/p")
    app.get("/p/r/{x}")(endpoint("app_x"))
    router.get("/items")(endpoint("r_items"))
    assert answers(app, "/p/r/items", "/p/r/other") == [who("r_items"), who("app_x")]
    assert openapi_paths(app) == ["/p/r/items", "/p/r/{x}"]


def test_two_routers_included_empty_keep_their_inclusion_order() -> None:
    app = FastAPI()
    first, second = APIRouter(), APIRouter()
    app.include_router(first)
    app.include_router(second)
    app.get("/{x}")(endpoint("app_x"))
    second.get("/c")(endpoint("second_c"))
    first.get("/{y}")(endpoint("first_y"))
    first.get("/d")(endpoint("first_d"))
    assert answers(app, "/c", "/d", "/q") == [who("first_y")] * 3
    assert openapi_paths(app) == ["/{y}", "/d", "/c", "/{x}"]


def test_nested_routers_included_empty() -> None:
    app = FastAPI()
    parent, child = APIRouter(prefix="/p"), APIRouter(prefix="/c")
    parent.include_router(child)
    app.include_router(parent, prefix="/v1")
    app.get("/v1/p/c/{x}")(endpoint("app_x"))
    parent.get("/own")(endpoint("p_own"))
    child.get("/leaf")(endpoint("c_leaf"))
    assert answers(app, "/v1/p/c/leaf", "/v1/p/own", "/v1/p/c/zz") == [
        who("c_leaf"),
        who("p_own"),
        who("app_x"),
    ]
    assert openapi_paths(app) == ["/v1/p/c/leaf", "/v1/p/own", "/v1/p/c/{x}"]


def test_a_router_included_into_an_included_router_later() -> None:
    app = FastAPI()
    parent, child = APIRouter(), APIRouter()
    app.include_router(parent)
    app.get("/{x}")(endpoint("app_x"))
    parent.include_router(child)
    child.get("/leaf")(endpoint("c_leaf"))
    assert answers(app, "/leaf", "/zz") == [who("c_leaf"), who("app_x")]
    assert openapi_paths(app) == ["/leaf", "/{x}"]


def test_three_levels_declared_in_any_order() -> None:
    app = FastAPI()
    a, b, c = APIRouter(prefix="/a"), APIRouter(prefix="/b"), APIRouter(prefix="/c")
    app.include_router(a)
    a.include_router(b)
    app.get("/a/b/c/{x}")(endpoint("app_x"))
    a.get("/b/c/{y}")(endpoint("a_y"))
    b.include_router(c)
    c.get("/leaf")(endpoint("leaf"))
    b.get("/c/{z}")(endpoint("b_z"))
    assert answers(app, "/a/b/c/leaf", "/a/b/c/q") == [who("leaf"), who("b_z")]
    assert openapi_paths(app) == ["/a/b/c/leaf", "/a/b/c/{z}", "/a/b/c/{y}", "/a/b/c/{x}"]


def test_a_router_included_twice_answers_under_both_prefixes_in_order() -> None:
    app = FastAPI()
    router = APIRouter()
    app.include_router(router, prefix="/one")
    app.get("/one/{x}")(endpoint("x1"))
    app.include_router(router, prefix="/two")
    app.get("/two/{x}")(endpoint("x2"))
    router.get("/a")(endpoint("a"))
    assert answers(app, "/one/a", "/two/a", "/one/b") == [who("a"), who("a"), who("x1")]
    assert openapi_paths(app) == ["/one/a", "/one/{x}", "/two/a", "/two/{x}"]


def test_routes_added_to_an_included_router_after_the_first_request() -> None:
    app = FastAPI()
    router = APIRouter()
    router.get("/first")(endpoint("r_first"))
    app.include_router(router)
    app.get("/{x}")(endpoint("app_x"))
    assert answers(app, "/first", "/second") == [who("r_first"), who("app_x")]
    router.get("/second")(endpoint("r_second"))
    router.add_api_route("/third", endpoint("r_third"))
    assert answers(app, "/first", "/second", "/third", "/zz") == [
        who("r_first"),
        who("r_second"),
        who("r_third"),
        who("app_x"),
    ]
    assert openapi_paths(app) == ["/first", "/second", "/third", "/{x}"]


def test_an_inclusion_stays_where_its_routes_were_moved() -> None:
    app = FastAPI()
    router = APIRouter()
    router.get("/a")(endpoint("a"))
    app.include_router(router)
    app.get("/{x}")(endpoint("x"))
    app.router.routes.reverse()
    router.get("/b")(endpoint("b"))
    assert answers(app, "/a", "/b", "/c") == [who("x"), who("x"), who("x")]
    assert openapi_paths(app) == ["/{x}", "/a", "/b"]


def test_clearing_the_app_routes_drops_the_inclusion() -> None:
    app = FastAPI()
    router = APIRouter()
    router.get("/a")(endpoint("a"))
    app.include_router(router)
    assert answers(app, "/a") == [who("a")]
    app.router.routes.clear()
    router.get("/b")(endpoint("b"))
    assert answers(app, "/a", "/b") == [NOT_FOUND, NOT_FOUND]
    assert openapi_paths(app) == []


def test_a_new_app_list_keeps_the_inclusion_position() -> None:
    app = FastAPI()
    router = APIRouter()
    app.include_router(router)
    app.get("/{x}")(endpoint("x"))
    answers(app, "/a")
    app.router.routes = list(app.router.routes)
    router.get("/a")(endpoint("a"))
    assert answers(app, "/a", "/b") == [who("a"), who("x")]


def test_changes_to_an_included_routers_list_are_followed() -> None:
    # FastAPI 0.165 caches an included router's routes until the next route is added to it,
    # so a direct list change shows only then; Hasten follows it at once.
    app = FastAPI()
    router = APIRouter()
    router.get("/{y}")(endpoint("r_y"))
    router.get("/s")(endpoint("r_s"))
    app.include_router(router)
    assert answers(app, "/s") == [who("r_y")]
    router.routes.reverse()
    assert answers(app, "/s") == [who("r_s")]
    assert openapi_paths(app) == ["/s", "/{y}"]
    router.routes.pop()
    assert answers(app, "/s", "/t") == [who("r_s"), NOT_FOUND]
    router.get("/u")(endpoint("r_u"))
    assert answers(app, "/s", "/u") == [who("r_s"), who("r_u")]
    assert openapi_paths(app) == ["/s", "/u"]


def test_plain_routes_mounts_and_websockets_added_later_get_every_prefix() -> None:
    app = FastAPI()
    parent, router = APIRouter(prefix="/p"), APIRouter()
    parent.include_router(router, prefix="/r")
    app.include_router(parent)
    app.get("/p/r/m/{x}")(endpoint("x"))

    def plain(request: Any) -> PlainTextResponse:
        return PlainTextResponse("plain " + request.url.path)

    router.mount("/m", Route("/q", plain))
    router.add_route("/plain", plain)

    @router.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi " + websocket.url.path)
        await websocket.close()

    client = TestClient(app)
    assert client.get("/p/r/m/q").text == "plain /p/r/m/q"
    assert client.get("/p/r/plain").text == "plain /p/r/plain"
    assert client.get("/p/r/m/zz").text == "Not Found"  # the mount matched first
    assert client.get("/plain").status_code == 404
    with client.websocket_connect("/p/r/ws") as websocket:
        assert websocket.receive_text() == "hi /p/r/ws"


def test_an_included_host_keeps_the_prefix() -> None:
    def hosted(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hosted")

    inner = Router(routes=[Route("/items/{item_id}", hosted, name="read_item")])
    router = APIRouter(routes=[Host("{sub}.example.com", inner, name="hosted")])
    app = FastAPI()
    app.include_router(router, prefix="/api")
    client = TestClient(app, base_url="http://api.example.com")
    assert client.get("/api/items/abc").text == "hosted"
    url = app.url_path_for("hosted:read_item", sub="api", item_id="abc")
    assert str(url) == "/api/items/abc"


def test_url_path_for_sees_routes_added_after_inclusion() -> None:
    app = FastAPI()
    router = APIRouter()
    app.include_router(router, prefix="/api")
    router.get("/items/{item_id}", name="read_item")(endpoint("item"))
    assert app.url_path_for("read_item", item_id="abc") == "/api/items/abc"


def test_routes_given_to_the_router_count_as_declared_before_later_ones() -> None:
    router = APIRouter(routes=[Route("/x", lambda request: PlainTextResponse("x"))])
    app = FastAPI()
    app.include_router(router)
    app.get("/{y}")(endpoint("y"))
    router.add_route("/z", lambda request: PlainTextResponse("z"))
    client = TestClient(app)
    assert client.get("/x").text == "x"
    assert client.get("/z").text == "z"


# --- RouteList, without a server -----------------------------------------------------------------


def _plain(request: Any) -> PlainTextResponse:
    return PlainTextResponse(request.url.path)


def _routes(*paths: str) -> list[Route]:
    return [Route(path, _plain) for path in paths]


LIST_OPERATIONS: list[tuple[str, Callable[[RouteList, list[Route]], Any], list[int]]] = [
    ("append", lambda rl, extra: rl.append(extra[0]), [3]),
    ("extend", lambda rl, extra: rl.extend(iter(extra)), [3, 4]),
    ("iadd", lambda rl, extra: rl.__iadd__(extra), [3, 4]),
    ("insert", lambda rl, extra: rl.insert(0, extra[0]), []),
    ("pop", lambda rl, extra: rl.pop(), []),
    ("pop_index", lambda rl, extra: rl.pop(0), []),
    ("remove", lambda rl, extra: rl.remove(rl[1]), []),
    ("clear", lambda rl, extra: rl.clear(), []),
    ("reverse", lambda rl, extra: rl.reverse(), []),
    ("sort", lambda rl, extra: rl.sort(key=lambda r: r.path, reverse=True), []),
    ("setitem", lambda rl, extra: rl.__setitem__(0, extra[0]), []),
    ("setslice", lambda rl, extra: rl.__setitem__(slice(0, 2), extra), []),
    ("delitem", lambda rl, extra: rl.__delitem__(0), []),
    ("delslice", lambda rl, extra: rl.__delitem__(slice(None)), []),
    ("imul", lambda rl, extra: rl.__imul__(2), []),
]


@pytest.mark.parametrize(
    ("operation", "appended"), [(op, added) for _, op, added in LIST_OPERATIONS]
)
def test_every_list_operation_changes_the_version_and_reports_appended_routes(
    operation: Callable[[RouteList, list[Route]], Any], appended: list[int]
) -> None:
    seen: list[list[str]] = []
    routes = RouteList(
        _routes("/0", "/1", "/2"), lambda added: seen.append([r.path for r in added])
    )
    extra = _routes("/3", "/4")
    before = routes.version
    operation(routes, extra)
    assert routes.version != before
    assert seen == [[f"/{i}" for i in appended]]


def test_reading_does_not_change_the_version() -> None:
    routes = RouteList(_routes("/0", "/1"))
    version = routes.version
    assert [r.path for r in routes] == ["/0", "/1"]
    assert routes[0].path == "/0" and len(routes[:1]) == 1 and routes.index(routes[1]) == 1
    assert routes.version == version


def test_iadd_keeps_the_same_list() -> None:
    routes = RouteList(_routes("/0"))
    same = routes
    routes += _routes("/1")
    assert routes is same and [r.path for r in routes] == ["/0", "/1"]


def test_copies_of_a_route_list_do_not_report_to_the_router() -> None:
    seen: list[Any] = []
    routes = RouteList(_routes("/0", "/1"), seen.append)
    for other in (copy.copy(routes), copy.deepcopy(routes)):
        assert isinstance(other, RouteList) and [r.path for r in other] == ["/0", "/1"]
        assert other.version != routes.version
        other.reverse()
    assert seen == [] and [r.path for r in routes] == ["/0", "/1"]


def test_assigning_a_list_to_router_routes_wraps_it() -> None:
    router = APIRouter()
    plain = _routes("/a", "/b")
    router.routes = plain
    assert isinstance(router.routes, RouteList) and router.routes is not plain
    version = router._routes_version
    router.routes.reverse()
    assert router._routes_version > version
    assert [r.path for r in router.routes] == ["/b", "/a"]


# --- the matcher and the table, without a server -------------------------------------------------


def _matcher(*paths: str) -> Matcher:
    return Matcher(_routes(*paths))


def test_matcher_candidates_are_the_routes_that_may_match_in_list_order() -> None:
    matcher = _matcher("/users/{id}", "/users/me", "/items/{id}", "/{a}/{b}", "/files/{p:path}")
    assert matcher.candidates("/users/me") == (0, 1, 3, 4)
    assert matcher.candidates("/items/3") == (2, 3, 4)
    assert matcher.candidates("/nothing") == (4,)
    assert matcher.candidates("/a/b/c") == (4,)


def test_matcher_is_a_snapshot_with_the_lists_version() -> None:
    routes = RouteList(_routes("/a", "/b"))
    matcher = Matcher(routes)
    assert matcher.version == routes.version and matcher.routes == tuple(routes)
    routes.reverse()
    assert matcher.version != routes.version
    assert [r.path for r in matcher.routes] == ["/a", "/b"]  # indexes stay valid


def test_matcher_keeps_the_static_routes_that_win_their_path() -> None:
    matcher = _matcher("/a", "/{x}", "/b")
    assert matcher.route_for("/a", "DELETE") == (matcher.routes[0], None)  # whatever the method
    assert matcher.direct == {"/a": matcher.routes[0]}
    assert matcher.route_for("/b", "GET") == (matcher.routes[1], {"x": "b"})  # /{x} comes first
    assert matcher.route_for("/zz", "GET") == (matcher.routes[1], {"x": "zz"})
    assert matcher.direct == {"/a": matcher.routes[0]}
    assert _matcher("/c/{x}", "/c/d").route_for("/c/d", "GET")[1] == {"x": "d"}
    later = _matcher("/q/{x:int}", "/q/d")  # passed over (no int), then the static one wins
    assert later.route_for("/q/d", "GET") == (later.routes[1], None) and "/q/d" in later.direct
    ws = Matcher([WebSocketRoute("/ws", lambda ws: None)])
    assert ws.route_for("/ws", "GET") == (None, None) and not ws.direct
    mount = Mount("/m", routes=_routes("/q"))
    assert Matcher([mount]).candidates("/m/q") == (0,)


def test_current_matcher_is_rebuilt_only_after_a_change() -> None:
    router = APIRouter(routes=_routes("/a", "/{x}"))
    first = router._current_matcher()
    assert router._current_matcher() is first
    router.routes.insert(0, router.routes.pop())
    second = router._current_matcher()
    assert second is not first
    assert [getattr(r, "path", None) for r in second.routes] == ["/{x}", "/a"]
    router.routes = list(router.routes)
    assert router._current_matcher() is not second


def test_flatten_places_each_inclusion_block_where_it_was_declared() -> None:
    parent = APIRouter()
    first, second = APIRouter(), APIRouter()
    parent.add_route("/own1", lambda request: PlainTextResponse("1"))
    parent.include_router(first)
    parent.add_route("/own2", lambda request: PlainTextResponse("2"))
    parent.include_router(second)
    parent.add_route("/own3", lambda request: PlainTextResponse("3"))
    second.add_route("/s", lambda request: PlainTextResponse("s"))
    first.add_route("/f1", lambda request: PlainTextResponse("f"))
    first.add_route("/f2", lambda request: PlainTextResponse("f"))
    assert not parent._flattened
    parent.flatten()
    assert parent._flattened
    paths = [getattr(r, "path", None) for r in parent.routes]
    assert paths == ["/own1", "/f1", "/f2", "/own2", "/s", "/own3"]
    version = parent.routes.version  # type: ignore[attr-defined]
    parent.flatten()  # nothing changed: the list is left alone
    assert parent.routes.version == version  # type: ignore[attr-defined]
    first.routes.reverse()
    parent.flatten()
    assert [getattr(r, "path", None) for r in parent.routes][1:3] == ["/f2", "/f1"]


def test_copies_are_made_once_per_included_route() -> None:
    parent, child = APIRouter(), APIRouter()
    child.get("/a")(endpoint("a"))
    parent.include_router(child, prefix="/c")
    copied = parent.routes[0]
    child.get("/b")(endpoint("b"))
    parent.flatten()
    assert parent.routes[0] is copied
    assert [getattr(r, "path", None) for r in parent.routes] == ["/c/a", "/c/b"]
    assert getattr(copied, ORIGINAL_ATTR) is child.routes[0]


def test_a_copy_taken_out_of_the_parent_stays_out() -> None:
    parent, child = APIRouter(), APIRouter()
    child.get("/a")(endpoint("a"))
    child.get("/b")(endpoint("b"))
    parent.include_router(child)
    parent.routes.pop(0)
    child.get("/c")(endpoint("c"))
    parent.flatten()
    assert [getattr(r, "path", None) for r in parent.routes] == ["/b", "/c"]


def test_flattening_from_several_threads_places_each_copy_once() -> None:
    app = FastAPI()
    router = APIRouter()
    app.include_router(router)
    app.get("/{x}")(endpoint("x"))
    for round_ in range(3):
        for k in range(20):
            router.get(f"/r{round_}_{k}")(endpoint(f"r{round_}_{k}"))
        results: list[Any] = []

        def ask(k: int, round_: int = round_, results: list[Any] = results) -> None:
            with TestClient(app) as client:
                results.append(client.get(f"/r{round_}_{k}").json())

        threads = [threading.Thread(target=ask, args=(k,)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(r["who"] for r in results) == sorted(f"r{round_}_{k}" for k in range(8))
    paths = [getattr(r, "path", None) for r in app.router.routes]
    assert len(paths) == len(set(paths))
    assert paths[-1] == "/{x}" and len(paths) == 4 + 60 + 1


def test_a_router_subclass_may_set_routes_before_the_router_is_set_up() -> None:
    class Early(APIRouter):
        def __init__(self) -> None:
            self.routes = _routes("/early")
            super().__init__(routes=self.routes)

    router = Early()
    app = FastAPI()
    app.include_router(router)
    assert TestClient(app).get("/early").text == "/early"


def test_routes_taken_out_are_not_kept_alive_by_the_table() -> None:
    router = APIRouter()
    for k in range(500):
        router.add_route(f"/r{k}", _plain)
        router.routes.pop()
    assert len(router._declared) <= 64 + 1
    router.add_route("/kept", _plain)
    assert [r for r, _ in router._declared.values()][-1] is router.routes[0]


# --- route options merged level by level -----------------------------------------------------


def test_merge_options_rules() -> None:
    level = {
        "tags": ["outer"],
        "dependencies": ["d_outer"],
        "callbacks": None,
        "responses": {401: {"description": "outer"}, 402: {"description": "outer"}},
        "deprecated": True,
        "include_in_schema": False,
        "response_class": Default(JSONResponse),
        "generate_unique_id_function": Default(generate_unique_id),
        "strict_content_type": False,
        "max_body_size": 10,
        "form_limits": {"max_files": 1, "max_fields": 2},
    }
    options = {
        "tags": ["inner"],
        "dependencies": ["d_inner"],
        "responses": {402: {"description": "inner"}},
        "response_class": HTMLResponse,
        "form_limits": {"max_fields": 5},
        "summary": "kept",
    }
    merged = merge_options(level, options)
    assert merged == {
        "tags": ["outer", "inner"],
        "dependencies": ["d_outer", "d_inner"],
        "callbacks": [],
        "responses": {401: {"description": "outer"}, 402: {"description": "inner"}},
        "deprecated": True,
        "include_in_schema": False,
        "response_class": HTMLResponse,
        "generate_unique_id_function": level["generate_unique_id_function"],
        "strict_content_type": False,
        "max_body_size": 10,
        "form_limits": {"max_files": 1, "max_fields": 5},
        "summary": "kept",
    }
    assert merge_options({"max_body_size": 10}, {"max_body_size": 3})["max_body_size"] == 3
    assert merge_options({}, {"tags": ["t"]}) == {"tags": ["t"]}
    placeholder = merge_options({"response_class": Default(JSONResponse)}, {})["response_class"]
    assert isinstance(placeholder, DefaultPlaceholder)
    assert set(MERGED) >= {name for name in level}


def test_settings_merge_from_the_route_out_through_nested_inclusions() -> None:
    inner = APIRouter(prefix="/in", tags=["inner"], default_response_class=HTMLResponse)
    outer = APIRouter(prefix="/out", tags=["outer"], responses={418: {"description": "tea"}})
    inner.get("/x", tags=["route"], response_class=PlainTextResponse)(endpoint("x"))
    inner.get("/y")(endpoint("y"))
    outer.include_router(inner, tags=["include1"], deprecated=True)
    app = FastAPI()
    app.include_router(outer, prefix="/api", tags=["include2"])
    routes = {r.path: r for r in app.routes if isinstance(r, APIRoute)}
    x, y = routes["/api/out/in/x"], routes["/api/out/in/y"]
    assert x.tags == ["include2", "outer", "include1", "inner", "route"]
    assert x.response_class is PlainTextResponse and y.response_class is HTMLResponse
    assert x.deprecated is True and 418 in x.responses
    operation = app.openapi()["paths"]["/api/out/in/x"]["get"]
    assert operation["tags"] == ["include2", "outer", "include1", "inner", "route"]


def test_matcher_route_for_only_when_the_generic_matching_would_agree() -> None:
    matcher = _matcher("/users/{id:int}", "/users/{name}", "/files/{p:path}")
    route, params = matcher.route_for("/users/7", "GET")
    assert route is matcher.routes[0] and params == {"id": 7}  # converted, as Starlette does
    route, params = matcher.route_for("/users/ann", "GET")  # no int: the next one
    assert route is matcher.routes[1] and params == {"name": "ann"}
    assert matcher.route_for("/files/a/b", "GET")[1] == {"p": "a/b"}
    assert matcher.route_for("/users/7", "DELETE") == (None, None)  # partial: generic
    assert matcher.route_for("/nothing/here", "GET") == (None, None)
    everything = Route("/any/{x}", PlainTextResponse("x"))  # an ASGI app: every method
    assert Matcher([everything]).route_for("/any/1", "GET") == (None, None)

    class Custom(Route):
        def matches(self, scope: Any) -> Any:
            return super().matches(scope)

    custom = Custom("/c/{x}", lambda request: PlainTextResponse("c"))
    assert Matcher([custom]).route_for("/c/1", "GET") == (None, None)
    mounted = Matcher([Mount("/m", routes=_routes("/{x}")), *_routes("/m/{y}")])
    assert mounted.route_for("/m/1", "GET") == (None, None)  # a mount comes first


def test_path_templates_answer_as_starlettes_matching() -> None:
    """Requests the shortcut takes and those it leaves to the generic matching get FastAPI's
    answers: converted parameters, the first full match among partial ones, 405s naming the
    methods, custom route classes and mounts with parameters of their own."""
    calls: list[str] = []

    class LoggedRoute(APIRoute):
        def matches(self, scope: Any) -> Any:
            calls.append(scope["path"])
            return super().matches(scope)

    app = FastAPI()
    app.post("/items/{item_id}")(lambda item_id: {"post": item_id})
    app.get("/items/{item_id}")(lambda item_id: {"get": item_id})
    app.get("/numbers/{n:int}")(lambda n: {"n": n})
    app.get("/numbers/{word}")(lambda word: {"word": word})
    logged = APIRouter(route_class=LoggedRoute)
    logged.get("/logged/{x}")(lambda x: {"x": x})
    app.include_router(logged)
    users = APIRouter()

    @users.get("/orders/{order_id}")
    def order(request: Request) -> dict[str, Any]:
        return dict(request.path_params)

    sub = FastAPI()
    sub.include_router(users)
    app.mount("/users/{user_id}", sub)
    client = TestClient(app)
    assert client.get("/items/3").json() == {"get": "3"}  # after a partial match
    assert client.post("/items/3").json() == {"post": "3"}
    put = client.put("/items/3")
    assert put.status_code == 405 and put.headers["allow"] == "POST"  # the first partial's
    assert client.get("/numbers/12").json() == {"n": 12}
    assert client.get("/numbers/twelve").json() == {"word": "twelve"}
    assert client.get("/logged/1").json() == {"x": "1"} and calls == ["/logged/1"]
    # the mount's parameters and the route's, merged as Starlette merges them
    assert client.get("/users/5/orders/9").json() == {"user_id": "5", "order_id": "9"}
    assert client.get("/nope/1").status_code == 404
