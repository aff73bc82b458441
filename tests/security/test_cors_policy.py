"""CORS: credentialed wildcard origins are refused by ``Hasten``; unlisted origins get no grant.

Proves that ``Hasten`` raises ``UnsafeCORSConfigurationError`` for ``allow_credentials=True``
with ``allow_origins=["*"]`` (or a regex matching any origin) when the middleware is added,
when it is given to the constructor and when the stack is built from a list changed by hand;
that ``FastAPI`` keeps Starlette's behaviour and logs exactly one warning per stack build; that
safe configurations are accepted silently by both; and that an origin not on the list gets no
``Access-Control-Allow-Origin`` on simple and preflight requests.
"""

from __future__ import annotations

import logging

import pytest
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware as StarletteCORS

from hasten import FastAPI, Hasten
from hasten.middleware.cors import CORSMiddleware, UnsafeCORSConfigurationError
from hasten.testclient import TestClient

UNSAFE = [
    {"allow_origins": ["*"], "allow_credentials": True},
    {"allow_origins": ["https://a.example", "*"], "allow_credentials": True},
    {"allow_origin_regex": ".*", "allow_credentials": True},
    {"allow_origin_regex": r"https?://.*", "allow_credentials": True},
]
SAFE = [
    {"allow_origins": ["*"]},  # no credentials: browsers send no cookies
    {"allow_origins": ["https://a.example"], "allow_credentials": True},
    {"allow_origin_regex": r"https://[a-z]+\.a\.example", "allow_credentials": True},
]


def _app(cls: type[Hasten]) -> Hasten:
    app = cls()

    @app.get("/")
    def root() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def test_fastapi_import_path_is_starlettes_class() -> None:
    # ``fastapi.middleware.cors`` is this module under the alias: Starlette's class, unchanged.
    assert CORSMiddleware is StarletteCORS


@pytest.mark.parametrize("options", UNSAFE)
def test_hasten_refuses_in_add_middleware(options: dict[str, object]) -> None:
    app = _app(Hasten)
    with pytest.raises(UnsafeCORSConfigurationError, match="allow_credentials=True"):
        app.add_middleware(CORSMiddleware, **options)  # type: ignore[arg-type]
    assert app.user_middleware == []


@pytest.mark.parametrize("options", UNSAFE)
def test_hasten_refuses_in_constructor(options: dict[str, object]) -> None:
    with pytest.raises(UnsafeCORSConfigurationError):
        Hasten(middleware=[Middleware(CORSMiddleware, **options)])  # type: ignore[arg-type]


def test_hasten_refuses_positional_arguments_and_subclasses() -> None:
    class MyCORS(StarletteCORS):
        pass

    app = _app(Hasten)
    with pytest.raises(UnsafeCORSConfigurationError, match=r'allow_origins contains "\*"'):
        app.add_middleware(MyCORS, ["*"], ("GET",), (), True)


def test_hasten_refuses_at_stack_build_and_startup() -> None:
    app = _app(Hasten)
    # A list changed by hand is only seen when the stack is built: the first request fails.
    app.user_middleware.append(
        Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
    )
    with pytest.raises(UnsafeCORSConfigurationError):
        with TestClient(app) as client:
            client.get("/")


@pytest.mark.parametrize("options", UNSAFE)
def test_fastapi_keeps_starlette_behaviour_with_one_warning(
    options: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(FastAPI)
    app.add_middleware(CORSMiddleware, **options)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="hasten"):
        with TestClient(app) as client:
            for _ in range(3):
                response = client.get("/", headers={"Origin": "https://any.example"})
                assert response.status_code == 200
    # Starlette's answer: the origin echoed, with credentials.
    assert response.headers["access-control-allow-origin"] == "https://any.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    warnings = [r for r in caplog.records if r.name == "hasten" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "allow_credentials=True" in warnings[0].getMessage()


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
@pytest.mark.parametrize("options", SAFE)
def test_safe_configurations_accepted_silently(
    cls: type[Hasten], options: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(cls)
    app.add_middleware(CORSMiddleware, **options)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="hasten"):
        with TestClient(app) as client:
            assert client.get("/").status_code == 200
    assert [r for r in caplog.records if r.name == "hasten"] == []


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
@pytest.mark.parametrize("credentials", [False, True])
def test_unlisted_origins_get_no_grant(cls: type[Hasten], credentials: bool) -> None:
    app = _app(cls)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://shop.example"],
        allow_credentials=credentials,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    foreign = [
        "https://evil.example",
        "https://shop.example.evil.example",
        "https://evilshop.example",
        "http://shop.example",  # another scheme is another origin
        "https://shop.example:8443",
        "null",
        "",
    ]
    with TestClient(app) as client:
        allowed = client.get("/", headers={"Origin": "https://shop.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        for origin in foreign:
            simple = client.get("/", headers={"Origin": origin})
            assert simple.status_code == 200  # the request runs; the browser hides the answer
            assert "access-control-allow-origin" not in simple.headers, origin
            assert "access-control-allow-credentials" not in simple.headers or credentials
            preflight = client.options(
                "/",
                headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            )
            assert preflight.status_code == 400, origin
            assert preflight.headers.get("access-control-allow-origin") != origin
            assert preflight.text == "Disallowed CORS origin"
