"""Errors disclose nothing: no traceback unless ``debug=True``, no secret in bodies or logs.

Proves, for ``Hasten`` and ``FastAPI``: an endpoint, a dependency and a middleware that raise
(with a secret in the exception's message and in a local variable) answer ``500 Internal
Server Error`` as plain text without the secret, the exception's text or a traceback, and the
answer is the same whatever the client asks for (``Accept: text/html``); with ``debug=True``
the traceback is shown (so the check above is not vacuous). The ``Authorization`` header and
the cookie of a request never appear in any log record Hasten or the server middleware
writes (including the logged traceback), and a failed login's 422 does not echo the password.
"""

from __future__ import annotations

import logging
import traceback
from typing import Annotated

import pytest
from starlette.middleware.base import BaseHTTPMiddleware

from hasten import Depends, FastAPI, Form, Hasten, Request
from hasten.security import OAuth2PasswordRequestForm
from hasten.testclient import TestClient

SECRET = "s3cr3t-jwt-signing-key-4b1d"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLW9mLXRoZS1zZWNyZXQ"
PASSWORD = "hunter2-correct-horse"


def _app(cls: type[Hasten], debug: bool) -> Hasten:
    app = cls(debug=debug)

    def failing_dependency() -> None:
        signing_key = SECRET  # noqa: F841 - a local a traceback page could show
        raise RuntimeError(f"cannot load key {SECRET}")

    @app.get("/endpoint")
    def endpoint() -> None:
        raise RuntimeError(f"database password is {SECRET}")

    @app.get("/dependency", dependencies=[Depends(failing_dependency)])
    def with_dependency() -> None:
        return None

    @app.get("/ok")
    def ok() -> dict[str, str]:
        return {"ok": "yes"}

    @app.post("/login")
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
        return {"user": form.username}

    @app.post("/register")
    def register(username: Annotated[str, Form(min_length=3)], password: Annotated[str, Form()]):
        return {"user": username}

    async def explode(request: Request, call_next: object) -> None:
        if request.url.path == "/middleware":
            raise ValueError(f"middleware saw {SECRET}")
        return await call_next(request)  # type: ignore[operator, no-any-return]

    app.add_middleware(BaseHTTPMiddleware, dispatch=explode)
    return app


FAILING = ["/endpoint", "/dependency", "/middleware"]
CREDENTIALS = {"Authorization": f"Bearer {TOKEN}", "Cookie": f"session={TOKEN}"}


def _log_text(records: list[logging.LogRecord]) -> str:
    parts = []
    for record in records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_500_without_debug_discloses_nothing(
    cls: type[Hasten], caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(cls, debug=False)
    with caplog.at_level(logging.DEBUG):
        with TestClient(app, raise_server_exceptions=False) as client:
            for path in FAILING:
                for accept in ("application/json", "text/html", "*/*"):
                    response = client.get(path, headers={**CREDENTIALS, "Accept": accept})
                    assert response.status_code == 500, path
                    assert response.text == "Internal Server Error", (path, response.text)
                    assert response.headers["content-type"].startswith("text/plain")
                    assert SECRET not in str(response.headers)
    assert TOKEN not in _log_text(caplog.records)


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_500_with_debug_shows_the_traceback(cls: type[Hasten]) -> None:
    app = _app(cls, debug=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in FAILING:
            plain = client.get(path, headers={"Accept": "text/plain"})
            assert plain.status_code == 500
            assert (
                "Traceback" in plain.text
                and "RuntimeError" in plain.text
                or ("ValueError" in plain.text)
            ), path
            html = client.get(path, headers={"Accept": "text/html"})
            assert html.status_code == 500 and "<html>" in html.text.lower(), path


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_credentials_are_not_logged(cls: type[Hasten], caplog: pytest.LogCaptureFixture) -> None:
    app = _app(cls, debug=False)
    with caplog.at_level(logging.DEBUG):
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/ok", headers=CREDENTIALS).status_code == 200
            assert client.get("/missing", headers=CREDENTIALS).status_code == 404
            assert client.post("/login", headers=CREDENTIALS, data={}).status_code == 422
            assert client.get("/endpoint", headers=CREDENTIALS).status_code == 500
    text = _log_text(caplog.records)
    assert TOKEN not in text
    assert "Bearer" not in text


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_failed_login_422_does_not_echo_the_password(cls: type[Hasten]) -> None:
    app = _app(cls, debug=False)
    with TestClient(app) as client:
        cases = [
            {"password": PASSWORD},  # username missing
            {"password": PASSWORD, "username": ""},
            {"password": PASSWORD, "username": "u", "grant_type": "implicit"},
            {"password": PASSWORD, "scope": "admin"},
        ]
        for data in cases:
            response = client.post("/login", data=data)
            if response.status_code == 200:
                continue  # accepted (the form is lenient on grant_type): nothing echoed in error
            assert response.status_code == 422, response.text
            assert PASSWORD not in response.text, data
            assert [e["loc"] for e in response.json()["detail"]] != [["body", "password"]]
        # A register form whose only invalid field is the username: the password stays out.
        response = client.post("/register", data={"username": "x", "password": PASSWORD})
        assert response.status_code == 422
        assert PASSWORD not in response.text
