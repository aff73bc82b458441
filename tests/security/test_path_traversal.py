"""StaticFiles and ``app.frontend()`` never serve a file outside their folder.

Over real files in ``tmp_path`` (a secret beside the served folder, a sibling folder whose name
starts with the served folder's, symlinks inside the folder pointing out of it to a file and to a
directory), every traversal spelling — ``..``, ``%2e%2e``, encoded slashes ``%2f``/``%5c``,
double encoding, backslashes, absolute paths, ``//``, NUL bytes, overlong names, dot segments
after a real directory — answers 404 and never the secret's bytes, for ``Hasten`` and
``FastAPI``, over raw ASGI scopes (the path as a server decodes it, and also as given) and
through httpx. Files inside the folder are still served, so the refusals are not a broken mount.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote

import pytest
from security_support import raw_request

from hasten import FastAPI, Hasten
from hasten.staticfiles import StaticFiles
from hasten.testclient import TestClient

SECRET = b"TOP-SECRET-do-not-serve-7f3a"

# Paths under the served prefix, as a client would put them on the request line.
ATTACKS = [
    "../secret.txt",
    "../../secret.txt",
    "sub/../../secret.txt",
    "sub/../../../secret.txt",
    "%2e%2e/secret.txt",
    "%2E%2E/secret.txt",
    ".%2e/secret.txt",
    "%2e./secret.txt",
    "..%2fsecret.txt",
    "..%2Fsecret.txt",
    "%2e%2e%2fsecret.txt",
    "sub%2f..%2f..%2fsecret.txt",
    "%252e%252e/secret.txt",
    "%252e%252e%252fsecret.txt",
    "..%252fsecret.txt",
    "..\\secret.txt",
    "..%5csecret.txt",
    "sub\\..\\..\\secret.txt",
    "%2e%2e%5csecret.txt",
    "/" + "{tmp}/secret.txt",
    "//{tmp}/secret.txt",
    "%2f{tmp}/secret.txt",
    "..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc/passwd",
    "link_out.txt",
    "link_dir_out/secret.txt",
    "sub/link_up/secret.txt",
    "../served_evil/secret.txt",
    "..%2fserved_evil%2fsecret.txt",
    "secret.txt%00",
    "%00../secret.txt",
    "x" * 5000,
    "sub/" + "../" * 40 + "secret.txt",
    "./../secret.txt",
    "sub/./../../secret.txt",
    ";/../secret.txt",
    "..;/secret.txt",
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp/served (the folder), tmp/secret.txt, tmp/private/secret.txt, tmp/served_evil/."""
    served = tmp_path / "served"
    (served / "sub").mkdir(parents=True)
    (served / "index.html").write_bytes(b"<h1>shell</h1>")
    (served / "a.txt").write_bytes(b"public a")
    (served / "sub" / "b.txt").write_bytes(b"public b")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.txt").write_bytes(SECRET)
    (tmp_path / "served_evil").mkdir()
    (tmp_path / "served_evil" / "secret.txt").write_bytes(SECRET)
    os.symlink(tmp_path / "secret.txt", served / "link_out.txt")
    os.symlink(tmp_path / "private", served / "link_dir_out")
    os.symlink(tmp_path, served / "sub" / "link_up")
    return tmp_path


def _attacks(tmp: Path, prefix: str) -> list[str]:
    base = prefix.rstrip("/")
    return [f"{base}/{a.replace('{tmp}', str(tmp).lstrip('/'))}" for a in ATTACKS]


def _apps(cls: type[Hasten], tmp: Path, fallback: str | None) -> Hasten:
    app = cls()

    @app.get("/api/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    app.mount("/static", StaticFiles(directory=tmp / "served"), name="static")
    app.frontend("/app", directory=tmp / "served", fallback=fallback)  # type: ignore[arg-type]
    return app


PREFIXES = ["/static", "/app"]


def _check(status: int, body: bytes, where: str) -> None:
    assert SECRET not in body, where
    assert b"root:" not in body, where
    assert status == 404, (status, where)


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_files_inside_are_served(cls: type[Hasten], tree: Path) -> None:
    app = _apps(cls, tree, None)
    with TestClient(app) as client:
        for prefix in PREFIXES:
            assert client.get(f"{prefix}/a.txt").content == b"public a"
            assert client.get(f"{prefix}/sub/b.txt").content == b"public b"
            assert client.get(f"{prefix}/sub/../a.txt").content == b"public a"


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
@pytest.mark.parametrize("fallback", [None, "404.html"])
def test_raw_asgi_traversal(cls: type[Hasten], fallback: str | None, tree: Path) -> None:
    if fallback == "404.html":
        (tree / "served" / "404.html").write_bytes(b"not here")
    app = _apps(cls, tree, fallback)
    for prefix in PREFIXES:
        for raw in _attacks(tree, prefix):
            # As a server gives it: ``path`` percent-decoded once, ``raw_path`` as sent.
            decoded = unquote(raw)
            for path in (decoded, raw):
                response = raw_request(app, path, raw_path=raw.encode("latin-1", "replace"))
                where = f"{cls.__name__} {path[:80]!r}"
                assert SECRET not in response.body, where
                if prefix == "/app" and fallback == "404.html":
                    assert response.status == 404, where
                    assert response.body in (b"not here", b'{"detail":"Not Found"}'), where
                else:
                    _check(response.status, response.body, where)


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_spa_fallback_serves_the_shell_not_the_secret(cls: type[Hasten], tree: Path) -> None:
    app = _apps(cls, tree, "index.html")
    for raw in _attacks(tree, "/app"):
        response = raw_request(
            app, unquote(raw), raw_path=raw.encode(), headers=[(b"accept", b"text/html")]
        )
        assert SECRET not in response.body, raw
        outcome = (response.status, response.body)
        if "%00" in raw or len(raw) > 4096:  # an unreadable name: no lookup, plain 404
            assert outcome == (404, b'{"detail":"Not Found"}'), raw[:80]
        else:
            assert outcome == (200, b"<h1>shell</h1>"), raw[:80]


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_httpx_traversal(cls: type[Hasten], tree: Path) -> None:
    app = _apps(cls, tree, None)
    with TestClient(app) as client:
        for prefix in PREFIXES:
            for url in _attacks(tree, prefix):
                if "\x00" in unquote(url) or "%00" in url:
                    continue  # httpx refuses to send these; the raw test covers them
                response = client.get(url)
                assert SECRET not in response.content, url[:80]
                # httpx removes dot segments before sending: "../x" may become another path
                # under (or beside) the prefix, which must be a 404 or a public file too.
                assert response.status_code in (200, 404), (response.status_code, url[:80])
                if response.status_code == 200:
                    assert response.content in (b"public a", b"public b", b'{"ok":"yes"}'), url[:80]


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_symlink_followed_only_inside(cls: type[Hasten], tree: Path) -> None:
    """A link that stays inside the folder is served; one that leaves it is not."""
    os.symlink(tree / "served" / "a.txt", tree / "served" / "link_in.txt")
    app = _apps(cls, tree, None)
    with TestClient(app) as client:
        for prefix in PREFIXES:
            assert client.get(f"{prefix}/link_in.txt").content == b"public a"
            assert client.get(f"{prefix}/link_out.txt").status_code == 404
            assert client.get(f"{prefix}/link_dir_out/secret.txt").status_code == 404
