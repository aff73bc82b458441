"""``app.frontend()`` / ``router.frontend()``: a built frontend served after every other route."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import NoMatchFound

from hasten import APIRouter, BackgroundTasks, Depends, FastAPI, Hasten, HTTPException, Response
from hasten.exceptions import HastenError
from hasten.requests import Request
from hasten.staticfiles import StaticFiles
from hasten.testclient import TestClient
from hasten.websockets import WebSocket

HTML = {"accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


def build(root: Path, files: dict[str, str]) -> Path:
    """Write a fake frontend build under ``root``."""
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    return build(
        tmp_path / "dist",
        {"index.html": "shell", "assets/app.js": "js()", "about/index.html": "about"},
    )


# --- files ------------------------------------------------------------------------------------


def test_files_are_served_with_validators_and_conditional_requests(dist: Path) -> None:
    app = FastAPI()
    app.frontend("/", directory=dist)
    client = TestClient(app)

    response = client.get("/assets/app.js")
    assert response.status_code == 200
    assert response.text == "js()"
    assert "javascript" in response.headers["content-type"]
    etag = response.headers["etag"]
    assert response.headers["last-modified"]
    again = client.get("/assets/app.js", headers={"if-none-match": etag})
    assert again.status_code == 304
    head = client.head("/assets/app.js")
    assert (head.status_code, head.text, head.headers["content-length"]) == (200, "", "4")


def test_root_and_directory_index_and_slash_redirect(dist: Path) -> None:
    app = FastAPI()
    app.frontend("/", directory=dist)
    client = TestClient(app)

    assert client.get("/").text == "shell"
    redirect = client.get("/about", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://testserver/about/"
    assert client.get("/about/").text == "about"


def test_api_routes_and_their_errors_win_over_files(tmp_path: Path) -> None:
    root = build(tmp_path / "dist", {"index.html": "shell", "api/items": "file"})
    app = FastAPI()

    @app.get("/api/items")
    def items() -> list[int]:
        return [1]

    @app.get("/api/missing")
    def missing() -> None:
        raise HTTPException(status_code=404, detail="no such item")

    app.frontend("/", directory=root, fallback="index.html")
    client = TestClient(app)

    assert client.get("/api/items", headers=HTML).json() == [1]
    assert client.post("/api/items").status_code == 405  # the API route's 405
    response = client.get("/api/missing", headers=HTML)
    assert (response.status_code, response.json()) == (404, {"detail": "no such item"})


def test_other_methods_get_405_on_files_and_404_elsewhere(dist: Path) -> None:
    app = FastAPI()
    app.frontend("/", directory=dist, fallback="index.html")
    client = TestClient(app)

    assert client.post("/assets/app.js").status_code == 405
    assert client.put("/about/").status_code == 405
    assert client.delete("/dashboard", headers=HTML).status_code == 404


def test_paths_cannot_leave_the_directory(tmp_path: Path) -> None:
    root = build(tmp_path / "dist", {"index.html": "shell"})
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    app = FastAPI()
    app.frontend("/", directory=root, fallback=None)
    client = TestClient(app)

    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/link.txt"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "secret" not in response.text


# --- fallbacks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("text/html", 200),
        ("application/xhtml+xml", 200),
        ("text/html; charset=utf-8; q=0.5", 200),
        ("text/html; q=nonsense", 200),
        ("text/html; q=0", 404),
        ("text/html;q=0, */*", 404),
        ("*/*", 404),
        ("application/json", 404),
        ("", 404),
    ],
)
def test_index_fallback_only_for_requests_that_accept_html(
    dist: Path, accept: str, status: int
) -> None:
    app = FastAPI()
    app.frontend("/", directory=dist, fallback="index.html")

    response = TestClient(app).get("/settings/profile", headers={"accept": accept})

    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": "Not Found"}
    else:
        assert response.text == "shell"


def test_404_page_fallback_and_auto(tmp_path: Path) -> None:
    both = build(tmp_path / "both", {"index.html": "shell", "404.html": "gone"})
    only_index = build(tmp_path / "index", {"index.html": "shell"})
    empty = build(tmp_path / "empty", {})
    app = FastAPI()
    app.frontend("/both", directory=both)  # auto: 404.html first
    app.frontend("/index", directory=only_index)  # auto: then index.html
    app.frontend("/empty", directory=empty)
    app.frontend("/none", directory=only_index, fallback=None)
    client = TestClient(app)

    missing = client.get("/both/x.js")
    assert (missing.status_code, missing.text) == (404, "gone")
    assert client.get("/index/dashboard", headers=HTML).text == "shell"
    assert client.get("/empty/dashboard", headers=HTML).json() == {"detail": "Not Found"}
    assert client.get("/none/dashboard", headers=HTML).status_code == 404


# --- prefixes and routers ---------------------------------------------------------------------


def test_longest_prefix_wins_and_prefixes_match_whole_segments(tmp_path: Path) -> None:
    site = build(tmp_path / "site", {"index.html": "site"})
    admin = build(tmp_path / "admin", {"index.html": "admin"})
    app = FastAPI()
    app.frontend("/", directory=site, fallback="index.html")
    app.frontend("/admin/", directory=admin, fallback="index.html")
    client = TestClient(app)

    assert client.get("/admin/users", headers=HTML).text == "admin"
    assert client.get("/administrator", headers=HTML).text == "site"


def test_router_prefixes_and_nested_includes(dist: Path) -> None:
    child = APIRouter(prefix="/inner")
    child.frontend("/ui", directory=dist, fallback="index.html")
    parent = APIRouter()
    parent.include_router(child, prefix="/child")
    app = FastAPI()
    app.include_router(parent, prefix="/parent")
    client = TestClient(app)

    assert client.get("/parent/child/inner/ui/assets/app.js").text == "js()"
    assert client.get("/parent/child/inner/ui/deep/link", headers=HTML).text == "shell"
    assert client.get("/child/inner/ui/assets/app.js").status_code == 404


def test_url_path_for_ignores_frontends(dist: Path) -> None:
    frontend = APIRouter()
    frontend.frontend("/", directory=dist)
    app = FastAPI()
    app.include_router(frontend, prefix="/app")

    @app.get("/api", name="read_api")
    def read_api() -> str:
        return "api"

    assert app.url_path_for("read_api") == "/api"
    assert app.router._frontend_routes is None  # the frontend stays with its own router
    group = frontend._frontend_routes
    assert group is not None
    with pytest.raises(NoMatchFound):
        group.url_path_for("anything")
    assert TestClient(app).get("/api").json() == "api"


def test_routes_added_to_an_included_router_later_win_over_its_frontend(dist: Path) -> None:
    router = APIRouter()
    router.frontend("/", directory=dist, fallback="index.html")
    parent = APIRouter()
    parent.include_router(router, prefix="/app")
    app = FastAPI()
    app.include_router(parent)
    client = TestClient(app)
    assert client.get("/app/dashboard", headers=HTML).text == "shell"

    @router.get("/dashboard")
    def dashboard() -> dict[str, str]:
        return {"source": "api"}

    assert client.get("/app/dashboard", headers=HTML).json() == {"source": "api"}
    assert client.get("/app/other", headers=HTML).text == "shell"


def test_starlette_routes_and_mounts_added_later_are_served_too(dist: Path) -> None:
    router = APIRouter()
    app = FastAPI()
    app.include_router(router, prefix="/late")
    client = TestClient(app)
    assert client.get("/late/plain").status_code == 404

    @router.route("/plain")
    async def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse("plain")

    @router.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("late ws")
        await websocket.close()

    router.mount("/files", StaticFiles(directory=dist))

    assert client.get("/late/plain").text == "plain"
    assert client.get("/late/files/assets/app.js").text == "js()"
    with client.websocket_connect("/late/ws") as websocket:
        assert websocket.receive_text() == "late ws"


def test_a_custom_default_app_still_answers_what_no_frontend_serves(dist: Path) -> None:
    async def default(scope, receive, send):  # type: ignore[no-untyped-def]
        await PlainTextResponse("custom default", status_code=404)(scope, receive, send)

    router = APIRouter(default=default)
    router.frontend("/app", directory=dist, fallback=None)
    client = TestClient(router)

    assert client.get("/app/assets/app.js").text == "js()"
    assert client.get("/elsewhere").text == "custom default"


def test_root_path_and_websockets_are_unaffected(dist: Path) -> None:
    app = FastAPI()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("ws")
        await websocket.close()

    app.frontend("/app", directory=dist)

    assert TestClient(app, root_path="/proxy").get("/app/assets/app.js").text == "js()"
    with TestClient(app).websocket_connect("/ws") as websocket:
        assert websocket.receive_text() == "ws"


def test_frontends_are_not_in_the_openapi_document(dist: Path) -> None:
    app = FastAPI()

    @app.get("/api")
    def api() -> dict[str, bool]:
        return {"ok": True}

    app.frontend("/", directory=dist)

    assert set(TestClient(app).get("/openapi.json").json()["paths"]) == {"/api"}


# --- dependencies and limits ------------------------------------------------------------------


def test_dependencies_run_in_include_order_and_only_for_the_chosen_frontend(dist: Path) -> None:
    calls: list[str] = []

    def record(name: str):  # type: ignore[no-untyped-def]
        def dependency() -> None:
            calls.append(name)

        return dependency

    child = APIRouter(dependencies=[Depends(record("child"))])
    child.frontend("/", directory=dist)
    other = APIRouter(dependencies=[Depends(record("other"))])
    other.frontend("/", directory=dist)
    parent = APIRouter(dependencies=[Depends(record("parent"))])
    parent.include_router(child, prefix="/c", dependencies=[Depends(record("parent-include"))])
    app = FastAPI(dependencies=[Depends(record("app"))])
    app.include_router(parent, prefix="/p", dependencies=[Depends(record("app-include"))])
    app.include_router(other, prefix="/other")

    @app.get("/p/c/api")
    def api() -> str:
        calls.append("endpoint")
        return "api"

    client = TestClient(app)
    assert client.get("/p/c/").text == "shell"
    assert calls == ["app", "app-include", "parent", "parent-include", "child"]
    calls.clear()
    assert client.get("/p/c/api").json() == "api"
    assert calls == ["app", "endpoint"]  # the API route's own dependencies only


def test_dependencies_guard_files_and_can_set_headers_and_tasks(dist: Path) -> None:
    done: list[str] = []

    def session(request: Request, response: Response, tasks: BackgroundTasks) -> None:
        if request.cookies.get("session") != "ok":
            raise HTTPException(status_code=401, detail="log in")
        response.headers["x-checked"] = "yes"
        response.set_cookie("seen", "1")
        tasks.add_task(done.append, request.url.path)

    app = FastAPI(dependencies=[Depends(session)])
    app.frontend("/", directory=dist, fallback="index.html")
    client = TestClient(app)

    denied = client.get("/assets/app.js")
    assert (denied.status_code, denied.json()) == (401, {"detail": "log in"})
    client.cookies.set("session", "ok")
    response = client.get("/dashboard", headers=HTML)
    assert (response.status_code, response.text) == (200, "shell")
    assert response.headers["x-checked"] == "yes"
    assert response.cookies["seen"] == "1"
    assert done == ["/dashboard"]


def test_dependency_overrides_and_validation_errors(dist: Path) -> None:
    def token(token: str) -> None:
        raise AssertionError("overridden, never called")

    app = FastAPI(dependencies=[Depends(token)])
    app.frontend("/", directory=dist)
    client = TestClient(app)

    response = client.get("/")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "token"]
    app.dependency_overrides[token] = lambda: None
    assert client.get("/").text == "shell"


def test_each_inclusion_keeps_its_body_limit(dist: Path) -> None:
    router = APIRouter()
    router.frontend("/", directory=dist)
    app = FastAPI()
    app.include_router(router, prefix="/tight", max_body_size=0)
    app.include_router(router, prefix="/loose", max_body_size=10)
    client = TestClient(app)

    tight = client.request("GET", "/tight/assets/app.js", content=b"x")
    assert (tight.status_code, tight.text) == (413, "Content Too Large")  # one whole answer
    assert client.request("GET", "/loose/assets/app.js", content=b"x").text == "js()"


def test_hasten_app_serves_frontends_too(dist: Path) -> None:
    app = Hasten()
    app.frontend("/", directory=dist, fallback="index.html")

    assert TestClient(app).get("/deep/link", headers=HTML).text == "shell"


# --- declaration errors -----------------------------------------------------------------------


def test_invalid_declarations_are_rejected(tmp_path: Path, dist: Path) -> None:
    app = FastAPI()
    with pytest.raises(AssertionError, match="start with '/'"):
        app.frontend("app", directory=dist)
    with pytest.raises(AssertionError, match="cannot be empty"):
        app.frontend("", directory=dist)
    with pytest.raises(AssertionError, match="fallback"):
        app.frontend("/", directory=dist, fallback="500.html")  # type: ignore[arg-type]
    with pytest.raises(HastenError, match="does not exist") as missing:
        app.frontend("/", directory=tmp_path / "nope")
    assert str(tmp_path / "nope") in str(missing.value)
    empty = build(tmp_path / "empty", {})
    with pytest.raises(HastenError, match="'404.html' does not exist in directory"):
        app.frontend("/", directory=empty, fallback="404.html")


def test_missing_directory_in_development_warns_and_fails_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HASTEN_ENV", "development")
    app = FastAPI()
    with pytest.warns(UserWarning, match="does not exist") as warned:
        app.frontend("/", directory=tmp_path / "not-built")
    assert warned[0].filename == __file__

    with pytest.raises(RuntimeError, match="does not exist"):
        TestClient(app).get("/index.html")

    build(tmp_path / "not-built", {"index.html": "built later"})
    assert TestClient(app).get("/index.html").text == "built later"
